//! Background normalization on the GPU (`shaders/normalize.wgsl`): the fused
//! subtract/divide of [`crate::ops::normalize`] over the whole stack, with fixed
//! references (range reduce or file) and sliding-mean references kept as running sums.
//!
//! Limits of this first version, each answered with [`GpuError::Unsupported`] so the
//! engine computes on the CPU instead: the stack and the output must each fit one
//! storage binding; sliding references other than the mean; more than 65 535 output
//! frames or window frames (software adapters stop longer shader loops).

use std::sync::mpsc;

use super::reduce::GpuReduce;
use super::{GpuDevice, GpuError};
use crate::ops::normalize::{Normalize, Source, Step};
use crate::ops::reduce::ReduceOp;
use crate::stack::{Dtype, Shape, Stack};

/// The WGSL source of the normalization kernel.
pub const SHADER: &str = include_str!("../../shaders/normalize.wgsl");

const WORKGROUP: u64 = 256;
const MAX_LOOP: usize = 65_535;

/// Mirror of the shader's `Params` (16-byte aligned for a uniform).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_samples: u32,
    n_frames: u32,
    n_out: u32,
    dtype: u32,
    row_stride: u32,
    sub_mode: u32,
    div_mode: u32,
    sub_window: u32,
    sub_lag: u32,
    div_window: u32,
    div_lag: u32,
    pad: u32,
    sub_amount: f32,
    div_amount: f32,
    pad2: [f32; 2],
}

/// The compiled normalization pipeline of one device.
pub struct GpuNormalize {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

/// How one step reaches the shader: (mode, window, lag, fixed reference).
type StepPlan = (u32, u32, u32, Option<Vec<f32>>);

impl GpuNormalize {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuNormalize, GpuError> {
        gpu.scoped(|| {
            let device = &gpu.device;
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("normalize.wgsl"),
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
                label: Some("normalize bind group layout"),
                entries: &[
                    entry(0, wgpu::BufferBindingType::Uniform),
                    entry(1, read),
                    entry(2, read),
                    entry(3, read),
                    entry(4, wgpu::BufferBindingType::Storage { read_only: false }),
                ],
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("normalize pipeline layout"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("normalize pipeline"),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("normalize"),
                compilation_options: Default::default(),
                cache: None,
            });
            Ok(GpuNormalize {
                gpu: gpu.clone(),
                layout,
                pipeline,
            })
        })
    }

    /// The reference plan of one step; range references are reduced with `reduce`.
    fn step_plan(
        &self,
        step: &Option<Step>,
        stack: &Stack,
        reduce: &GpuReduce,
    ) -> Result<StepPlan, GpuError> {
        Ok(match step.as_ref().map(|s| &s.source) {
            None => (0, 0, 0, None),
            Some(Source::File(img)) => (1, 0, 0, Some(img.data.clone())),
            Some(Source::Range { op, range }) => {
                (1, 0, 0, Some(reduce.reduce(stack, *op, *range)?.data))
            }
            Some(Source::Sliding {
                op: ReduceOp::Mean,
                window,
                lag,
            }) => {
                if *window > MAX_LOOP {
                    return Err(GpuError::Unsupported("sliding windows over 65 535 frames"));
                }
                (2, *window as u32, *lag as u32, None)
            }
            Some(Source::Sliding { .. }) => {
                return Err(GpuError::Unsupported(
                    "sliding references other than the mean",
                ));
            }
        })
    }

