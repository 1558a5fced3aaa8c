//! The reduce streamed in frame order, for ranges larger than one chunk (a mapped stack
//! bigger than the page cache): chunk after chunk of whole frames, every block of samples
//! folds the chunk's frames into whole-frame accumulators, so the file is read once.
//!
//! The median cannot fold frames into a small accumulator; it is an exact radix select
//! over order-preserving keys: each pass counts, per sample, the next digit of the keys
//! that share the digits chosen so far, then picks the digit holding the wanted rank
//! (u8: 2 passes, u16: 3, f32: 6 for a megapixel frame). The upper middle value of an
//! even count comes from the last pass's counts or, when it lies outside the last
//! bucket, from the smallest key seen above it, so no extra pass is needed.

use std::ops::Range;

use rayon::prelude::*;

use super::{BLOCK, F32Moments, ReduceOp, extreme_update, finish_moments};
use super::{u8_accumulate, u16_accumulate};
use crate::load::Progress;
use crate::ops::OpError;
use crate::stack::{Sample, Samples, Stack};

/// Bytes the median's per-sample digit counts may take over a whole frame.
const MEDIAN_COUNT_BYTES: usize = 256 << 20;

/// Reduces `frames` of `stack` into `out` (one frame of samples), chunk by chunk,
/// telling `progress` each chunk read and stopping between chunks once it is cancelled.
pub(super) fn reduce(
    stack: &Stack,
    op: ReduceOp,
    frames: Range<usize>,
    chunk_bytes: usize,
    progress: &dyn Progress,
    out: &mut [f32],
) -> Result<(), OpError> {
    let run = Run {
        stack,
        frames,
        chunk_bytes,
        progress,
    };
    // one pass over the frames; the median starts its own phase of one pass per digit
    if op != ReduceOp::Median {
        progress.start(op.name(), run.frames.len() as u64);
    }
    match stack.samples() {
        Samples::U8(all) => match op {
            ReduceOp::Max => run.extreme(all, out, |a: u8, b: u8| a.max(b)),
            ReduceOp::Min => run.extreme(all, out, |a: u8, b: u8| a.min(b)),
            ReduceOp::Median => run.median(all, out),
            _ => run.int_moments(all, op, out, u8_accumulate),
        },
        Samples::U16(all) => match op {
            ReduceOp::Max => run.extreme(all, out, |a: u16, b: u16| a.max(b)),
            ReduceOp::Min => run.extreme(all, out, |a: u16, b: u16| a.min(b)),
            ReduceOp::Median => run.median(all, out),
            _ => run.int_moments(all, op, out, u16_accumulate),
        },
        Samples::F32(all) => match op {
            ReduceOp::Max => run.extreme(all, out, f32::max),
            ReduceOp::Min => run.extreme(all, out, f32::min),
            ReduceOp::Median => run.median(all, out),
            _ => run.f32_moments(all, op, out),
        },
    }?;
    Ok(())
}

/// One streamed reduction: the stack, the frames and the chunk budget.
struct Run<'a> {
    stack: &'a Stack,
    frames: Range<usize>,
    chunk_bytes: usize,
    progress: &'a dyn Progress,
}

