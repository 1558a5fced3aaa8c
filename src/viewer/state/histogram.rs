//! The stack histogram the levels are fitted to, without a full pass before the first
//! frame: a sample of at most [`SAMPLE_FRAMES`] frames spread over the stack first, then
//! every frame in a background job that reads the stack in frame order, chunk by chunk,
//! and can be cancelled between chunks.
//!
//! The full pass gives exactly `ops::histogram::histogram` over all frames: u8 counts of
//! each chunk add up; u16 and f32 take the value range in a first pass and count into
//! the same bins in a second, with the op's own binning functions.

use crate::engine::Engine;
use crate::ops::histogram::{Histogram, histogram, histogram_watched};
use crate::ops::{FrameRange, OpError};
use crate::stack::{Samples, Shape, Stack, chunk_bytes_from_env};
use crate::viewer::error::ViewerError;

use super::job::JobCtx;

/// Most frames the first (sampled) histogram reads.
pub const SAMPLE_FRAMES: usize = 64;
/// Most bytes of frames the first histogram reads (at least one frame).
pub const SAMPLE_BYTES: u64 = 64 << 20;

/// A histogram of the stack and how many of its frames it counts.
#[derive(Clone, Debug, PartialEq)]
pub struct StackHistogram {
    pub hist: Histogram,
    /// Frames counted, of `frames`.
    pub counted: usize,
    pub frames: usize,
}

impl StackHistogram {
    /// True when every frame is counted.
    pub fn is_complete(&self) -> bool {
        self.counted >= self.frames
    }
}

/// The frames a sampled histogram reads: every frame when at most `max_frames` fit in
/// `max_bytes`, else as many as fit, spread evenly from the first to the last.
pub fn sample_frames(
    frames: usize,
    frame_bytes: u64,
    max_frames: usize,
    max_bytes: u64,
) -> Vec<usize> {
    let by_bytes = (max_bytes / frame_bytes.max(1)).max(1) as usize;
    let k = frames.min(max_frames.max(1)).min(by_bytes);
    if k >= frames {
        return (0..frames).collect();
    }
    if k == 1 {
        return vec![0];
    }
    let mut v: Vec<usize> = (0..k).map(|i| i * (frames - 1) / (k - 1)).collect();
    v.dedup();
    v
}

/// The first histogram of a stack: of every frame when the sample is the whole stack
/// (through the engine, as the full one), else of the sampled frames only.
pub fn sampled_histogram(stack: &Stack, engine: &Engine) -> Result<StackHistogram, OpError> {
    let s = stack.shape();
    let frame_bytes = (s.frame_len() * stack.dtype().size()) as u64;
    let ts = sample_frames(s.frames, frame_bytes, SAMPLE_FRAMES, SAMPLE_BYTES);
    if ts.len() >= s.frames {
        let (hist, _) = engine.histogram(stack, FrameRange::all(s.frames), None)?;
        return Ok(StackHistogram {
            hist,
            counted: s.frames,
            frames: s.frames,
        });
    }
    fn gather<T: Copy>(all: &[T], n: usize, ts: &[usize]) -> Vec<T> {
        ts.iter()
            .flat_map(|&t| all[t * n..(t + 1) * n].iter().copied())
            .collect()
    }
    let n = s.frame_len();
    let shape = Shape::new(ts.len(), s.height, s.width, s.channels);
    let sample = match stack.samples() {
        Samples::U8(a) => Stack::from_vec(shape, gather(a, n, &ts)),
        Samples::U16(a) => Stack::from_vec(shape, gather(a, n, &ts)),
        Samples::F32(a) => Stack::from_vec(shape, gather(a, n, &ts)),
    }
    .map_err(|e| OpError::Invalid(e.to_string()))?;
    Ok(StackHistogram {
        hist: histogram(&sample, FrameRange::all(ts.len()), None)?,
        counted: ts.len(),
        frames: s.frames,
    })
}

/// Frames one step of a background job reads at a time (whole frames, at least one):
/// the streaming chunk budget, so that a job on a mapped stack reads its file in order
/// and checks its cancel flag every few tens of megabytes.
pub fn job_chunk_frames(stack: &Stack) -> usize {
    stack.frames_per_chunk(chunk_bytes_from_env())
}

/// The histogram of every frame, as `ops::histogram::histogram` gives it, read chunk by
/// chunk in frame order with progress and a cancel check between chunks.
pub fn full_histogram(stack: &Stack, ctx: &JobCtx) -> Result<StackHistogram, ViewerError> {
    full_histogram_in_runs(stack, job_chunk_frames(stack), ctx)
}

/// [`full_histogram`] reading `per` frames at a time: `ops::histogram` itself, with
/// progress and a cancel check after every chunk.
pub fn full_histogram_in_runs(
    stack: &Stack,
    per: usize,
    ctx: &JobCtx,
) -> Result<StackHistogram, ViewerError> {
    let s = stack.shape();
    let chunk_bytes = per.max(1) * stack.dtype().size() * s.frame_len().max(1);
    // f32 is walked twice (value range, then counts)
    let passes = if matches!(stack.samples(), Samples::F32(_)) {
        2
    } else {
        1
    };
    ctx.begin("histogram", s.frames as u64 * passes);
    let hist = match histogram_watched(
        stack,
        FrameRange::all(s.frames),
        None,
        chunk_bytes,
        &mut |frames| {
            ctx.step(frames);
            ctx.check().is_ok()
        },
    ) {
        Err(OpError::Cancelled) => return Err(ViewerError::Cancelled),
        r => r?,
    };
    Ok(StackHistogram {
        hist,
        counted: s.frames,
        frames: s.frames,
    })
}
