//! PCA on the GPU (`shaders/pca.wgsl`): the products over the frames that each pass of
//! [`crate::ops::pca`] computes (the sketch `X Ω`, `X Z` and `Xᵀ Q`) run in f32 on the
//! GPU, the frames streamed in chunks that fit one storage binding. The frame products'
//! partial sums (per frame and block of 16 384 samples) are added up on the CPU in f64;
//! `Xᵀ Q` accumulates in f32 on the GPU over every frame. The orthonormalization and the
//! small eigen-problem run on the CPU in f64, by the same method
//! ([`crate::ops::pca::pca_with`]).

use super::stream::{self, FrameStream};
use super::{GpuDevice, GpuError};
use crate::load::Progress;
use crate::ops::pca::{Pca, PcaMethod, PcaPasses, pca_with};
use crate::ops::{FrameRange, OpError};
use crate::stack::Stack;

/// The WGSL source of the PCA kernels.
pub const SHADER: &str = super::shader::kernel_source!("pca.wgsl");

/// Columns one dispatch handles (the shader's private accumulators).
const MAX_COLS: usize = 64;
/// Samples one workgroup of a frame product folds (the shader's `BLOCK`).
const BLOCK: usize = 16_384;
/// Loop iterations one invocation may spend: half of the software adapters' ~65 535.
const LOOP_BUDGET: usize = 16_383;
/// What the GPU does not do: PCA over buffers bigger than one storage binding.
const BINDING: &str = "PCA buffers over one storage binding";
/// Workgroups one dispatch dimension may hold.
const MAX_GROUPS: usize = 65_535;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        dtype: u32,
        cols: u32,
        col0: u32,
        width: u32,
        frame0: u32,
        out_frame: u32,
        frames: u32,
        blocks: u32,
        pad0: u32,
        pad1: u32,
        pad2: u32,
    }
}

/// The compiled PCA pipelines of one device.
pub struct GpuPca {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    sketch: wgpu::ComputePipeline,
    frames_times: wgpu::ComputePipeline,
    samples_times: wgpu::ComputePipeline,
}

impl GpuPca {
    /// Compiles the kernels on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuPca, GpuError> {
        // data, mean, w (read), out
        let (layout, mut p) = gpu.compute_pipeline(
            "pca",
            SHADER,
            &["sketch", "frames_times", "samples_times"],
            &[true, true, true, false],
        )?;
        let samples_times = p.remove(2);
        let frames_times = p.remove(1);
        Ok(GpuPca {
            gpu: gpu.clone(),
            layout,
            sketch: p.remove(0),
            frames_times,
            samples_times,
        })
    }

    /// The first `k` components of frames `range` of `stack`, as
    /// [`crate::ops::pca::pca_watched`] computes them, its passes on the GPU.
    pub fn pca(
        &self,
        stack: &Stack,
        k: usize,
        range: FrameRange,
        method: PcaMethod,
        progress: &dyn Progress,
    ) -> Result<Pca, GpuError> {
        let passes = GpuPasses { k: self, stack };
        pca_with(stack, k, range, method, &passes, progress)
    }
}

/// [`PcaPasses`] on the GPU for one stack.
struct GpuPasses<'a> {
    k: &'a GpuPca,
    stack: &'a Stack,
}

