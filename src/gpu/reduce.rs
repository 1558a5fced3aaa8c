//! Temporal reduce on the GPU (`shaders/reduce.wgsl`): mean, sum, max, min, std and
//! median of a frame range, the stack uploaded in its raw dtype.
//!
//! The frames of the range are streamed in chunks of whole frames that fit one storage
//! binding ([`GpuDevice::chunk_bytes`]; on a memory-mapped stack also the stack's own
//! chunk budget, read ahead and dropped behind); per-sample accumulators stay on the GPU
//! between chunks, and a final pass turns them into the f32 image that is read back. Integer
//! stacks accumulate exact u64 sums (and sums of squares), so sum, max and min agree
//! exactly with [`crate::ops::reduce::reduce`]; f32 stacks accumulate shifted,
//! Kahan-compensated f32 sums, skipping NaN as the CPU does.
//!
//! The median is a per-sample radix select over order-preserving keys, exact for every
//! dtype: each pass counts, per sample, the keys that share the prefix chosen so far by
//! their next digit. Counts add up across chunks, so the median streams like the other
//! ops, one pass over the range per digit (plus one for the upper middle of an even
//! count). A stack streamed in several chunks is uploaded once per pass; a resident one
//! ([`GpuReduce::upload`]) is not.

use super::stream::{self, FrameStream, InFlight};
use super::{GpuDevice, GpuError};
use crate::ops::reduce::ReduceOp;
use crate::ops::{FrameRange, Image};
use crate::stack::{Dtype, Shape, Stack};

/// The WGSL source of the reduce kernels.
pub const SHADER: &str = super::shader::kernel_source!("reduce.wgsl");

const WORKGROUP: u64 = 256;
/// Frames one dispatch folds in: keeps each dispatch short (GPU watchdogs) and under
/// llvmpipe's cap of 65535 iterations per shader loop, past which it silently stops.
const MAX_CHUNK_FRAMES: usize = 8192;
/// Accumulator buffers `acc0..acc5` of the shader.
const ACCUMULATORS: usize = 6;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_samples: u32,
        chunk_frames: u32,
        total_frames: u32,
        first_chunk: u32,
        op: u32,
        dtype: u32,
        row_stride: u32,
        frame_offset: u32,
        pass_index: u32,
        digit_bits: u32,
    }
}

fn op_code(op: ReduceOp) -> u32 {
    match op {
        ReduceOp::Mean => 0,
        ReduceOp::Sum => 1,
        ReduceOp::Max => 2,
        ReduceOp::Min => 3,
        ReduceOp::Std => 4,
        ReduceOp::Median => 5,
    }
}

/// Which accumulators an op uses on a dtype (the others get 4-byte dummies).
fn used_accumulators(op: ReduceOp, dtype: Dtype) -> usize {
    match (op, dtype) {
        (ReduceOp::Median, _) => ACCUMULATORS,
        (ReduceOp::Max | ReduceOp::Min, _) => 1,
        (ReduceOp::Std, Dtype::U8 | Dtype::U16) => 4,
        (_, Dtype::U8 | Dtype::U16) => 2,
        (_, Dtype::F32) => ACCUMULATORS,
    }
}

/// Bits per radix digit of the median: 4 (16 counters per sample) when those counters fit
/// `budget` bytes (the chunk budget: they take one buffer as a chunk of frames does), else
/// 2, else 1.
fn median_digit_bits(samples: u64, budget: u64) -> u32 {
    [4, 2]
        .into_iter()
        .find(|&bits| samples * (4 << bits) <= budget)
        .unwrap_or(1)
}

/// Passes of the median over the range: one per digit, and one more for the upper middle
/// when a count of samples may be even (an even frame count, or NaN in an f32 stack).
fn median_passes(dtype: Dtype, digit_bits: u32, frames: usize) -> u32 {
    let digits = 8 * dtype.size() as u32 / digit_bits;
    let maybe_even = frames >= 2 && (frames.is_multiple_of(2) || dtype == Dtype::F32);
    digits + maybe_even as u32
}

