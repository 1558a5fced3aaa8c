//! Temporal reduce over an inclusive frame range: mean, max, min, std (population),
//! median, sum. Results are f32; NaN samples of float stacks are skipped.
//!
//! Every sample (pixel and channel) reduces independently, so the work splits into
//! blocks of consecutive samples: one rayon task per block walks the frames of the range
//! and keeps its accumulators in cache. Integer stacks accumulate exactly in integers
//! (u8 sums in u16 lanes flushed every 257 frames, squares in u32/u64); the median of u8
//! is a per-sample histogram select, of u16 and f32 a per-sample quickselect.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::Serialize;

mod streamed;

use super::{FrameRange, Image, OpError};
use crate::load::{NoProgress, Progress};
use crate::stack::{Sample, Samples, Stack};

/// A reduction over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReduceOp {
    Mean,
    Max,
    Min,
    Std,
    Median,
    Sum,
}

impl ReduceOp {
    /// Every operation, in the order the CLI and benches list them.
    pub const ALL: [ReduceOp; 6] = [
        ReduceOp::Mean,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Std,
        ReduceOp::Median,
        ReduceOp::Sum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Std => "std",
            ReduceOp::Median => "median",
            ReduceOp::Sum => "sum",
        }
    }
}

impl fmt::Display for ReduceOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReduceOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReduceOp::ALL
            .into_iter()
            .find(|op| op.name() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown reduce op '{s}' (mean, max, min, std, median, sum)"))
    }
}

/// Samples per block: accumulators of one block stay in L1/L2.
const BLOCK: usize = 8192;

/// Reduces frames `range` of `stack` with `op` into one (H, W, C) image.
pub fn reduce(stack: &Stack, op: ReduceOp, range: FrameRange) -> Result<Image, OpError> {
    reduce_chunked(stack, op, range, stack.default_chunk_bytes())
}

/// [`reduce`] reading at most `chunk_bytes` of frames at a time, in frame order (the file
/// of a mapped stack is read once; the median makes one pass per radix digit).
pub fn reduce_chunked(
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
    chunk_bytes: usize,
) -> Result<Image, OpError> {
    let s = stack.shape();
    let mut out = Image::zeros(s.height, s.width, s.channels);
    reduce_into_chunked(stack, op, range, &mut out, chunk_bytes)?;
    Ok(out)
}

/// [`reduce`] into an existing image of the stack's frame shape, so that repeated
/// reductions (a range dragged in the viewer, benchmarks) reuse one buffer.
pub fn reduce_into(
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
    out: &mut Image,
) -> Result<(), OpError> {
    reduce_into_chunked(stack, op, range, out, stack.default_chunk_bytes())
}

/// [`reduce_into`] under a chunk budget (see [`reduce_chunked`]).
pub fn reduce_into_chunked(
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
    out: &mut Image,
    chunk_bytes: usize,
) -> Result<(), OpError> {
    reduce_into_watched(stack, op, range, out, chunk_bytes, &NoProgress)
}

/// [`reduce_chunked`] telling `progress` the work done (a streamed range: frames read,
/// once per pass; a range in memory: blocks of samples reduced) and stopping with
/// [`OpError::Cancelled`] soon after it is cancelled.
pub fn reduce_watched(
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
    chunk_bytes: usize,
    progress: &dyn Progress,
) -> Result<Image, OpError> {
    let s = stack.shape();
    let mut out = Image::zeros(s.height, s.width, s.channels);
    reduce_into_watched(stack, op, range, &mut out, chunk_bytes, progress)?;
    Ok(out)
}

/// [`reduce_watched`] into an existing image (see [`reduce_into`]).
pub fn reduce_into_watched(
    stack: &Stack,
    op: ReduceOp,
    range: FrameRange,
    out: &mut Image,
    chunk_bytes: usize,
    progress: &dyn Progress,
) -> Result<(), OpError> {
    let s = stack.shape();
    range.check(s.frames)?;
    if (out.height, out.width, out.channels) != (s.height, s.width, s.channels) {
        return Err(OpError::Invalid(format!(
            "output image is {}x{}x{}, the stack's frames are {}x{}x{}",
            out.height, out.width, out.channels, s.height, s.width, s.channels
        )));
    }
    let frames = range.first..range.last + 1;
    if stack.frames_per_chunk(chunk_bytes) < range.len() {
        return streamed::reduce(stack, op, frames, chunk_bytes, progress, &mut out.data);
    }
    // the whole range at once: each block of samples walks every frame in cache
    let frames: Vec<Samples<'_>> = frames.map(|t| stack.frame(t)).collect();
    progress.start("reduce", out.data.len().div_ceil(BLOCK) as u64);
    out.data
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, dst)| {
            if progress.is_cancelled() {
                return;
            }
            let lo = b * BLOCK;
            reduce_block(&frames, op, lo..lo + dst.len(), dst);
            progress.advance(1);
        });
    if progress.is_cancelled() {
        return Err(OpError::Cancelled);
    }
    Ok(())
}