/// What a frame product multiplies by.
enum FrameFactor<'a> {
    /// The sketch's sign bits (one u64 per sample), `l` columns, plus the squared norm.
    Signs(&'a [u64], usize),
    /// Z (samples x r), row-major.
    Matrix(&'a [f64], usize),
}

/// `v` as the f32 bits the shader reads.
fn f32_bits(v: &[f64]) -> Vec<u32> {
    v.iter().map(|&x| (x as f32).to_bits()).collect()
}

impl GpuPasses<'_> {
    fn gpu(&self) -> &GpuDevice {
        &self.k.gpu
    }

    /// A storage buffer of `words`, or an error when it is over one binding.
    fn upload(&self, label: &str, words: &[u32]) -> Result<wgpu::Buffer, GpuError> {
        let bytes = (words.len().max(1) * 4) as u64;
        self.gpu().fits_binding(bytes, BINDING)?;
        let buf = self.gpu().buffer(
            label,
            bytes,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        );
        self.gpu().upload(&buf, bytemuck::cast_slice(words));
        Ok(buf)
    }

    fn params(&self, p: Params) -> Params {
        Params {
            n_samples: self.stack.shape().frame_len() as u32,
            dtype: super::dtype_code(self.stack.dtype()),
            ..p
        }
    }

    /// Streams frames `range` through the GPU, telling `progress` as `what` and
    /// stopping between chunks once it is cancelled; `work` submits the work of a
    /// chunk (its range, the frame buffer) and returns the last submission.
    fn stream(
        &self,
        range: FrameRange,
        max_frames: usize,
        what: &str,
        progress: &dyn Progress,
        mut work: impl FnMut(std::ops::Range<usize>, &wgpu::Buffer) -> wgpu::SubmissionIndex,
    ) -> Result<(), GpuError> {
        let gpu = self.gpu();
        let per = stream::chunk_frames(gpu, self.stack, max_frames)?.min(range.len());
        let mut frames = FrameStream::new(gpu, self.stack, "pca frame chunk", per);
        let chunks = frames.chunks(range.first..range.last + 1);
        progress.start(what, range.len() as u64);
        frames.run(&chunks, |buf, chunk| {
            if progress.is_cancelled() {
                return Err(GpuError::Op(OpError::Cancelled));
            }
            let n = chunk.len() as u64;
            let index = work(chunk, buf);
            progress.advance(n);
            Ok(Some(index))
        })
    }

    /// Per frame of `range`, the sums over every sample of the centred frame times each
    /// column of `factor` (and the squared norm after them for the signs): frames x
    /// (width [+ 1]), in f64.
    fn frame_product(
        &self,
        range: FrameRange,
        mean: &[f32],
        factor: FrameFactor<'_>,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, GpuError> {
        let gpu = self.gpu();
        let n = self.stack.shape().frame_len();
        let blocks = n.div_ceil(BLOCK);
        let (words, width, signed) = match factor {
            FrameFactor::Signs(om, l) => (
                om.iter()
                    .flat_map(|&b| [b as u32, (b >> 32) as u32])
                    .collect::<Vec<u32>>(),
                l,
                true,
            ),
            FrameFactor::Matrix(z, r) => (f32_bits(z), r, false),
        };
        if width == 0 {
            return Ok(vec![0.0; range.len() * signed as usize]);
        }
        let stride = width + signed as usize;
        let out_bytes = (range.len() * blocks * stride * 4) as u64;
        self.gpu().fits_binding(out_bytes, BINDING)?;
        let (pipeline, what) = if signed {
            (&self.k.sketch, "pca: sketch (gpu)")
        } else {
            (&self.k.frames_times, "pca: power iteration (gpu)")
        };
        let raw = gpu.scoped(|| {
            let params_buf = gpu.params_buffer::<Params>("pca params");
            let mean_buf = self.upload("pca mean", bytemuck::cast_slice(mean))?;
            let w_buf = self.upload("pca factor", &words)?;
            let out_buf = gpu.buffer(
                "pca partial sums",
                out_bytes,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            );
            let mut bind = None;
            self.stream(range, MAX_GROUPS, what, progress, |chunk, frames| {
                let bind = bind.get_or_insert_with(|| {
                    gpu.bind_group(
                        "pca bind group",
                        &self.k.layout,
                        &[&params_buf, frames, &mean_buf, &w_buf, &out_buf],
                    )
                });
                let mut last = None;
                for col0 in (0..width).step_by(MAX_COLS) {
                    let p = self.params(Params {
                        cols: (width - col0).min(MAX_COLS) as u32,
                        col0: col0 as u32,
                        width: width as u32,
                        out_frame: (chunk.start - range.first) as u32,
                        blocks: blocks as u32,
                        ..bytemuck::Zeroable::zeroed()
                    });
                    gpu.queue
                        .write_buffer(&params_buf, 0, bytemuck::bytes_of(&p));
                    let groups = (blocks as u32, chunk.len() as u32);
                    let enc = gpu.encode_pass("pca frames", pipeline, bind, groups);
                    last = Some(gpu.queue.submit([enc.finish()]));
                }
                last.expect("at least one column")
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("pca readback encoder"),
                });
            gpu.read_f32(encoder, &out_buf, out_bytes)
        })?;
        // the blocks of each frame added up in f64
        let mut sums = vec![0.0f64; range.len() * stride];
        for (t, row) in sums.chunks_exact_mut(stride).enumerate() {
            for b in 0..blocks {
                let part = &raw[(t * blocks + b) * stride..(t * blocks + b + 1) * stride];
                for (s, &v) in row.iter_mut().zip(part) {
                    *s += v as f64;
                }
            }
        }
        Ok(sums)
    }
}

