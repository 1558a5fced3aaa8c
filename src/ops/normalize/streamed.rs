//! The fused normalization pass in frame order under a chunk budget: output frames come
//! out chunk after chunk, in order; inside a chunk the blocks of samples run in parallel,
//! each keeping its own state (the running sums of a sliding window) from one chunk to
//! the next. A chunk of outputs `t0..t1` reads frames `t0..t1` and, per sliding step,
//! the frames its windows reach (`t0+lag .. t1+lag+window-1`, or only the frames leaving
//! and entering the running sums), so a mapped stack bigger than the page cache is read
//! in order, about once, with read-ahead of the next chunk and drop-behind of what no
//! later chunk needs.
//!
//! Every sample's arithmetic is the same whatever the chunks and blocks, so the result
//! does not depend on the chunk budget.

use std::ops::Range;

use rayon::prelude::*;

use super::window::Window;
use super::{Normalize, Source, Step};
use crate::ops::Image;
use crate::ops::reduce::{ReduceOp, reduce_block};
use crate::stack::{Sample, Samples, Stack};

/// Most samples per block: the block's state and references stay in cache.
const BLOCK: usize = 16384;
/// Fewest samples per block, so that small frames still split over the threads.
const MIN_BLOCK: usize = 256;
/// Most output frames per chunk (bounds the per-chunk bookkeeping in RAM).
const MAX_CHUNK_FRAMES: usize = 4096;

/// Whether a sliding `op` keeps running sums (else each window is reduced again).
fn running(op: ReduceOp) -> bool {
    matches!(op, ReduceOp::Mean | ReduceOp::Std | ReduceOp::Sum)
}

/// One block of samples and its state across chunks.
struct Block {
    span: Range<usize>,
    /// The running sums of each step, for running-sum sliding steps.
    windows: [Option<Window>; 2],
}

/// One normalization pass over output frames `outs`.
pub(super) struct Pass<'a> {
    pub(super) n: &'a Normalize,
    pub(super) stack: &'a Stack,
    /// Range and file references, computed once.
    pub(super) fixed: [Option<Image>; 2],
    pub(super) outs: Range<usize>,
}

