//! Value histogram of a frame range (all channels together, NaN and ±inf skipped) and the
//! LUT levels fitted from it (spec §6).
//!
//! u8 stacks get one bin per value 0..=255, so their levels are exact. u16 and f32 stacks
//! get equal-width bins over the finite [min, max] of the frames: bin `i` holds
//! `floor((v - min) * bins / (max - min))`, clamped so that max falls in the last bin
//! (exact integer arithmetic for u16, f64 for f32). The frames are read in order, chunk
//! by chunk (see [`Stack::for_each_chunk`]); inside a chunk the samples split into pieces,
//! each rayon task counts into its own partial histogram and the partials are summed.

use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use super::{FrameRange, OpError};
use crate::stack::{Samples, Stack};

/// Bins of a u16 or f32 histogram when the caller gives none.
pub const DEFAULT_BINS: usize = 1024;
/// Most bins a histogram may ask for (8 MiB of counts per partial histogram).
pub const MAX_BINS: usize = 1 << 20;

/// Samples one task counts before its partial histogram is merged or reused.
const CHUNK: usize = 1 << 16;

/// Counts of sample values in equal-width bins over `lo..hi`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub lo: f64,
    /// Upper edge of the last bin (inclusive: the largest value counts in the last bin).
    pub hi: f64,
    /// Samples per bin.
    pub counts: Vec<u64>,
    /// Samples counted (finite ones only).
    pub total: u64,
    /// True when bin `i` holds exactly the integer value `lo + i` (u8 stacks).
    pub exact: bool,
}

/// Display range of the lookup table: `min` maps to the bottom of the colormap, `max` to
/// the top.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Levels {
    pub min: f32,
    pub max: f32,
}

impl Levels {
    /// Levels from a fitted (min, max), made usable: a non-finite min becomes 0, a
    /// non-finite max or one not above min becomes min + 1 (spec §6).
    pub fn fitted(min: f32, max: f32) -> Self {
        let min = if min.is_finite() { min } else { 0.0 };
        let max = if max.is_finite() && max > min {
            max
        } else {
            // min + 1 rounds back to min above 2^24; the next float up still orders them
            (min + 1.0).max(min.next_up())
        };
        Levels { min, max }
    }
}

impl Histogram {
    /// The range the counted samples span, None when there is none: for exact bins
    /// (u8) the first and last value that occurs, else the bins' range (which is the
    /// finite samples' own min..max).
    pub fn data_range(&self) -> Option<(f64, f64)> {
        if self.total == 0 {
            return None;
        }
        if !self.exact {
            return Some((self.lo, self.hi));
        }
        let first = self.counts.iter().position(|&c| c > 0)?;
        let last = self.counts.iter().rposition(|&c| c > 0)?;
        Some((self.lo + first as f64, self.lo + last as f64))
    }

    /// A histogram with no sample: `bins` zero counts over 0..1.
    pub(crate) fn empty(bins: usize) -> Self {
        Histogram {
            lo: 0.0,
            hi: 1.0,
            counts: vec![0; bins],
            total: 0,
            exact: false,
        }
    }

    /// Width of one bin.
    pub fn bin_width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// The `bins + 1` bin edges, `lo` first and `hi` last; bin `i` covers
    /// `[edges[i], edges[i + 1])` (the last bin includes `hi`).
    pub fn bin_edges(&self) -> Vec<f64> {
        let n = self.counts.len();
        (0..=n).map(|i| self.edge(i)).collect()
    }

    fn edge(&self, i: usize) -> f64 {
        let n = self.counts.len();
        if i == n {
            self.hi
        } else {
            self.lo + (self.hi - self.lo) * i as f64 / n as f64
        }
    }

    /// Smallest value counted: exact for u8, the lower edge of the first non-empty bin
    /// otherwise; None when nothing was counted.
    pub fn min(&self) -> Option<f64> {
        let i = self.counts.iter().position(|&c| c > 0)?;
        Some(if self.exact {
            self.lo + i as f64
        } else {
            self.edge(i)
        })
    }

    /// Largest value counted: exact for u8, the upper edge of the last non-empty bin
    /// otherwise; None when nothing was counted.
    pub fn max(&self) -> Option<f64> {
        let i = self.counts.iter().rposition(|&c| c > 0)?;
        Some(if self.exact {
            self.lo + i as f64
        } else {
            self.edge(i + 1)
        })
    }

