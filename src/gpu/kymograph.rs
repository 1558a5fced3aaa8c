//! Kymographs on the GPU (`shaders/kymograph.wgsl`), as [`crate::ops::kymograph`]
//! computes them: the line's reading plan (band points and bilinear taps) is built once on
//! the CPU and uploaded; the frames stream in chunks that fit one storage binding; one
//! invocation reads one position of one frame, every channel.

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::ops::kymograph::Line;
use crate::ops::{FrameRange, Image};
use crate::stack::Stack;

/// The WGSL source of the kymograph kernel.
pub const SHADER: &str = super::shader::kernel_source!("kymograph.wgsl");

/// Workgroups one dispatch dimension may hold (the frames of one chunk).
const MAX_FRAMES_PER_DISPATCH: usize = 65_535;
const WORKGROUP: usize = 64;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        channels: u32,
        len: u32,
        dtype: u32,
        points_at: u32,
        taps_at: u32,
        out_frame: u32,
        pad0: u32,
    }
}

/// The compiled kymograph pipeline of one device.
pub struct GpuKymograph {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuKymograph {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuKymograph, GpuError> {
        // data, plan (read), output
        let (layout, mut p) =
            gpu.compute_pipeline("kymograph", SHADER, &["kymograph"], &[true, true, false])?;
        Ok(GpuKymograph {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
        })
    }

    /// The kymograph of `line` over frames `range`, (frames, positions, channels).
    pub fn kymograph(
        &self,
        stack: &Stack,
        line: &Line,
        range: FrameRange,
    ) -> Result<Image, GpuError> {
        let sh = stack.shape();
        range.check(sh.frames)?;
        let lp = line.plan(sh.height, sh.width)?;
        let c = sh.channels;
        // the plan as the shader reads it: starts, then (first, end) taps per band point,
        // then (offset, weight bits) per tap
        let mut plan: Vec<u32> = lp.starts.iter().map(|&s| s as u32).collect();
        let points_at = plan.len() as u32;
        plan.extend(lp.points.iter().flat_map(|&(a, b)| [a as u32, b as u32]));
        let taps_at = plan.len() as u32;
        plan.extend(lp.taps.iter().flat_map(|&(o, w)| [o as u32, w.to_bits()]));
        let plan_bytes = (plan.len() * 4) as u64;
        let out_len = range.len() * lp.len * c;
        let out_bytes = (out_len * 4) as u64;
        const WHAT: &str = "kymographs whose line plan or result exceeds one storage binding";
        self.gpu.fits_binding(plan_bytes.max(out_bytes), WHAT)?;
        if lp.len.div_ceil(WORKGROUP)
            > self.gpu.limits().max_compute_workgroups_per_dimension as usize
        {
            return Err(GpuError::Unsupported("lines of this many positions"));
        }
        let per_chunk =
            stream::chunk_frames(&self.gpu, stack, MAX_FRAMES_PER_DISPATCH)?.min(range.len());
        let gpu = &self.gpu;
        let raw: Vec<u32> = gpu.scoped(|| {
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("kymograph params");
            let mut frames = FrameStream::new(gpu, stack, "kymograph frame chunk", per_chunk);
            let plan_buf = gpu.buffer(
                "kymograph plan",
                plan_bytes,
                storage | wgpu::BufferUsages::COPY_DST,
            );
            gpu.upload(&plan_buf, bytemuck::cast_slice(&plan));
            let out_buf = gpu.buffer(
                "kymograph output",
                out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let bind = gpu.bind_group(
                "kymograph bind group",
                &self.layout,
                &[&params_buf, frames.buffer(), &plan_buf, &out_buf],
            );
            let chunks = frames.chunks(range.first..range.last + 1);
            frames.run(&chunks, |_, chunk| {
                let params = Params {
                    n_samples: sh.frame_len() as u32,
                    channels: c as u32,
                    len: lp.len as u32,
                    dtype: super::dtype_code(stack.dtype()),
                    points_at,
                    taps_at,
                    out_frame: (chunk.start - range.first) as u32,
                    pad0: 0,
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let groups = (lp.len.div_ceil(WORKGROUP) as u32, chunk.len() as u32);
                let encoder = gpu.encode_pass("kymograph", &self.pipeline, &bind, groups);
                Ok(Some(gpu.queue.submit([encoder.finish()])))
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("kymograph readback encoder"),
                });
            gpu.read_pod(encoder, &out_buf, out_bytes)
        })?;
        Ok(Image {
            height: range.len(),
            width: lp.len,
            channels: c,
            data: raw.into_iter().map(f32::from_bits).collect(),
        })
    }
}