impl Run<'_> {
    fn frame_len(&self) -> usize {
        self.stack.shape().frame_len()
    }

    /// Sample range of block `b`.
    fn block(&self, b: usize) -> Range<usize> {
        let lo = b * BLOCK;
        lo..(lo + BLOCK).min(self.frame_len())
    }

    fn blocks(&self) -> usize {
        self.frame_len().div_ceil(BLOCK)
    }

    /// One pass over the frames: for every chunk, `add` folds the chunk's frames (cut to
    /// each block's samples) into that block's state, the blocks in parallel. Stops
    /// between chunks once the progress is cancelled.
    fn pass<T: Sample, S: Send>(
        &self,
        all: &[T],
        states: &mut [S],
        add: impl Fn(&mut S, &[&[T]]) + Sync,
    ) -> Result<(), OpError> {
        let p = self.frame_len();
        self.stack
            .for_each_chunk(self.frames.clone(), self.chunk_bytes, |c| {
                if self.progress.is_cancelled() {
                    return Err(OpError::Cancelled);
                }
                let n = c.len() as u64;
                states.par_iter_mut().enumerate().for_each(|(b, st)| {
                    let r = self.block(b);
                    let fs: Vec<&[T]> = c
                        .clone()
                        .map(|t| &all[t * p + r.start..t * p + r.end])
                        .collect();
                    add(st, &fs);
                });
                self.progress.advance(n);
                Ok(())
            })
    }

    /// Writes each block's result into its part of `out`, the blocks in parallel.
    fn finish<S: Sync>(&self, states: &[S], out: &mut [f32], f: impl Fn(&S, &mut [f32]) + Sync) {
        out.par_chunks_mut(BLOCK)
            .zip(states.par_iter())
            .for_each(|(dst, st)| f(st, dst));
    }

    /// The first frame of the range, cut to block `b`.
    fn first<'s, T: Sample>(&self, all: &'s [T], b: usize) -> &'s [T] {
        let r = self.block(b);
        let at = self.frames.start * self.frame_len();
        &all[at + r.start..at + r.end]
    }

    fn extreme<T: Sample>(
        &self,
        all: &[T],
        out: &mut [f32],
        pick: impl Fn(T, T) -> T + Copy + Sync,
    ) -> Result<(), OpError> {
        // seeded with the first frame, which the pass folds in again (max and min do not mind)
        let mut acc: Vec<Vec<T>> = (0..self.blocks())
            .map(|b| self.first(all, b).to_vec())
            .collect();
        self.pass(all, &mut acc, |a, fs| extreme_update(a, fs, pick))?;
        self.finish(&acc, out, |a, dst| {
            dst.iter_mut().zip(a).for_each(|(d, v)| *d = v.to_f32())
        });
        Ok(())
    }

    fn int_moments<T: Sample>(
        &self,
        all: &[T],
        op: ReduceOp,
        out: &mut [f32],
        accumulate: fn(&[&[T]], &mut [u64], &mut [u64]),
    ) -> Result<(), OpError> {
        let mut acc: Vec<(Vec<u64>, Vec<u64>)> = (0..self.blocks())
            .map(|b| {
                let n = self.block(b).len();
                let sq = if op == ReduceOp::Std { n } else { 0 };
                (vec![0u64; n], vec![0u64; sq])
            })
            .collect();
        self.pass(all, &mut acc, |(sum, sq), fs| accumulate(fs, sum, sq))?;
        let n = self.frames.len() as u64;
        self.finish(&acc, out, |(sum, sq), dst| {
            finish_moments(op, n, sum, sq, dst)
        });
        Ok(())
    }

    fn f32_moments(&self, all: &[f32], op: ReduceOp, out: &mut [f32]) -> Result<(), OpError> {
        let mut acc: Vec<F32Moments> = (0..self.blocks())
            .map(|b| F32Moments::new(self.first(all, b)))
            .collect();
        self.pass(all, &mut acc, |m, fs| m.add(fs))?;
        self.finish(&acc, out, |m, dst| m.finish(op, dst));
        Ok(())
    }

    fn median<T: Key>(&self, all: &[T], out: &mut [f32]) -> Result<(), OpError> {
        let digits = digit_plan(T::BITS, self.frame_len());
        let work = (digits.len() * self.frames.len()) as u64;
        self.progress.start(ReduceOp::Median.name(), work);
        let mut sel: Vec<Select> = (0..self.blocks())
            .map(|b| Select::new(self.block(b).len(), digits[0].1))
            .collect();
        for (j, &(before, width)) in digits.iter().enumerate() {
            let last = j + 1 == digits.len();
            sel.par_iter_mut().for_each(|s| s.start_pass(width));
            self.pass(all, &mut sel, |s, fs| s.count(fs, T::BITS, before, width))?;
            sel.par_iter_mut().for_each(|s| s.choose(j == 0, width));
            if last {
                self.finish(&sel, out, |s, dst| s.write::<T>(dst));
            }
        }
        Ok(())
    }
}