    /// The `p`-th percentile (0..=100) with numpy's linear interpolation between the two
    /// closest ranks; None when nothing was counted.
    ///
    /// The `j`-th smallest value is read off the cumulative counts: exactly for u8, and
    /// otherwise spread evenly inside its bin (the `m`-th of `c` samples of bin `i` sits
    /// at `edge(i) + (m + 0.5) / c * width`), so the estimate is within one bin width of
    /// the true percentile.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = (p.clamp(0.0, 100.0) / 100.0) * (self.total - 1) as f64;
        let k = (rank.floor() as u64).min(self.total - 1);
        let t = rank - k as f64;
        let a = self.nth(k);
        if t == 0.0 || k + 1 >= self.total {
            return Some(a);
        }
        let b = self.nth(k + 1);
        // numpy's _lerp: from the nearer end, so t = 1 gives b exactly
        Some(if t < 0.5 {
            a + (b - a) * t
        } else {
            b - (b - a) * (1.0 - t)
        })
    }

    /// The `j`-th smallest counted value (0-based, `j < total`), as `percentile` places it.
    fn nth(&self, j: u64) -> f64 {
        let mut before = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if j < before + c {
                return if self.exact {
                    self.lo + i as f64
                } else {
                    let m = (j - before) as f64;
                    self.edge(i) + (m + 0.5) / c as f64 * self.bin_width()
                };
            }
            before += c;
        }
        self.hi
    }
}

/// Histogram of every sample (all channels) of `frames`; NaN and ±inf are skipped.
/// u8 stacks always get 256 bins of width 1 (`bins` is ignored); u16 and f32 stacks get
/// `bins` (default [`DEFAULT_BINS`]) equal-width bins over the finite range of the frames.
pub fn histogram(
    stack: &Stack,
    frames: FrameRange,
    bins: Option<usize>,
) -> Result<Histogram, OpError> {
    histogram_chunked(stack, frames, bins, stack.default_chunk_bytes())
}

/// [`histogram`] reading the frames in order, about `chunk_bytes` of them at a time, the
/// samples of a chunk in parallel. Frames over one chunk are read once for u8 and u16
/// (every u16 value counted exactly, binned after) and twice for f32 (range, counts).
pub fn histogram_chunked(
    stack: &Stack,
    frames: FrameRange,
    bins: Option<usize>,
    chunk_bytes: usize,
) -> Result<Histogram, OpError> {
    histogram_watched(stack, frames, bins, chunk_bytes, &mut |_| true)
}

/// [`histogram_chunked`] that tells `watch` the frames of every chunk it has counted
/// (f32 stacks are walked twice: range, then counts) and stops with
/// [`OpError::Cancelled`] when `watch` returns false: the viewer's background job.
pub fn histogram_watched(
    stack: &Stack,
    frames: FrameRange,
    bins: Option<usize>,
    chunk_bytes: usize,
    watch: &mut dyn FnMut(u64) -> bool,
) -> Result<Histogram, OpError> {
    let shape = stack.shape();
    frames.check(shape.frames)?;
    let walk = Walk {
        stack,
        frames: frames.first..frames.last + 1,
        chunk_bytes,
        watch: std::cell::RefCell::new(watch),
        stopped: std::cell::Cell::new(false),
    };
    let h = match stack.samples() {
        Samples::U8(s) => u8_histogram(&walk, s),
        Samples::U16(s) => u16_histogram(&walk, s, bin_count(bins)?),
        Samples::F32(s) => f32_histogram(&walk, s, bin_count(bins)?),
    };
    if walk.stopped.get() {
        return Err(OpError::Cancelled);
    }
    Ok(h)
}

/// Frames of a stack walked in order under a chunk budget.
struct Walk<'a> {
    stack: &'a Stack,
    frames: Range<usize>,
    chunk_bytes: usize,
    /// Told the frames of each chunk done; false stops the walk.
    watch: std::cell::RefCell<&'a mut dyn FnMut(u64) -> bool>,
    stopped: std::cell::Cell<bool>,
}

