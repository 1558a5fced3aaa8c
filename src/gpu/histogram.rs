//! Histogram on the GPU (`shaders/histogram.wgsl`): the exact 256-bin histogram of a u8
//! stack's frame range, as [`crate::ops::histogram::histogram`] gives it. Other dtypes
//! (binned over their min..max) and ranges of 2^32 samples or more are left to the CPU.

use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::histogram::Histogram;
use crate::stack::{Samples, Stack};

/// The WGSL source of the histogram kernel.
pub const SHADER: &str = include_str!("../../shaders/histogram.wgsl");

/// Workgroups per dispatch: enough to fill a GPU, few enough for few global atomics.
const WORKGROUPS: u32 = 1024;

/// Mirror of the shader's `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_words: u32,
    n_samples: u32,
    stride: u32,
    pad: u32,
}

/// The compiled histogram pipeline of one device.
pub struct GpuHistogram {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuHistogram {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuHistogram, GpuError> {
        // samples (read), bins (read-write)
        let (layout, mut p) =
            gpu.compute_pipeline("histogram", SHADER, &["histogram"], &[true, false])?;
        Ok(GpuHistogram {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
        })
    }

    /// The 256-bin histogram of frames `range` of a u8 stack.
    pub fn histogram(&self, stack: &Stack, range: FrameRange) -> Result<Histogram, GpuError> {
        let shape = stack.shape();
        range.check(shape.frames)?;
        let Samples::U8(all) = stack.samples() else {
            return Err(GpuError::Unsupported("histograms of u16 and f32 stacks"));
        };
        let n = shape.frame_len();
        let samples = &all[range.first * n..(range.last + 1) * n];
        if samples.len() as u64 >= 1 << 32 {
            return Err(GpuError::Unsupported("histograms of 2^32 samples or more"));
        }
        let gpu = &self.gpu;
        // whole words per chunk, so every chunk but the last is padding-free
        let chunk = (gpu.chunk_bytes() as usize & !3).max(4);
        let counts = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let params_buf = gpu.buffer(
                "histogram params",
                std::mem::size_of::<Params>() as u64,
                wgpu::BufferUsages::UNIFORM | dst,
            );
            let data_buf = gpu.buffer(
                "histogram chunk",
                chunk.min(samples.len()).next_multiple_of(4) as u64,
                wgpu::BufferUsages::STORAGE | dst,
            );
            let bins = gpu.buffer(
                "histogram bins",
                256 * 4,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | dst,
            );
            gpu.queue.write_buffer(&bins, 0, &[0u8; 256 * 4]);
            let bind = gpu.bind_group(
                "histogram bind group",
                &self.layout,
                &[&params_buf, &data_buf, &bins],
            );
            for part in samples.chunks(chunk) {
                gpu.upload(&data_buf, part);
                let params = Params {
                    n_words: part.len().div_ceil(4) as u32,
                    n_samples: part.len() as u32,
                    stride: WORKGROUPS * 256,
                    pad: 0,
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let encoder = gpu.encode_pass("histogram", &self.pipeline, &bind, (WORKGROUPS, 1));
                gpu.queue.submit([encoder.finish()]);
                // the chunk buffer is rewritten next
                gpu.wait(None)?;
            }
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("histogram readback encoder"),
                });
            gpu.read_f32(encoder, &bins, 256 * 4)
        })?;
        // the readback carries the u32 counters bit for bit
        let counts: Vec<u64> = counts.iter().map(|c| c.to_bits() as u64).collect();
        Ok(Histogram {
            lo: 0.0,
            hi: 256.0,
            total: counts.iter().sum(),
            counts,
            exact: true,
        })
    }
}