/// The compiled reduce pipelines of one device; build once, reduce many times.
pub struct GpuReduce {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    accumulate: wgpu::ComputePipeline,
    finalize: wgpu::ComputePipeline,
}

impl GpuReduce {
    /// Compiles the reduce kernels on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuReduce, GpuError> {
        // frame data (read), the accumulators and the output (read-write)
        let mut read_only = vec![true];
        read_only.extend([false; ACCUMULATORS + 1]);
        let (layout, mut p) =
            gpu.compute_pipeline("reduce", SHADER, &["accumulate", "finalize"], &read_only)?;
        let finalize = p.remove(1);
        Ok(GpuReduce {
            gpu: gpu.clone(),
            layout,
            accumulate: p.remove(0),
            finalize,
        })
    }

    /// The device the kernels run on.
    pub fn device(&self) -> &GpuDevice {
        &self.gpu
    }

    /// Reduces frames `range` of `stack` with `op` into one (H, W, C) image, as
    /// [`crate::ops::reduce::reduce`] does on the CPU. The frames stream through one
    /// chunk buffer; see [`GpuReduce::upload`] to keep a stack on the GPU instead.
    pub fn reduce(
        &self,
        stack: &Stack,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<Image, GpuError> {
        let shape = stack.shape();
        range.check(shape.frames)?;
        if shape.frame_len() == 0 {
            return Ok(Image::zeros(shape.height, shape.width, shape.channels));
        }
        let per_chunk = stream::chunk_frames(&self.gpu, stack, MAX_CHUNK_FRAMES)?.min(range.len());
        let gpu = &self.gpu;
        let mut frames = gpu.scoped(|| {
            Ok(FrameStream::new(
                gpu,
                stack,
                "reduce frame chunk",
                per_chunk,
            ))
        })?;
        let chunks = frames.chunks(range.first..range.last + 1);
        let source = Frames::Streamed(&mut frames, &chunks);
        self.run(shape, stack.dtype(), op, range.len(), source)
    }

    /// Uploads every frame of `stack` in its raw dtype, in buffers of whole frames that
    /// fit one storage binding, to reduce it many times without transfers.
    pub fn upload(&self, stack: &Stack) -> Result<GpuStack, GpuError> {
        let shape = stack.shape();
        let frame_bytes = shape.frame_len() as u64 * stack.dtype().size() as u64;
        let chunk_bytes = self.gpu.chunk_bytes();
        if frame_bytes > chunk_bytes {
            return Err(GpuError::FrameTooLarge {
                needed: frame_bytes,
                limit: chunk_bytes,
            });
        }
        let per_chunk = ((chunk_bytes / frame_bytes.max(1)) as usize).clamp(1, MAX_CHUNK_FRAMES);
        let gpu = &self.gpu;
        let chunks = gpu.scoped(|| {
            let mut chunks = Vec::new();
            let mut in_flight = InFlight::default();
            for frames in stream::chunk_ranges(0..shape.frames, per_chunk) {
                let buf = gpu.buffer(
                    "resident frames",
                    (frames.len() as u64 * frame_bytes).next_multiple_of(4),
                    wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                );
                stream::upload_frames(gpu, stack, &buf, frames.clone(), &mut in_flight)?;
                chunks.push((frames.start, frames.len(), buf));
            }
            gpu.wait(None)?;
            Ok(chunks)
        })?;
        Ok(GpuStack {
            chunks,
            shape,
            dtype: stack.dtype(),
        })
    }

    /// [`GpuReduce::reduce`] of a stack already on the GPU: no upload, only the result
    /// comes back.
    pub fn reduce_resident(
        &self,
        stack: &GpuStack,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<Image, GpuError> {
        let shape = stack.shape;
        range.check(shape.frames)?;
        if shape.frame_len() == 0 {
            return Ok(Image::zeros(shape.height, shape.width, shape.channels));
        }
        let mut segments = Vec::new();
        for (first, frames, buf) in &stack.chunks {
            let (a, b) = (range.first.max(*first), range.last.min(first + frames - 1));
            let mut t = a;
            while t <= b {
                let frames = (b + 1 - t).min(MAX_CHUNK_FRAMES);
                segments.push(Segment {
                    buf,
                    offset: t - first,
                    frames,
                });
                t += frames;
            }
        }
        self.run(
            shape,
            stack.dtype,
            op,
            range.len(),
            Frames::Resident(&segments),
        )
    }

    /// Accumulates the frames of `source` into per-sample accumulators, once per pass
    /// (one, or the median's digit passes), finalizes and reads back the image.
    fn run(
        &self,
        shape: Shape,
        dtype: Dtype,
        op: ReduceOp,
        total_frames: usize,
        mut source: Frames<'_, '_>,
    ) -> Result<Image, GpuError> {
        let op_id = op_code(op);
        // f32 moments keep their count in COUNT_BITS (25) bits of a word (reduce.wgsl)
        let moments = matches!(op, ReduceOp::Mean | ReduceOp::Sum | ReduceOp::Std);
        if dtype == Dtype::F32 && moments && total_frames >= 1 << 25 {
            return Err(GpuError::Unsupported(
                "f32 mean, sum or std over 2^25 frames or more",
            ));
        }
        let n = shape.frame_len();
        let mut image = Image::zeros(shape.height, shape.width, shape.channels);
        let out_bytes = n as u64 * 4;
        if out_bytes > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: out_bytes,
                limit: self.gpu.binding_bytes(),
            });
        }
        // 2-D dispatch: one dimension holds at most max_compute_workgroups_per_dimension
        let groups = (n as u64).div_ceil(WORKGROUP);
        let max_dim = self
            .gpu
            .limits()
            .max_compute_workgroups_per_dimension
            .max(1) as u64;
        let gx = groups.min(max_dim);
        let gy = groups.div_ceil(gx);
        if gy > max_dim {
            return Err(GpuError::FrameTooLarge {
                needed: n as u64 * dtype.size() as u64,
                limit: max_dim * max_dim * WORKGROUP * dtype.size() as u64,
            });
        }
        let row_stride = (gx * WORKGROUP) as u32;
        let digit_bits = median_digit_bits(n as u64, self.gpu.chunk_bytes());
        let passes = match op {
            ReduceOp::Median => median_passes(dtype, digit_bits, total_frames),
            _ => 1,
        };
        // the median's digit counters: one word per bin and sample
        let counts_bytes = out_bytes << digit_bits;
        if op == ReduceOp::Median && counts_bytes > self.gpu.binding_bytes() {
            return Err(GpuError::FrameTooLarge {
                needed: counts_bytes,
                limit: self.gpu.binding_bytes(),
            });
        }
        let gpu = &self.gpu;
        let data = gpu.scoped(|| {
            let buffer = |label: &str, size: u64, usage| gpu.buffer(label, size, usage);
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("reduce params");
            let used = used_accumulators(op, dtype);
            let labels = ["reduce acc0", "reduce acc1", "reduce acc2", "reduce acc3"];
            let labels = labels.iter().chain(["reduce acc4", "reduce acc5"].iter());
            let accs: Vec<wgpu::Buffer> = labels
                .enumerate()
                .map(|(k, label)| {
                    let size = match k {
                        0 if op == ReduceOp::Median => counts_bytes,
                        _ if k < used => out_bytes,
                        _ => 4,
                    };
                    buffer(label, size, storage)
                })
                .collect();
            let out_buf = buffer(
                "reduce output",
                out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let mut params = Params {
                n_samples: n as u32,
                chunk_frames: 0,
                total_frames: total_frames as u32,
                first_chunk: 1,
                op: op_id,
                dtype: super::dtype_code(dtype),
                row_stride,
                frame_offset: 0,
                pass_index: 0,
                digit_bits,
            };
            // the bind group of the last data buffer folded (one while streaming)
            let mut last_group: Option<(wgpu::Buffer, wgpu::BindGroup)> = None;
            // folds `frames` frames of `data` from frame `offset` on: one submission
            let mut fold =
                |params: &mut Params, data: &wgpu::Buffer, offset: usize, frames: usize| {
                    params.chunk_frames = frames as u32;
                    params.frame_offset = offset as u32;
                    gpu.queue
                        .write_buffer(&params_buf, 0, bytemuck::bytes_of(params));
                    params.first_chunk = 0;
                    if last_group.as_ref().is_none_or(|(b, _)| b != data) {
                        let mut buffers = vec![&params_buf, data];
                        buffers.extend(accs.iter());
                        buffers.push(&out_buf);
                        let group = gpu.bind_group("reduce bind group", &self.layout, &buffers);
                        last_group = Some((data.clone(), group));
                    }
                    let (_, group) = last_group.as_ref().expect("set just above");
                    let encoder = gpu.encode_pass(
                        "reduce accumulate",
                        &self.accumulate,
                        group,
                        (gx as u32, gy as u32),
                    );
                    gpu.queue.submit([encoder.finish()])
                };
            let mut in_flight = InFlight::default();
            for pass in 0..passes {
                params.pass_index = pass;
                params.first_chunk = 1;
                match &mut source {
                    Frames::Resident(segments) => {
                        for seg in segments.iter() {
                            let index = fold(&mut params, seg.buf, seg.offset, seg.frames);
                            in_flight.push(gpu, index)?;
                        }
                    }
                    // the median's later passes find a single chunk already there
                    Frames::Streamed(frames, chunks) => frames.run(chunks, |data, c| {
                        Ok(Some(fold(&mut params, data, 0, c.len())))
                    })?,
                }
            }
            // finalize learns how many passes ran (the median walks the last counts)
            params.pass_index = passes;
            gpu.queue
                .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
            let (_, group) =
                last_group.ok_or_else(|| GpuError::Wgpu("no frame to reduce".into()))?;
            let encoder = gpu.encode_pass(
                "reduce finalize",
                &self.finalize,
                &group,
                (gx as u32, gy as u32),
            );
            gpu.read_f32(encoder, &out_buf, out_bytes)
        })?;
        image.data = data;
        Ok(image)
    }
}