impl Walk<'_> {
    /// Whether the frames fit in one chunk.
    fn one_chunk(&self) -> bool {
        self.stack.frames_per_chunk(self.chunk_bytes) >= self.frames.len()
    }

    /// Calls `f` on the samples of each chunk of frames, in order (`all` is the whole
    /// stack's samples).
    fn each<T>(&self, all: &[T], mut f: impl FnMut(&[T])) {
        if self.stopped.get() {
            return;
        }
        let n = self.stack.shape().frame_len();
        let _ = self
            .stack
            .for_each_chunk(self.frames.clone(), self.chunk_bytes, |c| {
                f(&all[c.start * n..c.end * n]);
                if (self.watch.borrow_mut())(c.len() as u64) {
                    Ok(())
                } else {
                    self.stopped.set(true);
                    Err(())
                }
            });
    }

    /// The samples of all the frames at once.
    fn slice<'s, T>(&self, all: &'s [T]) -> &'s [T] {
        let n = self.stack.shape().frame_len();
        &all[self.frames.start * n..self.frames.end * n]
    }

    /// Samples in the frames.
    fn samples(&self) -> u64 {
        (self.frames.len() * self.stack.shape().frame_len()) as u64
    }
}

/// The bins of a u16 or f32 histogram: `bins` or [`DEFAULT_BINS`], checked.
pub fn bin_count(bins: Option<usize>) -> Result<usize, OpError> {
    match bins.unwrap_or(DEFAULT_BINS) {
        b @ 1..=MAX_BINS => Ok(b),
        b => Err(OpError::Invalid(format!(
            "histogram bins must be 1..={MAX_BINS}, got {b}"
        ))),
    }
}

/// The bin of a u16 value `d` above the minimum, of `span` = max - min, in `bins` bins.
pub(crate) fn u16_bin(d: u64, span: u64, bins: usize) -> usize {
    let i = (d * bins as u64).checked_div(span).unwrap_or(0);
    i.min(bins as u64 - 1) as usize
}

/// The bins of f32 values in `bins` bins over `lo..=hi`: `v` to its bin.
pub(crate) fn f32_binner(lo: f64, hi: f64, bins: usize) -> impl Fn(f32) -> usize + Sync {
    let last = bins - 1;
    let scale = if hi > lo {
        bins as f64 / (hi - lo)
    } else {
        0.0
    };
    move |v| (((v as f64 - lo) * scale) as usize).min(last)
}

/// Sums per-task partial histograms.
fn merge(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
    a
}

/// Counts into `bins` bins, one partial histogram per rayon task; `bin_of` gives a
/// sample's bin, or None to skip it.
fn count<T: Copy + Sync>(
    s: &[T],
    bins: usize,
    bin_of: impl Fn(T) -> Option<usize> + Sync,
) -> Vec<u64> {
    s.par_chunks(CHUNK)
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
        .reduce(|| vec![0u64; bins], merge)
}

fn u8_histogram(walk: &Walk<'_>, all: &[u8]) -> Histogram {
    let mut counts = vec![0u64; 256];
    walk.each(all, |s| {
        counts = merge(std::mem::take(&mut counts), u8_counts(s))
    });
    Histogram {
        lo: 0.0,
        hi: 256.0,
        counts,
        total: walk.samples(),
        exact: true,
    }
}

/// Counts of every u8 value in `s`.
fn u8_counts(s: &[u8]) -> Vec<u64> {
    s.par_chunks(CHUNK)
        .fold(
            || vec![0u64; 256],
            |mut acc, c| {
                // four tables in turn: a run of one value does not serialize on one counter
                let mut t = [[0u32; 256]; 4];
                let mut quads = c.chunks_exact(4);
                for q in &mut quads {
                    t[0][q[0] as usize] += 1;
                    t[1][q[1] as usize] += 1;
                    t[2][q[2] as usize] += 1;
                    t[3][q[3] as usize] += 1;
                }
                for &v in quads.remainder() {
                    t[0][v as usize] += 1;
                }
                for (v, a) in acc.iter_mut().enumerate() {
                    *a += (t[0][v] + t[1][v] + t[2][v] + t[3][v]) as u64;
                }
                acc
            },
        )
        .reduce(|| vec![0u64; 256], merge)
}