impl Pass<'_> {
    fn p(&self) -> usize {
        self.stack.shape().frame_len()
    }

    fn step(&self, k: usize) -> Option<&Step> {
        [&self.n.subtract, &self.n.divide][k].as_ref()
    }

    /// (op, window, lag) of step `k` when it is sliding.
    fn sliding(&self, k: usize) -> Option<(ReduceOp, usize, usize)> {
        match self.step(k)?.source {
            Source::Sliding { op, window, lag } => Some((op, window, lag)),
            _ => None,
        }
    }

    /// Samples per block: whole blocks of [`BLOCK`] on big frames, several blocks per
    /// thread on small ones.
    fn block_len(&self) -> usize {
        let tasks = rayon::current_num_threads() * 4;
        self.p()
            .div_ceil(tasks)
            .next_multiple_of(64)
            .clamp(MIN_BLOCK, BLOCK)
    }

    fn blocks(&self) -> Vec<Block> {
        let (p, b) = (self.p(), self.block_len());
        (0..p)
            .step_by(b)
            .map(|lo| Block {
                span: lo..(lo + b).min(p),
                windows: [None, None],
            })
            .collect()
    }

    /// Output frames per chunk under `chunk_bytes` of input frames (and of output frames
    /// when they go through a scratch buffer).
    fn frames_per_chunk(&self, chunk_bytes: usize, scratch: bool) -> usize {
        let frame = self.p() * self.stack.dtype().size();
        // frames read per output frame, and frames a chunk reads beyond those
        let (mut per_out, mut extra) = (1usize, 0usize);
        for k in 0..2 {
            match self.sliding(k) {
                Some((op, _, _)) if running(op) => per_out += 2,
                Some((_, w, _)) => {
                    per_out += 1;
                    extra += w - 1;
                }
                None => {}
            }
        }
        let out = if scratch { self.p() * 4 } else { 0 };
        let per = (frame * per_out + out).max(1);
        (chunk_bytes.saturating_sub(frame.saturating_mul(extra)) / per).clamp(1, MAX_CHUNK_FRAMES)
    }

    /// The frames the chunk of outputs `c` reads that no earlier chunk did (for
    /// read-ahead hints): a window reduced again for every frame is hinted whole for the
    /// first chunk only, then by the frames that enter it, so a window longer than the
    /// budget is not asked for again and again.
    fn reads(&self, c: &Range<usize>) -> Vec<Range<usize>> {
        let mut r = vec![c.clone()];
        // the windows slide after the chunk's last frame only when more outputs follow
        let more = usize::from(c.end < self.outs.end);
        for k in 0..2 {
            match self.sliding(k) {
                Some((op, w, lag)) if running(op) => {
                    r.push(c.start + lag..c.end + lag - 1 + more);
                    r.push(c.start + lag + w..c.end + lag + w - 1 + more);
                }
                Some((_, w, lag)) => {
                    let from = if c.start == self.outs.start {
                        c.start + lag
                    } else {
                        c.start + lag + w - 1
                    };
                    r.push(from..c.end + lag + w - 1);
                }
                None => {}
            }
        }
        r
    }

    /// Runs the pass: each chunk of output frames is written into its part of `whole`
    /// (frames from `outs.start`) or, without it, into a scratch buffer, and then handed
    /// to `sink` with its first output frame.
    pub(super) fn run<E>(
        &self,
        chunk_bytes: usize,
        mut whole: Option<&mut [f32]>,
        mut sink: impl FnMut(usize, &[f32]) -> Result<(), E>,
    ) -> Result<(), E> {
        let p = self.p();
        let mut blocks = self.blocks();
        self.start_windows(&mut blocks, chunk_bytes);
        let per = self.frames_per_chunk(chunk_bytes, whole.is_none());
        let end = self.outs.end;
        let chunks: Vec<Range<usize>> = self
            .outs
            .clone()
            .step_by(per)
            .map(|a| a..(a + per).min(end))
            .collect();
        let hint = self.stack.is_mapped() && chunks.len() > 1;
        if hint && let Some(c) = chunks.first() {
            self.reads(c)
                .into_iter()
                .for_each(|r| self.stack.will_need(r));
        }
        let mut scratch = Vec::new();
        let mut dropped = self.outs.start;
        for (i, c) in chunks.iter().enumerate() {
            if hint && let Some(next) = chunks.get(i + 1) {
                self.reads(next)
                    .into_iter()
                    .for_each(|r| self.stack.will_need(r));
            }
            let len = c.len() * p;
            let dst: &mut [f32] = match whole.as_deref_mut() {
                Some(w) => {
                    let at = (c.start - self.outs.start) * p;
                    &mut w[at..at + len]
                }
                None => {
                    scratch.resize(len, 0.0);
                    &mut scratch[..len]
                }
            };
            self.chunk(&mut blocks, c.clone(), dst);
            sink(c.start, dst)?;
            if hint {
                // no later chunk reads a frame before the next chunk's first output; after
                // the last chunk, nothing is read again
                let upto = if i + 1 == chunks.len() {
                    self.stack.shape().frames
                } else {
                    c.end
                };
                self.stack.done_with(dropped..upto);
                dropped = upto;
            }
        }
        Ok(())
    }

    /// Fills the running sums of every block with the first window of each running-sum
    /// step, streaming those frames in order.
    fn start_windows(&self, blocks: &mut [Block], chunk_bytes: usize) {
        let t0 = self.outs.start;
        let dtype = self.stack.dtype();
        let mut hull: Option<Range<usize>> = None;
        for k in 0..2 {
            let Some((op, w, lag)) = self.sliding(k).filter(|s| running(s.0)) else {
                continue;
            };
            for b in blocks.iter_mut() {
                b.windows[k] = Some(Window::new(b.span.len(), t0 + lag, w, op, dtype));
            }
            let r = t0 + lag..t0 + lag + w;
            hull = Some(match hull {
                Some(h) => h.start.min(r.start)..h.end.max(r.end),
                None => r,
            });
        }
        let Some(hull) = hull else { return };
        match self.stack.samples() {
            Samples::U8(all) => self.fill(all, blocks, hull, chunk_bytes),
            Samples::U16(all) => self.fill(all, blocks, hull, chunk_bytes),
            Samples::F32(all) => self.fill(all, blocks, hull, chunk_bytes),
        }
    }

    fn fill<T: Sample>(
        &self,
        all: &[T],
        blocks: &mut [Block],
        hull: Range<usize>,
        chunk_bytes: usize,
    ) {
        let p = self.p();
        // read ahead, but keep the frames: they are read again as outputs and as frames
        // leaving the window
        let chunks: Vec<Range<usize>> = self.stack.frame_chunks(hull, chunk_bytes).collect();
        let hint = self.stack.is_mapped() && chunks.len() > 1;
        if hint && let Some(c) = chunks.first() {
            self.stack.will_need(c.clone());
        }
        for (i, c) in chunks.iter().enumerate() {
            if hint && let Some(next) = chunks.get(i + 1) {
                self.stack.will_need(next.clone());
            }
            blocks.par_iter_mut().for_each(|b| {
                let r = b.span.clone();
                for w in b.windows.iter_mut().flatten() {
                    let mine = w.frames();
                    for f in c.clone().filter(|f| mine.contains(f)) {
                        w.add(&all[f * p + r.start..f * p + r.end]);
                    }
                }
            });
        }
    }

    /// Output frames `c` into `dst` (frame-major), the blocks in parallel.
    fn chunk(&self, blocks: &mut [Block], c: Range<usize>, dst: &mut [f32]) {
        let (p, b) = (self.p(), self.block_len());
        // each block's piece of every output frame, so that blocks write in parallel
        let mut pieces: Vec<Vec<&mut [f32]>> =
            blocks.iter().map(|_| Vec::with_capacity(c.len())).collect();
        for frame in dst.chunks_mut(p) {
            for (piece, into) in frame.chunks_mut(b).zip(pieces.iter_mut()) {
                into.push(piece);
            }
        }
        blocks
            .par_iter_mut()
            .zip(pieces.into_par_iter())
            .for_each_init(
                || [vec![0f32; b], vec![0f32; b]],
                |refs, (block, mut outs)| self.run_block(block, c.clone(), &mut outs, refs),
            );
    }

    /// Output frames `ts` of one block into `outs` (one piece per frame).
    fn run_block(
        &self,
        block: &mut Block,
        ts: Range<usize>,
        outs: &mut [&mut [f32]],
        refs: &mut [Vec<f32>; 2],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            fn avx2(
                pass: &Pass<'_>,
                block: &mut Block,
                ts: Range<usize>,
                outs: &mut [&mut [f32]],
                refs: &mut [Vec<f32>; 2],
            ) {
                pass.run_block_body(block, ts, outs, refs)
            }
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2(self, block, ts, outs, refs) };
        }
        self.run_block_body(block, ts, outs, refs)
    }

    /// The body of [`Pass::run_block`], inlined into an AVX2 copy where available (wider
    /// conversions and f64 lanes for the running sums).
    #[inline(always)]
    fn run_block_body(
        &self,
        block: &mut Block,
        ts: Range<usize>,
        outs: &mut [&mut [f32]],
        refs: &mut [Vec<f32>; 2],
    ) {
        match self.stack.samples() {
            Samples::U8(s) => self.run_typed(s, block, ts, outs, refs),
            Samples::U16(s) => self.run_typed(s, block, ts, outs, refs),
            Samples::F32(s) => self.run_typed(s, block, ts, outs, refs),
        }
    }

    #[inline(always)]
    fn run_typed<T: Sample>(
        &self,
        all: &[T],
        block: &mut Block,
        ts: Range<usize>,
        outs: &mut [&mut [f32]],
        refs: &mut [Vec<f32>; 2],
    ) {
        let p = self.p();
        let (lo, hi) = (block.span.start, block.span.end);
        let n = hi - lo;
        for (j, t) in ts.enumerate() {
            for (k, r) in refs.iter_mut().enumerate() {
                let Some(step) = self.step(k) else { continue };
                let r = &mut r[..n];
                match (&step.source, &self.fixed[k], &block.windows[k]) {
                    // read in place below
                    (_, Some(_), _) => {}
                    (Source::Sliding { op, .. }, _, Some(w)) => w.value(*op, all, p, lo, r),
                    (Source::Sliding { op, window, lag }, _, None) => {
                        let frames: Vec<Samples<'_>> = (t + lag..t + lag + window)
                            .map(|f| self.stack.frame(f))
                            .collect();
                        reduce_block(&frames, *op, lo..hi, r);
                    }
                    _ => unreachable!("range and file references are precomputed"),
                }
            }
            let reference = |k: usize| match &self.fixed[k] {
                Some(img) => &img.data[lo..hi],
                None => &refs[k][..n],
            };
            apply_formula(
                &all[t * p + lo..t * p + hi],
                self.n.subtract.as_ref().map(|s| (s.amount, reference(0))),
                self.n.divide.as_ref().map(|s| (s.amount, reference(1))),
                &mut *outs[j],
            );
            if t + 1 < self.outs.end {
                for k in 0..2 {
                    if let (Some(w), Some((_, window, lag))) =
                        (block.windows[k].as_mut(), self.sliding(k))
                    {
                        // slide: frame t+lag leaves, frame t+lag+window enters
                        w.slide(all, p, lo..hi, t + lag, t + lag + window);
                    }
                }
            }
        }
    }
}

