//! The stack histogram the levels are fitted to, without a full pass before the first
//! frame: a sample of at most [`SAMPLE_FRAMES`] frames spread over the stack first, then
//! every frame in a background job that reads the stack in frame order, chunk by chunk,
//! and can be cancelled between chunks.
//!
//! The full pass gives exactly `ops::histogram::histogram` over all frames: u8 counts of
//! each chunk add up; u16 and f32 take the value range in a first pass and count into
//! the same bins in a second, with the op's own binning functions.

use rayon::prelude::*;

use crate::engine::Engine;
use crate::ops::histogram::{DEFAULT_BINS, Histogram, f32_binner, histogram, u16_bin};
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

/// Samples one task counts at a time.
const TASK: usize = 1 << 16;

fn add(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
    a
}

fn count<T: Copy + Sync>(
    s: &[T],
    bins: usize,
    bin_of: impl Fn(T) -> Option<usize> + Sync,
) -> Vec<u64> {
    s.par_chunks(TASK)
        .fold(
            || vec![0u64; bins],
            |mut acc, c| {
                for &v in c {
                    if let Some(i) = bin_of(v) {
                        acc[i] += 1;
                    }
                }
                acc
            },
        )
        .reduce(|| vec![0u64; bins], add)
}

/// The histogram of every frame, as `ops::histogram::histogram` gives it, read chunk by
/// chunk in frame order with progress and a cancel check between chunks.
pub fn full_histogram(stack: &Stack, ctx: &JobCtx) -> Result<StackHistogram, ViewerError> {
    full_histogram_in_runs(stack, job_chunk_frames(stack), ctx)
}

/// [`full_histogram`] reading `per` frames at a time.
pub fn full_histogram_in_runs(
    stack: &Stack,
    per: usize,
    ctx: &JobCtx,
) -> Result<StackHistogram, ViewerError> {
    let s = stack.shape();
    let n = s.frame_len();
    let chunk_bytes = per.max(1) * stack.dtype().size() * n.max(1);
    // walks the chunks in order with read-ahead and drop-behind, one progress phase
    let pass = |phase: &str, f: &mut dyn FnMut(std::ops::Range<usize>)| {
        ctx.begin(phase, s.frames as u64);
        stack.for_each_chunk(0..s.frames, chunk_bytes, |r| {
            ctx.check()?;
            let len = r.len() as u64;
            f(r);
            ctx.step(len);
            Ok::<(), ViewerError>(())
        })
    };
    let slice = |r: &std::ops::Range<usize>| r.start * n..r.end * n;
    let hist = match stack.samples() {
        Samples::U8(all) => {
            let mut counts = vec![0u64; 256];
            pass("histogram", &mut |r| {
                let h = u8_counts(&all[slice(&r)]);
                counts = add(std::mem::take(&mut counts), h);
            })?;
            Histogram {
                lo: 0.0,
                hi: 256.0,
                total: counts.iter().sum(),
                counts,
                exact: true,
            }
        }
        Samples::U16(all) => {
            let (mut lo, mut hi) = (u16::MAX, 0u16);
            pass("value range", &mut |r| {
                let (a, b) = all[slice(&r)]
                    .par_chunks(TASK)
                    .map(|c| {
                        c.iter()
                            .fold((u16::MAX, 0u16), |(l, h), &v| (l.min(v), h.max(v)))
                    })
                    .reduce(|| (u16::MAX, 0), |x, y| (x.0.min(y.0), x.1.max(y.1)));
                (lo, hi) = (lo.min(a), hi.max(b));
            })?;
            if all.is_empty() {
                Histogram::empty(DEFAULT_BINS)
            } else {
                let span = (hi - lo) as u64;
                let lut: Vec<u32> = (0..=span)
                    .map(|d| u16_bin(d, span, DEFAULT_BINS) as u32)
                    .collect();
                let mut counts = vec![0u64; DEFAULT_BINS];
                pass("histogram", &mut |r| {
                    let c = count(&all[slice(&r)], DEFAULT_BINS, |v| {
                        Some(lut[(v - lo) as usize] as usize)
                    });
                    counts = add(std::mem::take(&mut counts), c);
                })?;
                Histogram {
                    lo: lo as f64,
                    hi: hi as f64,
                    counts,
                    total: all.len() as u64,
                    exact: false,
                }
            }
        }
        Samples::F32(all) => {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            pass("value range", &mut |r| {
                let (a, b) = all[slice(&r)]
                    .par_chunks(TASK)
                    .map(|c| {
                        c.iter()
                            .filter(|v| v.is_finite())
                            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                                (l.min(v), h.max(v))
                            })
                    })
                    .reduce(
                        || (f32::INFINITY, f32::NEG_INFINITY),
                        |x, y| (x.0.min(y.0), x.1.max(y.1)),
                    );
                (lo, hi) = (lo.min(a), hi.max(b));
            })?;
            if lo > hi {
                Histogram::empty(DEFAULT_BINS)
            } else {
                let (l, h) = (lo as f64, hi as f64);
                let bin = f32_binner(l, h, DEFAULT_BINS);
                let mut counts = vec![0u64; DEFAULT_BINS];
                pass("histogram", &mut |r| {
                    let c = count(&all[slice(&r)], DEFAULT_BINS, |v| {
                        v.is_finite().then(|| bin(v))
                    });
                    counts = add(std::mem::take(&mut counts), c);
                })?;
                Histogram {
                    lo: l,
                    hi: h,
                    total: counts.iter().sum(),
                    counts,
                    exact: false,
                }
            }
        }
    };
    Ok(StackHistogram {
        hist,
        counted: s.frames,
        frames: s.frames,
    })
}

fn u8_counts(s: &[u8]) -> Vec<u64> {
    count(s, 256, |v| Some(v as usize))
}
