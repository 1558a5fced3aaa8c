//! Crosshair-profile envelopes on the GPU (`shaders/profile.wgsl`): the dataset envelope
//! with q = 0 (per position, min and max over every band pixel of every frame), as
//! [`crate::ops::profile::dataset_envelope`] computes it; it reads the whole stack, so it
//! is the profile computation worth a kernel (the others read one frame). Frames stream
//! in chunks that fit one storage binding. Percentile envelopes (q > 0) stay on the CPU.

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::ops::profile::{Envelope, Orientation, band};
use crate::stack::Stack;

/// The WGSL source of the profile kernels.
pub const SHADER: &str = super::shader::kernel_source!("profile.wgsl");

/// Frames one dispatch walks.
const MAX_CHUNK_FRAMES: usize = 8192;
/// Loop iterations one invocation may run (lavapipe stops it silently past that).
const MAX_LOOP: usize = 65_535;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        width: u32,
        channels: u32,
        dtype: u32,
        orient: u32,
        band_lo: u32,
        band_hi: u32,
        frames: u32,
        positions: u32,
        pad0: u32,
        pad1: u32,
        pad2: u32,
    }
}

/// The compiled profile pipeline of one device.
pub struct GpuProfile {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuProfile {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuProfile, GpuError> {
        let (layout, mut p) =
            gpu.compute_pipeline("profile", SHADER, &["dataset_minmax"], &[true, false])?;
        Ok(GpuProfile {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
        })
    }

    /// The dataset envelope of the profile at line `pos` with half-width `width`;
    /// `q > 0` is unsupported here.
    pub fn dataset_envelope(
        &self,
        stack: &Stack,
        orient: Orientation,
        pos: usize,
        width: usize,
        q: u32,
    ) -> Result<Envelope, GpuError> {
        if q > 0 {
            return Err(GpuError::Unsupported("percentile envelopes"));
        }
        let sh = stack.shape();
        let invalid = |m: String| GpuError::Op(crate::ops::OpError::Invalid(m));
        if sh.frames == 0 {
            return Err(invalid("the stack has no frames".into()));
        }
        let lines = orient.lines(sh);
        if pos >= lines {
            return Err(invalid(format!(
                "{} {pos} is outside the frame's {lines} lines",
                orient.name()
            )));
        }
        let b = band(pos, width, lines);
        let positions = orient.positions(sh);
        let n = sh.frame_len();
        // one frame over the budget fails before any other check, as it always did
        stream::chunk_frames(&self.gpu, stack, 1)?;
        if positions == 0 {
            return Ok(Envelope {
                lo: vec![],
                hi: vec![],
            });
        }
        // software adapters stop an invocation after ~65 535 loop iterations in all,
        // counted over the nested loops: per frame one, plus per band line one and one
        // per channel; half of that budget is used, as a margin
        let per_frame = 1 + b.len() * (1 + sh.channels);
        if per_frame > MAX_LOOP / 2 {
            return Err(GpuError::Unsupported("profile bands over 32 767 samples"));
        }
        let max_frames = MAX_CHUNK_FRAMES.min(MAX_LOOP / 2 / per_frame);
        let per_chunk = stream::chunk_frames(&self.gpu, stack, max_frames)?.min(sh.frames);
        let gpu = &self.gpu;
        let raw = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("profile params");
            let mut frames = FrameStream::new(gpu, stack, "profile frame chunk", per_chunk);
            let out_bytes = (positions * 2 * 4) as u64;
            let out_buf = gpu.buffer(
                "profile envelope",
                out_bytes,
                storage | dst | wgpu::BufferUsages::COPY_SRC,
            );
            let init: Vec<f32> = (0..positions)
                .flat_map(|_| [f32::INFINITY, f32::NEG_INFINITY])
                .collect();
            gpu.queue
                .write_buffer(&out_buf, 0, bytemuck::cast_slice(&init));
            let bind = gpu.bind_group(
                "profile bind group",
                &self.layout,
                &[&params_buf, frames.buffer(), &out_buf],
            );
            let groups = positions.div_ceil(64) as u32;
            let chunks = frames.chunks(0..sh.frames);
            frames.run(&chunks, |_, chunk| {
                let params = Params {
                    n_samples: n as u32,
                    width: sh.width as u32,
                    channels: sh.channels as u32,
                    dtype: super::dtype_code(stack.dtype()),
                    orient: (orient == Orientation::Col) as u32,
                    band_lo: b.start as u32,
                    band_hi: b.end as u32,
                    frames: chunk.len() as u32,
                    positions: positions as u32,
                    ..bytemuck::Zeroable::zeroed()
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let encoder = gpu.encode_pass("profile", &self.pipeline, &bind, (groups, 1));
                Ok(Some(gpu.queue.submit([encoder.finish()])))
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("profile readback encoder"),
                });
            gpu.read_f32(encoder, &out_buf, out_bytes)
        })?;
        let (mut lo, mut hi): (Vec<f32>, Vec<f32>) =
            raw.chunks_exact(2).map(|v| (v[0], v[1])).unzip();
        // positions that saw no value (all NaN) fold to lo > hi: NaN, as on the CPU
        for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
            if *l > *h {
                (*l, *h) = (f32::NAN, f32::NAN);
            }
        }
        Ok(Envelope { lo, hi })
    }
}
