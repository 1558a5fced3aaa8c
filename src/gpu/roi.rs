//! ROI time series on the GPU (`shaders/roi.wgsl`): per frame and channel the mean, min
//! and max over a rectangle or polygon, as [`crate::ops::roi::roi_series`] computes them
//! with [`Stat::Mean`]. The frames stream in chunks that fit one storage binding; one
//! workgroup reduces one frame and channel. The median is left to the CPU.

use std::sync::mpsc;

use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::roi::{Roi, RoiSeries, Stat};
use crate::stack::{Dtype, Stack};

/// The WGSL source of the ROI kernel.
pub const SHADER: &str = include_str!("../../shaders/roi.wgsl");

/// Workgroups one dispatch dimension may hold (the frames of one chunk).
const MAX_FRAMES_PER_DISPATCH: usize = 65_535;

/// Mirror of the shader's `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_samples: u32,
    channels: u32,
    n_pixels: u32,
    dtype: u32,
    out_frame: u32,
    pad: [u32; 3],
}

/// The compiled ROI pipeline of one device.
pub struct GpuRoi {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuRoi {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuRoi, GpuError> {
        gpu.scoped(|| {
            let device = &gpu.device;
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("roi.wgsl"),
                source: wgpu::ShaderSource::Wgsl(SHADER.into()),
            });
            let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let read = wgpu::BufferBindingType::Storage { read_only: true };
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("roi bind group layout"),
                entries: &[
                    entry(0, wgpu::BufferBindingType::Uniform),
                    entry(1, read),
                    entry(2, read),
                    entry(3, wgpu::BufferBindingType::Storage { read_only: false }),
                ],
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("roi pipeline layout"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("roi pipeline"),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("roi"),
                compilation_options: Default::default(),
                cache: None,
            });
            Ok(GpuRoi {
                gpu: gpu.clone(),
                layout,
                pipeline,
            })
        })
    }

    /// The ROI series of frames `range`; `Stat::Median` is unsupported here.
    pub fn series(
        &self,
        stack: &Stack,
        roi: &Roi,
        stat: Stat,
        range: FrameRange,
    ) -> Result<RoiSeries, GpuError> {
        if stat == Stat::Median {
            return Err(GpuError::Unsupported("the ROI median"));
        }
        let sh = stack.shape();
        range.check(sh.frames)?;
        let spans = roi.spans(sh.height, sh.width)?;
        let c = sh.channels;
        let pix: Vec<u32> = spans
            .iter()
            .flat_map(|s| (s.x0..s.x1).map(move |x| ((s.y * sh.width + x) * c) as u32))
            .collect();
        let n = sh.frame_len();
        let frame_bytes = (n * stack.dtype().size()) as u64;
        let chunk_bytes = self.gpu.chunk_bytes();
        if frame_bytes > chunk_bytes || (pix.len() * 4) as u64 > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: frame_bytes.max((pix.len() * 4) as u64),
                limit: chunk_bytes,
            });
        }
        let per_chunk = ((chunk_bytes / frame_bytes.max(1)) as usize)
            .clamp(1, MAX_FRAMES_PER_DISPATCH)
            .min(range.len());
        let out_len = range.len() * c * 4;
        let bytes = stack.samples().as_bytes();
        let gpu = &self.gpu;
        let raw = gpu.scoped(|| {
            let device = &gpu.device;
            let buffer = |label: &str, size: u64, usage| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: size.max(4),
                    usage,
                    mapped_at_creation: false,
                })
            };
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = buffer(
                "roi params",
                std::mem::size_of::<Params>() as u64,
                wgpu::BufferUsages::UNIFORM | dst,
            );
            let data_buf = buffer(
                "roi frame chunk",
                (per_chunk as u64 * frame_bytes).next_multiple_of(4),
                storage | dst,
            );
            let pix_buf = buffer("roi pixels", (pix.len() * 4) as u64, storage | dst);
            gpu.queue
                .write_buffer(&pix_buf, 0, bytemuck::cast_slice(&pix));
            let out_bytes = (out_len * 4) as u64;
            let out_buf = buffer(
                "roi output",
                out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let readback = buffer(
                "roi readback",
                out_bytes,
                wgpu::BufferUsages::MAP_READ | dst,
            );
            let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("roi bind group"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: data_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: pix_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: out_buf.as_entire_binding(),
                    },
                ],
            });
            let mut t0 = range.first;
            while t0 <= range.last {
                let frames = (range.last + 1 - t0).min(per_chunk);
                let lo = t0 * frame_bytes as usize;
                let hi = (t0 + frames) * frame_bytes as usize;
                let chunk = &bytes[lo..hi];
                let whole = chunk.len() & !3;
                if whole > 0 {
                    gpu.queue.write_buffer(&data_buf, 0, &chunk[..whole]);
                }
                if whole < chunk.len() {
                    let mut tail = [0u8; 4];
                    tail[..chunk.len() - whole].copy_from_slice(&chunk[whole..]);
                    gpu.queue.write_buffer(&data_buf, whole as u64, &tail);
                }
                let params = Params {
                    n_samples: n as u32,
                    channels: c as u32,
                    n_pixels: pix.len() as u32,
                    dtype: match stack.dtype() {
                        Dtype::U8 => 0,
                        Dtype::U16 => 1,
                        Dtype::F32 => 2,
                    },
                    out_frame: (t0 - range.first) as u32,
                    pad: [0; 3],
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("roi encoder"),
                });
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("roi pass"),
                        timestamp_writes: None,
                    });
                    pass.set_pipeline(&self.pipeline);
                    pass.set_bind_group(0, &bind, &[]);
                    pass.dispatch_workgroups(frames as u32, c as u32, 1);
                }
                gpu.queue.submit([encoder.finish()]);
                // the chunk buffer is rewritten next: let this dispatch finish first
                device
                    .poll(wgpu::PollType::Wait {
                        submission_index: None,
                        timeout: None,
                    })
                    .map_err(|e| GpuError::Wgpu(format!("waiting for the GPU: {e}")))?;
                t0 += frames;
            }
            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("roi readback encoder"),
            });
            encoder.copy_buffer_to_buffer(&out_buf, 0, &readback, 0, out_bytes.max(4));
            gpu.queue.submit([encoder.finish()]);
            let (tx, rx) = mpsc::channel();
            let slice = readback.slice(..);
            slice.map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
            device
                .poll(wgpu::PollType::Wait {
                    submission_index: None,
                    timeout: None,
                })
                .map_err(|e| GpuError::Wgpu(format!("waiting for the GPU: {e}")))?;
            rx.recv()
                .map_err(|_| GpuError::Wgpu("the readback was never mapped".into()))?
                .map_err(|e| GpuError::Wgpu(format!("mapping the readback buffer: {e}")))?;
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Wgpu(format!("reading the readback buffer: {e}")))?;
            let mut v: Vec<f32> = bytemuck::pod_collect_to_vec(&view);
            drop(view);
            readback.unmap();
            v.truncate(out_len);
            Ok(v)
        })?;
        let rows = range.len() * c;
        let (mut value, mut min, mut max) = (vec![0f32; rows], vec![0f32; rows], vec![0f32; rows]);
        for (k, q) in raw.chunks_exact(4).enumerate() {
            let (sum, count, lo, hi) = (q[0], q[1], q[2], q[3]);
            if count == 0.0 {
                (value[k], min[k], max[k]) = (f32::NAN, f32::NAN, f32::NAN);
            } else {
                (value[k], min[k], max[k]) = (sum / count, lo, hi);
            }
        }
        Ok(RoiSeries {
            channels: c,
            frames: (range.first..=range.last).collect(),
            value,
            min,
            max,
            pixels: pix.len(),
        })
    }
}