/// Order-preserving u32 keys of a sample type (NaN has none: it is skipped).
pub(super) trait Key: Sample {
    /// Significant bits of the key.
    const BITS: u32;
    /// The key; meaningful only where [`Key::valid`].
    fn key(self) -> u32;
    /// False for a sample that is skipped (NaN).
    fn valid(self) -> bool;
    fn from_key(k: u32) -> f32;
}

impl Key for u8 {
    const BITS: u32 = 8;
    fn key(self) -> u32 {
        self as u32
    }
    fn valid(self) -> bool {
        true
    }
    fn from_key(k: u32) -> f32 {
        k as f32
    }
}

impl Key for u16 {
    const BITS: u32 = 16;
    fn key(self) -> u32 {
        self as u32
    }
    fn valid(self) -> bool {
        true
    }
    fn from_key(k: u32) -> f32 {
        k as f32
    }
}

impl Key for f32 {
    const BITS: u32 = 32;
    fn key(self) -> u32 {
        let b = self.to_bits();
        // negative floats order reversed: flip all bits; positive: set the sign bit
        if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
    }
    fn valid(self) -> bool {
        !self.is_nan()
    }
    fn from_key(k: u32) -> f32 {
        f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
    }
}

/// The digits of a `bits`-bit key as (bits before, width), as few passes as the count
/// budget allows for `samples` per frame, of even widths.
fn digit_plan(bits: u32, samples: usize) -> Vec<(u32, u32)> {
    let max_width = (2..=8u32)
        .rev()
        .find(|w| samples.saturating_mul(4 << w) <= MEDIAN_COUNT_BYTES)
        .unwrap_or(2);
    let passes = bits.div_ceil(max_width);
    let width = bits.div_ceil(passes);
    let mut out = Vec::new();
    let mut before = 0;
    while before < bits {
        let w = width.min(bits - before);
        out.push((before, w));
        before += w;
    }
    out
}

/// The radix select state of one block of samples.
struct Select {
    /// Counts of the current digit: per sub-block of `sub` samples, `1 << width` rows
    /// of `sub` counts (bin-major, so one frame's increments fall on few cache lines).
    hist: Vec<u32>,
    /// Samples per sub-block of `hist` (its counts fit the L1 cache).
    sub: usize,
    /// Key digits chosen so far, per sample.
    prefix: Vec<u32>,
    /// Rank still wanted inside the chosen bucket (lower middle value).
    rank: Vec<u32>,
    /// Keys counted (NaN skipped), known after the first pass.
    n: Vec<u32>,
    /// Smallest key seen above the chosen bucket.
    above: Vec<u32>,
    /// The upper middle key of an even count, set by the last pass.
    upper: Vec<u32>,
}

impl Select {
    fn new(len: usize, width: u32) -> Select {
        let mut s = Select {
            hist: Vec::new(),
            sub: 1,
            prefix: vec![0; len],
            rank: vec![0; len],
            n: vec![0; len],
            above: vec![u32::MAX; len],
            upper: vec![0; len],
        };
        s.start_pass(width);
        s
    }

    fn start_pass(&mut self, width: u32) {
        // 32 kB of counts per sub-block
        self.sub = (8192usize >> width).max(32);
        let len = self.prefix.len().next_multiple_of(self.sub);
        self.hist.clear();
        self.hist.resize(len << width, 0);
    }