/// The fused formula over one block of samples, one loop per combination of steps.
#[inline(always)]
fn apply_formula<T: Sample>(
    x: &[T],
    sub: Option<(f32, &[f32])>,
    div: Option<(f32, &[f32])>,
    out: &mut [f32],
) {
    let n = out.len();
    let x = &x[..n];
    let divide = |y: f32, a: f32, r: f32| {
        let den = a * r + (1.0 - a);
        let q = if den == 0.0 { 0.0 } else { y / den };
        if q.is_finite() { q } else { 0.0 }
    };
    match (sub, div) {
        (Some((a, r)), None) => {
            let r = &r[..n];
            for i in 0..n {
                out[i] = x[i].to_f32() - a * r[i];
            }
        }
        (None, Some((a, r))) => {
            let r = &r[..n];
            for i in 0..n {
                out[i] = divide(x[i].to_f32(), a, r[i]);
            }
        }
        (Some((a_s, rs)), Some((a_d, rd))) => {
            let (rs, rd) = (&rs[..n], &rd[..n]);
            for i in 0..n {
                out[i] = divide(x[i].to_f32() - a_s * rs[i], a_d, rd[i]);
            }
        }
        (None, None) => {
            for i in 0..n {
                out[i] = x[i].to_f32();
            }
        }
    }
}