/// Reduces samples `r` of every frame into `dst`.
pub(crate) fn reduce_block(
    frames: &[Samples<'_>],
    op: ReduceOp,
    r: std::ops::Range<usize>,
    dst: &mut [f32],
) {
    macro_rules! typed {
        ($variant:ident) => {{
            let fs: Vec<&[_]> = frames
                .iter()
                .map(|f| match f {
                    Samples::$variant(s) => &s[r.clone()],
                    _ => unreachable!("one stack has one dtype"),
                })
                .collect();
            fs
        }};
    }
    match frames[0] {
        Samples::U8(_) => {
            let fs = typed!(U8);
            match op {
                ReduceOp::Mean | ReduceOp::Sum | ReduceOp::Std => {
                    int_moments(&fs, op, dst, u8_accumulate)
                }
                ReduceOp::Max => extreme(&fs, dst, |a: u8, b: u8| a.max(b)),
                ReduceOp::Min => extreme(&fs, dst, |a: u8, b: u8| a.min(b)),
                ReduceOp::Median => u8_median(&fs, dst),
            }
        }
        Samples::U16(_) => {
            let fs = typed!(U16);
            match op {
                ReduceOp::Mean | ReduceOp::Sum | ReduceOp::Std => {
                    int_moments(&fs, op, dst, u16_accumulate)
                }
                ReduceOp::Max => extreme(&fs, dst, |a: u16, b: u16| a.max(b)),
                ReduceOp::Min => extreme(&fs, dst, |a: u16, b: u16| a.min(b)),
                ReduceOp::Median => select_median(&fs, dst),
            }
        }
        Samples::F32(_) => {
            let fs = typed!(F32);
            match op {
                ReduceOp::Mean | ReduceOp::Sum | ReduceOp::Std => f32_moments(&fs, op, dst),
                // f32::max/min return the other argument when one is NaN: NaN is skipped,
                // and a sample that is NaN in every frame stays NaN
                ReduceOp::Max => extreme(&fs, dst, f32::max),
                ReduceOp::Min => extreme(&fs, dst, f32::min),
                ReduceOp::Median => select_median(&fs, dst),
            }
        }
    }
}

/// Element-wise max or min over the frames.
fn extreme<T: Sample>(fs: &[&[T]], dst: &mut [f32], pick: impl Fn(T, T) -> T + Copy) {
    let mut acc: Vec<T> = fs[0].to_vec();
    extreme_update(&mut acc, &fs[1..], pick);
    dst.iter_mut().zip(&acc).for_each(|(d, a)| *d = a.to_f32());
}

/// Folds `fs` into the running max or min `acc`.
pub(super) fn extreme_update<T: Sample>(
    acc: &mut [T],
    fs: &[&[T]],
    pick: impl Fn(T, T) -> T + Copy,
) {
    // four frames per pass over the accumulator: fewer loads and stores of it
    let mut quads = fs.chunks_exact(4);
    for q in &mut quads {
        let n = acc.len();
        let (f0, f1, f2, f3) = (&q[0][..n], &q[1][..n], &q[2][..n], &q[3][..n]);
        for i in 0..n {
            acc[i] = pick(acc[i], pick(pick(f0[i], f1[i]), pick(f2[i], f3[i])));
        }
    }
    for f in quads.remainder() {
        acc.iter_mut()
            .zip(f.iter())
            .for_each(|(a, &v)| *a = pick(*a, v));
    }
}

/// Final value from exact integer moments: n frames, sum, sum of squares.
pub(super) fn from_moments(op: ReduceOp, n: u64, sum: u64, sumsq: u64) -> f32 {
    match op {
        ReduceOp::Sum => sum as f32,
        ReduceOp::Mean => (sum as f64 / n as f64) as f32,
        _ => {
            // n * sumsq - sum^2 is exact in u128, so the variance has one rounding only
            let num = n as u128 * sumsq as u128 - sum as u128 * sum as u128;
            ((num as f64).sqrt() / n as f64) as f32
        }
    }
}

/// Writes the mean, sum or std of every sample from its integer moments.
pub(super) fn finish_moments(op: ReduceOp, n: u64, sum: &[u64], sq: &[u64], dst: &mut [f32]) {
    for i in 0..dst.len() {
        let q = if op == ReduceOp::Std { sq[i] } else { 0 };
        dst[i] = from_moments(op, n, sum[i], q);
    }
}

/// Mean, sum or std of integer samples from their exact moments, summed by `accumulate`
/// (`u8_accumulate`, `u16_accumulate`).
fn int_moments<T>(
    fs: &[&[T]],
    op: ReduceOp,
    dst: &mut [f32],
    accumulate: fn(&[&[T]], &mut [u64], &mut [u64]),
) {
    let len = dst.len();
    let mut sum = vec![0u64; len];
    let mut sq = if op == ReduceOp::Std {
        vec![0u64; len]
    } else {
        Vec::new()
    };
    accumulate(fs, &mut sum, &mut sq);
    finish_moments(op, fs.len() as u64, &sum, &sq, dst);
}

/// Adds the u8 samples of `fs` to `sum` and, when `sq` is not empty, their squares to
/// `sq`; with AVX2 where the CPU has it (the widening multiply is twice as wide).
pub(super) fn u8_accumulate(fs: &[&[u8]], sum: &mut [u64], sq: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(fs: &[&[u8]], sum: &mut [u64], sq: &mut [u64]) {
            u8_accumulate_body(fs, sum, sq)
        }
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { avx2(fs, sum, sq) };
    }
    u8_accumulate_body(fs, sum, sq)
}