    /// Counts the digit at `before..before + width` of the keys that share the chosen
    /// prefix, and keeps the smallest key above it. Branch-free (a sample's bucket is
    /// data, not a prediction), a sub-block of samples at a time so that its counts stay
    /// in cache while the chunk's frames go by.
    fn count<T: Key>(&mut self, fs: &[&[T]], bits: u32, before: u32, width: u32) {
        let (len, sub) = (self.prefix.len(), self.sub);
        let shift = bits - before - width;
        let mask = (1u32 << width) - 1;
        // the bits above this digit (none on the first pass)
        let top_shift = bits - before;
        for lo in (0..len).step_by(sub) {
            let hi = (lo + sub).min(len);
            let prefix = &self.prefix[lo..hi];
            let above = &mut self.above[lo..hi];
            let hist = &mut self.hist[lo << width..(lo + sub) << width];
            for f in fs {
                let f = &f[lo..hi];
                if before == 0 {
                    for (i, &v) in f.iter().enumerate() {
                        let d = ((v.key() >> shift) & mask) as usize;
                        hist[d * sub + i] += v.valid() as u32;
                    }
                    continue;
                }
                for (i, &v) in f.iter().enumerate() {
                    let k = v.key();
                    let ok = v.valid();
                    let top = ((k as u64) >> top_shift) as u32;
                    let d = ((k >> shift) & mask) as usize;
                    hist[d * sub + i] += (ok & (top == prefix[i])) as u32;
                    let cand = if ok & (top > prefix[i]) { k } else { u32::MAX };
                    above[i] = above[i].min(cand);
                }
            }
        }
    }

    /// Count of bin `d` of sample `i`.
    fn bin(&self, i: usize, d: usize, width: u32) -> u32 {
        let sub = self.sub;
        self.hist[((i / sub * sub) << width) + d * sub + i % sub]
    }

    /// Picks, per sample, the digit that holds the wanted rank; on the first pass the
    /// counts also give the number of keys and so the rank.
    fn choose(&mut self, first: bool, width: u32) {
        let bins = 1usize << width;
        let mut h = vec![0u32; bins];
        for i in 0..self.prefix.len() {
            for (d, c) in h.iter_mut().enumerate() {
                *c = self.bin(i, d, width);
            }
            if first {
                self.n[i] = h.iter().sum();
                self.rank[i] = self.n[i].saturating_sub(1) / 2;
            }
            if self.n[i] == 0 {
                continue;
            }
            let mut seen = 0;
            let mut d = 0;
            while seen + h[d] <= self.rank[i] {
                seen += h[d];
                d += 1;
            }
            self.rank[i] -= seen;
            let base = if first { 0 } else { self.prefix[i] << width };
            self.prefix[i] = base | d as u32;
            // the upper middle key: in this bucket, in a later bucket of this digit, or
            // the smallest key above (read only after the last pass)
            self.upper[i] = if self.rank[i] + 1 < h[d] {
                self.prefix[i]
            } else {
                match (d + 1..bins).find(|&e| h[e] > 0) {
                    Some(e) => base | e as u32,
                    None => self.above[i],
                }
            };
        }
    }

    /// The median of every sample (NaN where no key was counted).
    fn write<T: Key>(&self, dst: &mut [f32]) {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = match self.n[i] {
                0 => f32::NAN,
                n if n % 2 == 1 => T::from_key(self.prefix[i]),
                _ => {
                    let lo = T::from_key(self.prefix[i]) as f64;
                    let hi = T::from_key(self.upper[i]) as f64;
                    ((lo + hi) / 2.0) as f32
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_keep_the_order_and_invert() {
        let vals = [
            f32::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
        ];
        let keys: Vec<u32> = vals.iter().map(|v| v.key()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (v, k) in vals.iter().zip(&keys) {
            assert_eq!(f32::from_key(*k).to_bits(), v.to_bits());
        }
        assert!(!f32::NAN.valid() && 1.0f32.valid());
    }

    #[test]
    fn digit_plans_cover_the_key() {
        // a megapixel frame: u8 in 2 passes of 4 bits, u16 in 3, f32 in 6
        assert_eq!(digit_plan(8, 1 << 20), vec![(0, 4), (4, 4)]);
        assert_eq!(digit_plan(16, 1 << 20).len(), 3);
        assert_eq!(digit_plan(32, 1 << 20).len(), 6);
        // a small frame: one pass of 8 bits for u8
        assert_eq!(digit_plan(8, 1000), vec![(0, 8)]);
        for bits in [8, 16, 32] {
            let p = digit_plan(bits, 1 << 24);
            assert_eq!(p.iter().map(|d| d.1).sum::<u32>(), bits);
        }
    }
}