/// The frames a reduce folds: buffers kept on the GPU, or a stack streamed in chunks.
enum Frames<'s, 'a> {
    Resident(&'s [Segment<'s>]),
    Streamed(&'s mut FrameStream<'a>, &'s [std::ops::Range<usize>]),
}

/// Frames `offset .. offset + frames` of one resident buffer, folded by one dispatch.
struct Segment<'a> {
    buf: &'a wgpu::Buffer,
    offset: usize,
    frames: usize,
}

/// A stack kept on the GPU in its raw dtype: buffers of whole frames, each within one
/// storage binding.
pub struct GpuStack {
    /// (first frame, frames, buffer)
    chunks: Vec<(usize, usize, wgpu::Buffer)>,
    shape: Shape,
    dtype: Dtype,
}

impl GpuStack {
    /// Bytes of sample data held on the GPU.
    pub fn bytes(&self) -> u64 {
        self.shape.bytes(self.dtype)
    }
}

/// Reduces frames `range` of `stack` with `op` on `gpu` (compiles the kernels; keep a
/// [`GpuReduce`] to reduce many times).
pub fn reduce(
    gpu: &GpuDevice,
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
) -> Result<Image, GpuError> {
    GpuReduce::new(gpu)?.reduce(stack, op, range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_digits_fit_the_chunk_budget() {
        // 16 counters of 4 bytes per sample, else 4, else 2 whatever the budget
        assert_eq!(median_digit_bits(10, 640), 4);
        assert_eq!(median_digit_bits(10, 639), 2);
        assert_eq!(median_digit_bits(10, 160), 2);
        assert_eq!(median_digit_bits(10, 159), 1);
        assert_eq!(median_digit_bits(10, 1), 1);
    }

    #[test]
    fn median_passes_add_one_where_a_count_may_be_even() {
        assert_eq!(median_passes(Dtype::U8, 4, 5), 2);
        assert_eq!(median_passes(Dtype::U8, 4, 6), 3);
        assert_eq!(median_passes(Dtype::U16, 1, 7), 16);
        // NaN may leave an even count of any frame count; one frame never does
        assert_eq!(median_passes(Dtype::F32, 4, 7), 9);
        assert_eq!(median_passes(Dtype::F32, 2, 1), 16);
    }
}