#[inline(always)]
fn u8_accumulate_body(fs: &[&[u8]], sum: &mut [u64], sq: &mut [u64]) {
    let len = sum.len();
    let want_sq = !sq.is_empty();
    // u64 totals: 2^32 / 255 is only 16.8 M frames
    let mut part = vec![0u16; len];
    let mut part_sq = if want_sq { vec![0u32; len] } else { Vec::new() };
    // 256 frames of 255 fit u16 (and 256 squares of 255^2 fit u32); frames go four at a
    // time so the partial sums are loaded and stored a quarter as often
    for chunk in fs.chunks(256) {
        part.iter_mut().for_each(|v| *v = 0);
        if want_sq {
            part_sq.iter_mut().for_each(|v| *v = 0);
        }
        let mut quads = chunk.chunks_exact(4);
        for q in &mut quads {
            let (f0, f1, f2, f3) = (&q[0][..len], &q[1][..len], &q[2][..len], &q[3][..len]);
            if want_sq {
                let sqr = |v: u8| (v as u16 * v as u16) as u32;
                let ps = &mut part_sq[..len];
                for i in 0..len {
                    part[i] += f0[i] as u16 + f1[i] as u16 + f2[i] as u16 + f3[i] as u16;
                    ps[i] += sqr(f0[i]) + sqr(f1[i]) + sqr(f2[i]) + sqr(f3[i]);
                }
            } else {
                for i in 0..len {
                    part[i] += f0[i] as u16 + f1[i] as u16 + f2[i] as u16 + f3[i] as u16;
                }
            }
        }
        for f in quads.remainder() {
            let f = &f[..len];
            for i in 0..len {
                part[i] += f[i] as u16;
                if want_sq {
                    part_sq[i] += (f[i] as u16 * f[i] as u16) as u32;
                }
            }
        }
        sum.iter_mut().zip(&part).for_each(|(s, &p)| *s += p as u64);
        if want_sq {
            sq.iter_mut()
                .zip(&part_sq)
                .for_each(|(s, &p)| *s += p as u64);
        }
    }
}

/// Adds the u16 samples of `fs` to `sum` and, when `sq` is not empty, their squares.
pub(super) fn u16_accumulate(fs: &[&[u16]], sum: &mut [u64], sq: &mut [u64]) {
    let len = sum.len();
    let want_sq = !sq.is_empty();
    let mut part = vec![0u32; len];
    // 65 537 frames of 65 535 fit u32
    for chunk in fs.chunks(65_537) {
        part.iter_mut().for_each(|v| *v = 0);
        for f in chunk {
            part.iter_mut()
                .zip(f.iter())
                .for_each(|(a, &v)| *a += v as u32);
            if want_sq {
                sq.iter_mut()
                    .zip(f.iter())
                    .for_each(|(a, &v)| *a += (v as u64) * (v as u64));
            }
        }
        sum.iter_mut().zip(&part).for_each(|(s, &p)| *s += p as u64);
    }
}

