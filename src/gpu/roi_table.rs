//! The results table of several ROIs on the GPU (`shaders/roi_table.wgsl`): per frame,
//! ROI and channel the mean, standard deviation, min and max, as
//! [`crate::ops::roi::table::roi_table`] computes them. The frames stream in chunks that
//! fit one storage binding; one workgroup reduces one frame, ROI and channel.

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::roi::set::NamedRoi;
use crate::ops::roi::table::{RoiTable, Stats, table_spans};
use crate::stack::Stack;

/// The WGSL source of the ROI table kernel.
pub const SHADER: &str = super::shader::kernel_source!("roi_table.wgsl");

/// Workgroups one dispatch dimension may hold (the frames of one chunk, the ROIs times
/// channels).
const MAX_GROUPS: usize = 65_535;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        channels: u32,
        n_rois: u32,
        dtype: u32,
        out_frame: u32,
        pad0: u32,
        pad1: u32,
        pad2: u32,
    }
}

/// The compiled ROI table pipeline of one device.
pub struct GpuRoiTable {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuRoiTable {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuRoiTable, GpuError> {
        // data, starts and pixel lists (read), output
        let (layout, mut p) =
            gpu.compute_pipeline("roi_table", SHADER, &["roi_table"], &[true, true, false])?;
        Ok(GpuRoiTable {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
        })
    }

    /// The table of `rois` over frames `range` of `stack`.
    pub fn table(
        &self,
        stack: &Stack,
        rois: &[NamedRoi],
        range: FrameRange,
    ) -> Result<RoiTable, GpuError> {
        let sh = stack.shape();
        range.check(sh.frames)?;
        let spans = table_spans(rois, sh.height, sh.width)?;
        let c = sh.channels;
        if rois.len() * c > MAX_GROUPS {
            return Err(GpuError::Unsupported(
                "more than 65 535 ROIs times channels",
            ));
        }
        // the starts of each ROI's pixels, then the pixels as sample offsets
        let mut pix: Vec<u32> = vec![0; rois.len() + 1];
        for (r, sp) in spans.iter().enumerate() {
            let before = pix.len();
            pix.extend(
                sp.iter()
                    .flat_map(|s| (s.x0..s.x1).map(move |x| ((s.y * sh.width + x) * c) as u32)),
            );
            // each invocation folds every 256th pixel: software adapters stop an
            // invocation after ~65 535 loop iterations, half of which is used, as a margin
            if (pix.len() - before) / 256 > 32_767 {
                return Err(GpuError::Unsupported("ROIs over 8 million pixels"));
            }
            pix[r + 1] = (pix.len() - rois.len() - 1) as u32;
        }
        let pix_bytes = (pix.len() * 4) as u64;
        if pix_bytes > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: pix_bytes,
                limit: self.gpu.binding_bytes(),
            });
        }
        let per_chunk = stream::chunk_frames(&self.gpu, stack, MAX_GROUPS)?.min(range.len());
        let per_row = rois.len() * c;
        let out_bytes = (range.len() * per_row * 5 * 4) as u64;
        if out_bytes > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: out_bytes,
                limit: self.gpu.binding_bytes(),
            });
        }
        let gpu = &self.gpu;
        let raw = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("roi table params");
            let mut frames = FrameStream::new(gpu, stack, "roi table frame chunk", per_chunk);
            let pix_buf = gpu.buffer("roi table pixels", pix_bytes, storage | dst);
            gpu.queue
                .write_buffer(&pix_buf, 0, bytemuck::cast_slice(&pix));
            let out_buf = gpu.buffer(
                "roi table output",
                out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let bind = gpu.bind_group(
                "roi table bind group",
                &self.layout,
                &[&params_buf, frames.buffer(), &pix_buf, &out_buf],
            );
            let chunks = frames.chunks(range.first..range.last + 1);
            frames.run(&chunks, |_, chunk| {
                let params = Params {
                    n_samples: sh.frame_len() as u32,
                    channels: c as u32,
                    n_rois: rois.len() as u32,
                    dtype: super::dtype_code(stack.dtype()),
                    out_frame: (chunk.start - range.first) as u32,
                    ..bytemuck::Zeroable::zeroed()
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let groups = (chunk.len() as u32, per_row as u32);
                let encoder = gpu.encode_pass("roi table", &self.pipeline, &bind, groups);
                Ok(Some(gpu.queue.submit([encoder.finish()])))
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("roi table readback encoder"),
                });
            gpu.read_f32(encoder, &out_buf, out_bytes)
        })?;
        let stats = raw
            .chunks_exact(5)
            .map(|q| {
                let (n, mean, m2, lo, hi) = (q[0], q[1], q[2], q[3], q[4]);
                if n == 0.0 {
                    Stats::EMPTY
                } else {
                    Stats {
                        mean,
                        std: (m2.max(0.0) / n).sqrt(),
                        min: lo,
                        max: hi,
                    }
                }
            })
            .collect();
        Ok(RoiTable::new(rois, &spans, c, range, stats))
    }
}