fn u16_histogram(walk: &Walk<'_>, all: &[u16], bins: usize) -> Histogram {
    let total = walk.samples();
    if total == 0 {
        return Histogram::empty(bins);
    }
    let (min, max, counts) = if walk.one_chunk() {
        // in cache: a range pass, then a lookup of each value's bin
        let s = walk.slice(all);
        let (min, max) = s
            .par_chunks(CHUNK)
            .map(|c| {
                c.iter()
                    .fold((u16::MAX, 0u16), |(lo, hi), &v| (lo.min(v), hi.max(v)))
            })
            .reduce(|| (u16::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let span = (max - min) as u64;
        // the bin of every value in range, once: a lookup per sample instead of a division
        let lut: Vec<u32> = (0..=span).map(|d| u16_bin(d, span, bins) as u32).collect();
        let counts = count(s, bins, |v| Some(lut[(v - min) as usize] as usize));
        (min, max, counts)
    } else {
        // streamed: one pass counting every value exactly, binned afterwards
        let mut per_value = vec![0u64; 1 << 16];
        walk.each(all, |s| {
            per_value = merge(
                std::mem::take(&mut per_value),
                count(s, 1 << 16, |v| Some(v as usize)),
            )
        });
        let min = per_value.iter().position(|&c| c > 0).unwrap_or(0) as u16;
        let max = per_value.iter().rposition(|&c| c > 0).unwrap_or(0) as u16;
        let span = (max - min) as u64;
        let mut counts = vec![0u64; bins];
        for d in 0..=span {
            counts[u16_bin(d, span, bins)] += per_value[min as usize + d as usize];
        }
        (min, max, counts)
    };
    Histogram {
        lo: min as f64,
        hi: max as f64,
        counts,
        total,
        exact: false,
    }
}

fn f32_histogram(walk: &Walk<'_>, all: &[f32], bins: usize) -> Histogram {
    let fresh = || (f32::INFINITY, f32::NEG_INFINITY);
    let both = |a: (f32, f32), b: (f32, f32)| (a.0.min(b.0), a.1.max(b.1));
    let mut range = fresh();
    walk.each(all, |s| {
        let r = s
            .par_chunks(CHUNK)
            .map(|c| {
                c.iter()
                    .filter(|v| v.is_finite())
                    .fold(fresh(), |(lo, hi), &v| (lo.min(v), hi.max(v)))
            })
            .reduce(fresh, both);
        range = both(range, r);
    });
    let (min, max) = range;
    if min > max {
        return Histogram::empty(bins);
    }
    let (lo, hi) = (min as f64, max as f64);
    let bin = f32_binner(lo, hi, bins);
    let mut counts = vec![0u64; bins];
    walk.each(all, |s| {
        counts = merge(
            std::mem::take(&mut counts),
            count(s, bins, |v| v.is_finite().then(|| bin(v))),
        )
    });
    let total = counts.iter().sum();
    Histogram {
        lo,
        hi,
        counts,
        total,
        exact: false,
    }
}

/// LUT levels from a histogram (spec §6): `trim_percent` q (clamped to 0..=49) = 0 gives
/// the smallest and largest value; q > 0 the q-th and (100 - q)-th percentiles. The
/// result goes through [`Levels::fitted`]; an empty histogram gives 0..1.
pub fn auto_levels(hist: &Histogram, trim_percent: f32) -> Levels {
    let q = if trim_percent.is_nan() {
        0.0
    } else {
        trim_percent.clamp(0.0, 49.0) as f64
    };
    let (min, max) = if q == 0.0 {
        (hist.min(), hist.max())
    } else {
        (hist.percentile(q), hist.percentile(100.0 - q))
    };
    let f = |v: Option<f64>| v.map_or(f32::NAN, |v| v as f32);
    Levels::fitted(f(min), f(max))
}

/// The symmetric levels `±max(|min|, max)` of a diverging colormap when `min < 0 < max`
/// (spec §6, auto colormap), else None.
pub fn symmetric(levels: Levels) -> Option<Levels> {
    (levels.min < 0.0 && levels.max > 0.0).then(|| {
        let m = levels.min.abs().max(levels.max);
        Levels { min: -m, max: m }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_sees_every_chunk_and_can_stop_the_walk() {
        use crate::stack::Shape;
        // 10 frames of 4 u8 samples, chunks of 3 frames
        let st =
            Stack::from_vec(Shape::new(10, 2, 2, 1), (0..40).map(|v| v as u8).collect()).unwrap();
        let mut seen = Vec::new();
        let h = histogram_watched(&st, FrameRange::all(10), None, 12, &mut |n| {
            seen.push(n);
            true
        })
        .unwrap();
        assert_eq!(seen, vec![3, 3, 3, 1]);
        assert_eq!(h.total, 40);
        assert_eq!(h.counts[..40], [1u64; 40]);
        let mut calls = 0;
        let r = histogram_watched(&st, FrameRange::all(10), None, 12, &mut |_| {
            calls += 1;
            false
        });
        assert!(matches!(r, Err(OpError::Cancelled)));
        assert_eq!(calls, 1, "stops after the first chunk");
    }
    use crate::stack::Shape;

    fn row<T: crate::stack::StackSample>(frames: usize, v: Vec<T>) -> Stack {
        let w = v.len() / frames;
        Stack::from_vec(Shape::new(frames, 1, w, 1), v).unwrap()
    }

    #[test]
    fn the_data_range_is_the_values_that_occur() {
        let h = histogram(&row(1, vec![18u8, 40, 255]), FrameRange::all(1), None).unwrap();
        assert_eq!((h.lo, h.hi), (0.0, 256.0), "exact bins span every u8 value");
        assert_eq!(h.data_range(), Some((18.0, 255.0)));
        let h = histogram(&row(1, vec![300u16, 900]), FrameRange::all(1), Some(8)).unwrap();
        assert_eq!(h.data_range(), Some((300.0, 900.0)));
        let h = histogram(&row(1, vec![f32::NAN]), FrameRange::all(1), Some(8)).unwrap();
        assert_eq!(h.data_range(), None);
    }

    #[test]
    fn u8_counts_one_bin_per_value() {
        // frame 0: 0 3 3 255, frame 1: 7 7 7 3
        let s = row::<u8>(2, vec![0, 3, 3, 255, 7, 7, 7, 3]);
        let h = histogram(&s, FrameRange::all(2), Some(10)).unwrap();
        assert_eq!(
            (h.lo, h.hi, h.counts.len(), h.total, h.exact),
            (0.0, 256.0, 256, 8, true)
        );
        assert_eq!(
            (h.counts[0], h.counts[3], h.counts[7], h.counts[255]),
            (1, 3, 3, 1)
        );
        assert_eq!(h.counts.iter().sum::<u64>(), 8);
        let e = h.bin_edges();
        assert_eq!((e.len(), e[0], e[3], e[256]), (257, 0.0, 3.0, 256.0));
        // frame 1 only: 7 7 7 3
        let h = histogram(&s, FrameRange::new(1, 1), None).unwrap();
        assert_eq!((h.counts[3], h.counts[7], h.total), (1, 3, 4));
        assert!(histogram(&s, FrameRange::new(1, 2), None).is_err());
    }

    #[test]
    fn u16_bins_span_min_to_max() {
        // values 10, 14, 18, 50 in 4 bins over [10, 50]: width 10, edges 10 20 30 40 50;
        // 10 14 18 -> bin 0, 50 -> bin 3 (the max falls in the last bin)
        let s = row::<u16>(1, vec![18, 10, 50, 14]);
        let h = histogram(&s, FrameRange::all(1), Some(4)).unwrap();
        assert_eq!((h.lo, h.hi, h.total), (10.0, 50.0, 4));
        assert_eq!(h.counts, vec![3, 0, 0, 1]);
        assert_eq!(h.bin_edges(), vec![10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(h.bin_width(), 10.0);
        assert!(histogram(&s, FrameRange::all(1), Some(0)).is_err());
    }

    #[test]
    fn f32_skips_non_finite_and_constant_goes_to_bin_0() {
        // finite values -1, 0, 3: range [-1, 3], 2 bins of width 2: -1 0 -> bin 0, 3 -> bin 1
        let s = row::<f32>(
            1,
            vec![f32::NAN, -1.0, f32::INFINITY, 0.0, 3.0, f32::NEG_INFINITY],
        );
        let h = histogram(&s, FrameRange::all(1), Some(2)).unwrap();
        assert_eq!((h.lo, h.hi, h.total), (-1.0, 3.0, 3));
        assert_eq!(h.counts, vec![2, 1]);
        let c = row::<f32>(1, vec![5.0, f32::NAN, 5.0]);
        let h = histogram(&c, FrameRange::all(1), Some(8)).unwrap();
        assert_eq!((h.lo, h.hi, h.total, h.counts[0]), (5.0, 5.0, 2, 2));
        // constant: min = max = 5 -> max becomes min + 1
        assert_eq!(auto_levels(&h, 0.0), Levels { min: 5.0, max: 6.0 });
        // nothing finite: empty histogram, levels 0..1
        let n = row::<f32>(1, vec![f32::NAN, f32::INFINITY]);
        let h = histogram(&n, FrameRange::all(1), None).unwrap();
        assert_eq!((h.total, h.counts.len()), (0, DEFAULT_BINS));
        assert_eq!(auto_levels(&h, 2.0), Levels { min: 0.0, max: 1.0 });
    }

    #[test]
    fn u8_levels_are_exact_percentiles() {
        // sorted 0 10 20 30 40 50 60 70 80 90 100 (n = 11)
        let s = row::<u8>(1, (0..=10).map(|v| v * 10).rev().collect());
        let h = histogram(&s, FrameRange::all(1), None).unwrap();
        assert_eq!(
            auto_levels(&h, 0.0),
            Levels {
                min: 0.0,
                max: 100.0
            }
        );
        // q = 5: rank 0.05 * 10 = 0.5 -> 0 + 0.5 * 10 = 5; q = 95: rank 9.5 -> 95
        assert_eq!(
            auto_levels(&h, 5.0),
            Levels {
                min: 5.0,
                max: 95.0
            }
        );
        // q = 49: rank 4.9 -> 40 + 0.9 * 10 = 49; rank 5.1 -> 51
        let l = auto_levels(&h, 49.0);
        assert!((l.min - 49.0).abs() < 1e-4 && (l.max - 51.0).abs() < 1e-4);
        // above 49 is clamped to 49
        assert_eq!(auto_levels(&h, 80.0), l);
    }

    #[test]
    fn binned_levels_use_bin_edges_and_interpolate_inside_bins() {
        // u16 0 and 1000 twice plus 400, 10 bins of width 100 over [0, 1000]
        let s = row::<u16>(1, vec![0, 1000, 400, 0, 1000]);
        let h = histogram(&s, FrameRange::all(1), Some(10)).unwrap();
        assert_eq!(h.counts, vec![2, 0, 0, 0, 1, 0, 0, 0, 0, 2]);
        // q = 0: lower edge of bin 0 = 0, upper edge of bin 9 = 1000
        assert_eq!(
            auto_levels(&h, 0.0),
            Levels {
                min: 0.0,
                max: 1000.0
            }
        );
        // q = 25: rank 0.25 * 4 = 1 -> the 2nd smallest, the 2nd of 2 in bin 0:
        // 0 + (1 + 0.5) / 2 * 100 = 75; q = 75: rank 3 -> 1st of 2 in bin 9:
        // 900 + 0.5 / 2 * 100 = 925
        assert_eq!(
            auto_levels(&h, 25.0),
            Levels {
                min: 75.0,
                max: 925.0
            }
        );
        // q = 40: rank 1.6 -> 75 + 0.6 * (450 - 75) = 300 (400's bin 4 places it at 450)
        let p = h.percentile(40.0).unwrap();
        assert!((p - 300.0).abs() < 1e-9, "{p}");
    }

    #[test]
    fn fitted_and_symmetric_levels() {
        assert_eq!(Levels::fitted(f32::NAN, 3.0), Levels { min: 0.0, max: 3.0 });
        assert_eq!(Levels::fitted(2.0, 2.0), Levels { min: 2.0, max: 3.0 });
        assert_eq!(
            Levels::fitted(2.0, f32::INFINITY),
            Levels { min: 2.0, max: 3.0 }
        );
        let big = Levels::fitted(1e30, 1e30);
        assert!(big.max > big.min);
        // -3..2 -> ±3; -1..5 -> ±5; no sign change -> None
        let sym = |min, max| symmetric(Levels { min, max });
        assert_eq!(
            sym(-3.0, 2.0),
            Some(Levels {
                min: -3.0,
                max: 3.0
            })
        );
        assert_eq!(
            sym(-1.0, 5.0),
            Some(Levels {
                min: -5.0,
                max: 5.0
            })
        );
        assert_eq!(sym(0.0, 5.0), None);
        assert_eq!(sym(-4.0, -1.0), None);
    }
}