    /// The whole stack normalized, as [`Normalize::apply`] does on the CPU.
    pub fn apply(
        &self,
        n: &Normalize,
        stack: &Stack,
        reduce: &GpuReduce,
    ) -> Result<Stack, GpuError> {
        let shape = stack.shape();
        n.validate(shape)?;
        let n_out = n.output_frames(shape.frames);
        let p = shape.frame_len();
        let in_bytes = stack.bytes().next_multiple_of(4).max(4);
        let out_bytes = (n_out * p * 4) as u64;
        let binding = self.gpu.binding_bytes();
        if in_bytes > binding || out_bytes > binding {
            return Err(GpuError::Unsupported(
                "stacks or results larger than one storage binding",
            ));
        }
        if n_out > MAX_LOOP {
            return Err(GpuError::Unsupported("more than 65 535 output frames"));
        }
        let sub = self.step_plan(&n.subtract, stack, reduce)?;
        let div = self.step_plan(&n.divide, stack, reduce)?;
        let groups = (p as u64).div_ceil(WORKGROUP).max(1);
        let max_dim = self
            .gpu
            .limits()
            .max_compute_workgroups_per_dimension
            .max(1) as u64;
        let gx = groups.min(max_dim);
        let gy = groups.div_ceil(gx);
        let params = Params {
            n_samples: p as u32,
            n_frames: shape.frames as u32,
            n_out: n_out as u32,
            dtype: match stack.dtype() {
                Dtype::U8 => 0,
                Dtype::U16 => 1,
                Dtype::F32 => 2,
            },
            row_stride: (gx * WORKGROUP) as u32,
            sub_mode: sub.0,
            div_mode: div.0,
            sub_window: sub.1,
            sub_lag: sub.2,
            div_window: div.1,
            div_lag: div.2,
            pad: 0,
            sub_amount: n.subtract.as_ref().map_or(0.0, |s| s.amount),
            div_amount: n.divide.as_ref().map_or(0.0, |s| s.amount),
            pad2: [0.0; 2],
        };
        let gpu = &self.gpu;
        let result = gpu.scoped(|| {
            let device = &gpu.device;
            let buffer = |label: &str, size: u64, usage| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size,
                    usage,
                    mapped_at_creation: false,
                })
            };
            let dst = wgpu::BufferUsages::COPY_DST;
            let params_buf = buffer(
                "normalize params",
                std::mem::size_of::<Params>() as u64,
                wgpu::BufferUsages::UNIFORM | dst,
            );
            gpu.queue
                .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
            let data_buf = buffer(
                "normalize stack",
                in_bytes,
                wgpu::BufferUsages::STORAGE | dst,
            );
            let bytes = stack.samples().as_bytes();
            let whole = bytes.len() & !3;
            if whole > 0 {
                gpu.queue.write_buffer(&data_buf, 0, &bytes[..whole]);
            }
            if whole < bytes.len() {
                let mut tail = [0u8; 4];
                tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
                gpu.queue.write_buffer(&data_buf, whole as u64, &tail);
            }
            let reference = |label: &str, r: &Option<Vec<f32>>| {
                let b = buffer(
                    label,
                    r.as_ref().map_or(4, |v| (v.len() * 4).max(4) as u64),
                    wgpu::BufferUsages::STORAGE | dst,
                );
                if let Some(v) = r {
                    gpu.queue.write_buffer(&b, 0, bytemuck::cast_slice(v));
                }
                b
            };
            let ref_s = reference("normalize subtract reference", &sub.3);
            let ref_d = reference("normalize divide reference", &div.3);
            let out_buf = buffer(
                "normalize output",
                out_bytes.max(4),
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            );
            let readback = buffer(
                "normalize readback",
                out_bytes.max(4),
                wgpu::BufferUsages::MAP_READ | dst,
            );
            let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("normalize bind group"),
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
                        resource: ref_s.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: ref_d.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: out_buf.as_entire_binding(),
                    },
                ],
            });
            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("normalize encoder"),
            });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("normalize pass"),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(gx as u32, gy as u32, 1);
            }
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
            v.truncate(n_out * p);
            Ok(v)
        })?;
        let out_shape = Shape::new(n_out, shape.height, shape.width, shape.channels);
        let mut s = Stack::from_vec(out_shape, result)
            .map_err(|e| GpuError::Wgpu(format!("result shape: {e}")))?;
        s.source = stack.source.clone();
        Ok(s)
    }
}