/// NaN-skipping sum, mean and std of f32 samples.
fn f32_moments(fs: &[&[f32]], op: ReduceOp, dst: &mut [f32]) {
    let mut m = F32Moments::new(fs[0]);
    m.add(fs);
    m.finish(op, dst);
}

/// Running NaN-skipping moments of f32 samples, in f64 around a per-sample shift (the
/// first frame's value) so that a large offset does not swamp the variance.
pub(super) struct F32Moments {
    shift: Vec<f64>,
    sum: Vec<f64>,
    sq: Vec<f64>,
    count: Vec<u32>,
}

impl F32Moments {
    /// Moments of nothing yet, shifted by `first` (the first frame of the range).
    pub(super) fn new(first: &[f32]) -> Self {
        let len = first.len();
        // 0 where the first value is not finite, so that an infinity gives the same
        // result in any frame order: the loop stays branch-free
        F32Moments {
            shift: first
                .iter()
                .map(|&v| if v.is_finite() { v as f64 } else { 0.0 })
                .collect(),
            sum: vec![0f64; len],
            sq: vec![0f64; len],
            count: vec![0u32; len],
        }
    }

    /// Adds frames `fs`.
    pub(super) fn add(&mut self, fs: &[&[f32]]) {
        let len = self.sum.len();
        let (shift, sum, sq, count) = (&self.shift, &mut self.sum, &mut self.sq, &mut self.count);
        for f in fs {
            let f = &f[..len];
            for i in 0..len {
                let v = f[i];
                let ok = !v.is_nan();
                let d = if ok { v as f64 - shift[i] } else { 0.0 };
                sum[i] += d;
                sq[i] += d * d;
                count[i] += ok as u32;
            }
        }
    }

    /// Writes the sum, mean or std of every sample.
    pub(super) fn finish(&self, op: ReduceOp, dst: &mut [f32]) {
        let (shift, sum, sq, count) = (&self.shift, &self.sum, &self.sq, &self.count);
        for i in 0..dst.len() {
            let n = count[i] as f64;
            dst[i] = if count[i] == 0 {
                if op == ReduceOp::Sum { 0.0 } else { f32::NAN }
            } else {
                match op {
                    ReduceOp::Sum => (sum[i] + n * shift[i]) as f32,
                    ReduceOp::Mean => (sum[i] / n + shift[i]) as f32,
                    _ => {
                        let m = sum[i] / n;
                        let var = sq[i] / n - m * m;
                        // an infinite sample leaves inf - inf: the spread is undefined
                        // (NaN), not the 0 that f64::max would make of it
                        if var.is_nan() {
                            f32::NAN
                        } else {
                            var.max(0.0).sqrt() as f32
                        }
                    }
                }
            };
        }
    }
}

/// Median of u8 samples through a per-sample histogram: exact and linear in T.
fn u8_median(fs: &[&[u8]], dst: &mut [f32]) {
    // u16 counts keep 256 samples' histograms in 128 kB (L2); they hold 65 535 frames
    if fs.len() > u16::MAX as usize {
        return select_median(fs, dst);
    }
    const SUB: usize = 256;
    let n = fs.len();
    let mut hist = vec![0u16; SUB * 256];
    for lo in (0..dst.len()).step_by(SUB) {
        let hi = (lo + SUB).min(dst.len());
        hist.iter_mut().for_each(|h| *h = 0);
        for f in fs {
            for (i, &v) in f[lo..hi].iter().enumerate() {
                hist[i * 256 + v as usize] += 1;
            }
        }
        for i in 0..hi - lo {
            let h = &hist[i * 256..(i + 1) * 256];
            dst[lo + i] = median_from_counts(h, n);
        }
    }
}

/// The median of `n` values given their counts per value 0..=255.
fn median_from_counts(h: &[u16], n: usize) -> f32 {
    // k-th smallest (0-based) for k = (n-1)/2, and the next one for even n, in one scan
    let k = (n - 1) / 2;
    let mut seen = 0usize;
    let mut c = 0;
    // skip whole runs of 16 bins first: their sums vectorize
    while c + 16 <= 256 {
        let s: usize = h[c..c + 16].iter().map(|&x| x as usize).sum();
        if seen + s > k {
            break;
        }
        seen += s;
        c += 16;
    }
    let mut v = c;
    while v < 255 && seen + h[v] as usize <= k {
        seen += h[v] as usize;
        v += 1;
    }
    seen += h[v] as usize;
    if n % 2 == 1 || seen > k + 1 {
        return v as f32;
    }
    // the (k+1)-th smallest is the next value present
    let next = (v + 1..256).find(|&u| h[u] > 0).unwrap_or(v);
    (v + next) as f32 / 2.0
}

