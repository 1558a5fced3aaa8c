//! ROI statistics on the GPU (`shaders/roi.wgsl`), one kernel for both: the time series
//! of one ROI (mean, min, max per frame and channel, as [`crate::ops::roi::roi_series`]
//! computes them with [`Stat::Mean`]; the median is left to the CPU) and the results
//! table of several (mean, standard deviation, min and max per frame, ROI and channel,
//! as [`crate::ops::roi::table::roi_table`]). The frames stream in chunks that fit one
//! storage binding; one workgroup reduces one frame, ROI and channel.

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::roi::set::NamedRoi;
use crate::ops::roi::table::{RoiTable, Stats, table_spans};
use crate::ops::roi::{Roi, RoiSeries, Span, Stat, area};
use crate::stack::Stack;

/// The WGSL source of the ROI kernel.
pub const SHADER: &str = super::shader::kernel_source!("roi.wgsl");

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

/// The compiled ROI pipeline of one device.
pub struct GpuRoi {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl GpuRoi {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuRoi, GpuError> {
        // data, starts and pixel lists (read), output
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
        let pixels = area(&spans);
        let stats = self.stats(stack, std::slice::from_ref(&spans), range)?;
        Ok(RoiSeries {
            channels: sh.channels,
            frames: (range.first..=range.last).collect(),
            value: stats.iter().map(|s| s.mean).collect(),
            min: stats.iter().map(|s| s.min).collect(),
            max: stats.iter().map(|s| s.max).collect(),
            pixels,
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
        let stats = self.stats(stack, &spans, range)?;
        Ok(RoiTable::new(
            rois,
            &spans,
            sh.channels,
            range,
            (stats, false),
        ))
    }

    /// The statistics of the ROIs of pixels `spans` per frame of `range`, ROI and
    /// channel (in that order, channel fastest).
    fn stats(
        &self,
        stack: &Stack,
        spans: &[Vec<Span>],
        range: FrameRange,
    ) -> Result<Vec<Stats>, GpuError> {
        let sh = stack.shape();
        let c = sh.channels;
        let n_rois = spans.len();
        if n_rois * c > MAX_GROUPS {
            return Err(GpuError::Unsupported(
                "more than 65 535 ROIs times channels",
            ));
        }
        // the starts of each ROI's pixels, then the pixels as sample offsets
        let mut pix: Vec<u32> = vec![0; n_rois + 1];
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
            pix[r + 1] = (pix.len() - n_rois - 1) as u32;
        }
        let pix_bytes = (pix.len() * 4) as u64;
        self.gpu
            .fits_binding(pix_bytes, "ROI pixel lists over one storage binding")?;
        let per_chunk = stream::chunk_frames(&self.gpu, stack, MAX_GROUPS)?.min(range.len());
        let per_row = n_rois * c;
        let out_bytes = (range.len() * per_row * 5 * 4) as u64;
        self.gpu.fits_binding(
            out_bytes,
            "ROI statistics of more frames and ROIs than one storage binding holds",
        )?;
        let gpu = &self.gpu;
        let raw = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("roi params");
            let mut frames = FrameStream::new(gpu, stack, "roi frame chunk", per_chunk);
            let pix_buf = gpu.buffer("roi pixels", pix_bytes, storage | dst);
            gpu.queue
                .write_buffer(&pix_buf, 0, bytemuck::cast_slice(&pix));
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
                    n_samples: sh.frame_len() as u32,
                    channels: c as u32,
                    n_rois: n_rois as u32,
                    dtype: super::dtype_code(stack.dtype()),
                    out_frame: (chunk.start - range.first) as u32,
                    ..bytemuck::Zeroable::zeroed()
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let groups = (chunk.len() as u32, per_row as u32);
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
        Ok(raw
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
                        median: None,
                    }
                }
            })
            .collect())
    }
}
