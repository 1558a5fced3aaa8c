//! ROI time series on the GPU (`shaders/roi.wgsl`): per frame and channel the mean, min
//! and max over a rectangle or polygon, as [`crate::ops::roi::roi_series`] computes them
//! with [`Stat::Mean`]. The frames stream in chunks that fit one storage binding; one
//! workgroup reduces one frame and channel. The median is left to the CPU.

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::roi::{Roi, RoiSeries, Stat};
use crate::stack::Stack;

/// The WGSL source of the ROI kernel.
pub const SHADER: &str = super::shader::kernel_source!("roi.wgsl");

/// Workgroups one dispatch dimension may hold (the frames of one chunk).
const MAX_FRAMES_PER_DISPATCH: usize = 65_535;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        channels: u32,
        n_pixels: u32,
        dtype: u32,
        out_frame: u32,
        pad0: u32,
        pad1: u32,
        pad2: u32,
    }
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
        // data, pixel list (read), output
        let (layout, mut p) =
            gpu.compute_pipeline("roi", SHADER, &["roi"], &[true, true, false])?;
        Ok(GpuRoi {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
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
        // each invocation folds every 256th pixel: software adapters stop an invocation
        // after ~65 535 loop iterations, half of which is used, as a margin
        if pix.len() / 256 > 32_767 {
            return Err(GpuError::Unsupported("ROIs over 8 million pixels"));
        }
        let n = sh.frame_len();
        let pix_bytes = (pix.len() * 4) as u64;
        if pix_bytes > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: pix_bytes,
                limit: self.gpu.binding_bytes(),
            });
        }
        let per_chunk =
            stream::chunk_frames(&self.gpu, stack, MAX_FRAMES_PER_DISPATCH)?.min(range.len());
        let out_len = range.len() * c * 4;
        let gpu = &self.gpu;
        let raw = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("roi params");
            let mut frames = FrameStream::new(gpu, stack, "roi frame chunk", per_chunk);
            let pix_buf = gpu.buffer("roi pixels", pix_bytes, storage | dst);
            gpu.queue
                .write_buffer(&pix_buf, 0, bytemuck::cast_slice(&pix));
            let out_bytes = (out_len * 4) as u64;
            let out_buf = gpu.buffer(
                "roi output",
                out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let bind = gpu.bind_group(
                "roi bind group",
                &self.layout,
                &[&params_buf, frames.buffer(), &pix_buf, &out_buf],
            );
            let chunks = frames.chunks(range.first..range.last + 1);
            frames.run(&chunks, |_, chunk| {
                let params = Params {
                    n_samples: n as u32,
                    channels: c as u32,
                    n_pixels: pix.len() as u32,
                    dtype: super::dtype_code(stack.dtype()),
                    out_frame: (chunk.start - range.first) as u32,
                    ..bytemuck::Zeroable::zeroed()
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let groups = (chunk.len() as u32, c as u32);
                let encoder = gpu.encode_pass("roi", &self.pipeline, &bind, groups);
                Ok(Some(gpu.queue.submit([encoder.finish()])))
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("roi readback encoder"),
                });
            gpu.read_f32(encoder, &out_buf, out_bytes)
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