/// Median by per-sample quickselect (u16, f32; NaN skipped; mean of the middle two for
/// an even count).
fn select_median<T: Sample>(fs: &[&[T]], dst: &mut [f32]) {
    let mut col: Vec<f32> = Vec::with_capacity(fs.len());
    for (i, d) in dst.iter_mut().enumerate() {
        col.clear();
        col.extend(fs.iter().map(|f| f[i].to_f32()).filter(|v| !v.is_nan()));
        *d = median_of(&mut col);
    }
}

/// Median of a slice (reorders it); NaN for an empty one.
pub(crate) fn median_of(v: &mut [f32]) -> f32 {
    let n = v.len();
    if n == 0 {
        return f32::NAN;
    }
    let k = (n - 1) / 2;
    let (_, &mut m, upper) = v.select_nth_unstable_by(k, f32::total_cmp);
    if n % 2 == 1 {
        m
    } else {
        let next = upper.iter().copied().fold(f32::INFINITY, f32::min);
        ((m as f64 + next as f64) / 2.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Shape;

    fn stack_u8(t: usize, v: Vec<u8>) -> Stack {
        let p = v.len() / t;
        Stack::from_vec(Shape::new(t, 1, p, 1), v).unwrap()
    }

    #[test]
    fn hand_worked_u8_reductions() {
        // two pixels over 4 frames: [1, 5, 3, 7] and [10, 10, 0, 255]
        let s = stack_u8(4, vec![1, 10, 5, 10, 3, 0, 7, 255]);
        let all = FrameRange::all(4);
        let r = |op| reduce(&s, op, all).unwrap().data;
        assert_eq!(r(ReduceOp::Sum), vec![16.0, 275.0]);
        assert_eq!(r(ReduceOp::Mean), vec![4.0, 68.75]);
        assert_eq!(r(ReduceOp::Max), vec![7.0, 255.0]);
        assert_eq!(r(ReduceOp::Min), vec![1.0, 0.0]);
        // sorted [1,3,5,7] -> (3+5)/2; [0,10,10,255] -> 10
        assert_eq!(r(ReduceOp::Median), vec![4.0, 10.0]);
        // population std of [1,5,3,7]: mean 4, squares 9+1+1+9 = 20, /4 = 5
        let std = r(ReduceOp::Std);
        assert!((std[0] - 5f32.sqrt()).abs() < 1e-6);
        // a sub-range: frames 1..=2 of pixel 0 are 5, 3
        assert_eq!(
            reduce(&s, ReduceOp::Mean, FrameRange::new(1, 2))
                .unwrap()
                .data,
            vec![4.0, 5.0]
        );
    }

    #[test]
    fn nan_is_skipped_in_float_stacks() {
        let s = Stack::from_vec(
            Shape::new(3, 1, 2, 1),
            vec![1.0, f32::NAN, f32::NAN, f32::NAN, 3.0, f32::NAN],
        )
        .unwrap();
        let r = |op| reduce(&s, op, FrameRange::all(3)).unwrap().data;
        assert_eq!(r(ReduceOp::Mean)[0], 2.0);
        assert_eq!(r(ReduceOp::Max)[0], 3.0);
        assert_eq!(r(ReduceOp::Min)[0], 1.0);
        assert_eq!(r(ReduceOp::Median)[0], 2.0);
        assert_eq!(r(ReduceOp::Std)[0], 1.0);
        assert_eq!(r(ReduceOp::Sum)[0], 4.0);
        // all NaN stays NaN (sum of nothing is 0)
        assert!(r(ReduceOp::Mean)[1].is_nan());
        assert!(r(ReduceOp::Max)[1].is_nan());
        assert!(r(ReduceOp::Median)[1].is_nan());
        assert_eq!(r(ReduceOp::Sum)[1], 0.0);
    }

    #[test]
    fn bad_range_is_an_error() {
        let s = stack_u8(2, vec![0; 4]);
        assert!(reduce(&s, ReduceOp::Mean, FrameRange::new(1, 2)).is_err());
        assert!(reduce(&s, ReduceOp::Mean, FrameRange::new(1, 0)).is_err());
    }

    #[test]
    fn op_names_parse() {
        for op in ReduceOp::ALL {
            assert_eq!(op.name().parse::<ReduceOp>().unwrap(), op);
        }
        assert!("avg".parse::<ReduceOp>().is_err());
    }
}