impl PcaPasses for GpuPasses<'_> {
    type Error = GpuError;

    fn sketch(
        &self,
        range: FrameRange,
        mean: &[f32],
        om: &[u64],
        l: usize,
        progress: &dyn Progress,
    ) -> Result<(Vec<f64>, f64), GpuError> {
        let sums = self.frame_product(range, mean, FrameFactor::Signs(om, l), progress)?;
        let mut y = Vec::with_capacity(range.len() * l);
        let mut total = 0.0;
        for row in sums.chunks_exact(l + 1) {
            y.extend_from_slice(&row[..l]);
            total += row[l];
        }
        Ok((y, total))
    }

    fn project_frames(
        &self,
        range: FrameRange,
        mean: &[f32],
        z: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, GpuError> {
        self.frame_product(range, mean, FrameFactor::Matrix(z, r), progress)
    }

    fn project_samples(
        &self,
        range: FrameRange,
        mean: &[f32],
        q: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, GpuError> {
        let gpu = self.gpu();
        let n = self.stack.shape().frame_len();
        if r == 0 {
            return Ok(Vec::new());
        }
        let groups = n.div_ceil(256);
        if groups > MAX_GROUPS * MAX_GROUPS {
            return Err(GpuError::Unsupported("PCA of frames over 2^40 samples"));
        }
        let (gx, gy) = if groups > MAX_GROUPS {
            (MAX_GROUPS, groups.div_ceil(MAX_GROUPS))
        } else {
            (groups, 1)
        };
        let z_bytes = (n * r * 4) as u64;
        self.gpu().fits_binding(z_bytes, BINDING)?;
        let raw = gpu.scoped(|| {
            let params_buf = gpu.params_buffer::<Params>("pca params");
            let mean_buf = self.upload("pca mean", bytemuck::cast_slice(mean))?;
            let q_buf = self.upload("pca q", &f32_bits(q))?;
            // zero-initialized by wgpu
            let z_buf = gpu.buffer(
                "pca z",
                z_bytes,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            );
            let mut bind = None;
            let what = "pca: projecting (gpu)";
            self.stream(range, usize::MAX, what, progress, |chunk, frames| {
                let bind = bind.get_or_insert_with(|| {
                    gpu.bind_group(
                        "pca bind group",
                        &self.k.layout,
                        &[&params_buf, frames, &mean_buf, &q_buf, &z_buf],
                    )
                });
                let mut last = None;
                for col0 in (0..r).step_by(MAX_COLS) {
                    let cols = (r - col0).min(MAX_COLS);
                    // frames per dispatch within the loop budget
                    let per = (LOOP_BUDGET / cols).max(1);
                    for f0 in (0..chunk.len()).step_by(per) {
                        let p = self.params(Params {
                            cols: cols as u32,
                            col0: col0 as u32,
                            width: r as u32,
                            frame0: f0 as u32,
                            out_frame: (chunk.start + f0 - range.first) as u32,
                            frames: per.min(chunk.len() - f0) as u32,
                            ..bytemuck::Zeroable::zeroed()
                        });
                        gpu.queue
                            .write_buffer(&params_buf, 0, bytemuck::bytes_of(&p));
                        let enc = gpu.encode_pass(
                            "pca samples",
                            &self.k.samples_times,
                            bind,
                            (gx as u32, gy as u32),
                        );
                        last = Some(gpu.queue.submit([enc.finish()]));
                    }
                }
                last.expect("at least one dispatch")
            })?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("pca readback encoder"),
                });
            gpu.read_f32(encoder, &z_buf, z_bytes)
        })?;
        Ok(raw.into_iter().map(|v| v as f64).collect())
    }
}
