//! Background normalization (spec §3.2 with design.md's sliding window): subtract a
//! reference, then divide by one, each blended by an amount in 0..1:
//!
//! ```text
//! Y = X - a_s * R_s
//! Y = Y / (a_d * R_d + (1 - a_d))      denominator 0 -> 0, non-finite result -> 0
//! ```
//!
//! A reference is a range reduce, a file (one frame), or a sliding window: for output
//! frame t the reduce of frames `t+L ..= t+L+w-1`, defined for `t <= T-L-w`, so applying
//! to the whole stack gives `T-L-w+1` frames. Both references come from the raw stack.
//! The whole stack is processed in one fused pass; a sliding mean or std keeps running
//! sums, so its cost does not depend on the window.

use rayon::prelude::*;

use super::reduce::{ReduceOp, reduce, reduce_block};
use super::{FrameRange, Image, OpError};
use crate::stack::{Dtype, Sample, Samples, Shape, Stack};

mod spec;
pub use spec::{ReferenceError, SourceSpec, load_reference, read_reference};

/// Where a reference comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// One frame: `op` over the inclusive frame range.
    Range { op: ReduceOp, range: FrameRange },
    /// A reference image of the stack's frame shape.
    File(Image),
    /// Per output frame t: `op` over frames `t+lag ..= t+lag+window-1`.
    Sliding {
        op: ReduceOp,
        window: usize,
        lag: usize,
    },
}

/// One step: a reference and how much of it to apply (0..=1).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub source: Source,
    pub amount: f32,
}

/// Subtract first, then divide; either may be absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Normalize {
    pub subtract: Option<Step>,
    pub divide: Option<Step>,
}

/// Samples one pass of the fused formula handles at once.
const BLOCK: usize = 16384;

fn invalid(msg: impl Into<String>) -> OpError {
    OpError::Invalid(msg.into())
}

impl Normalize {
    /// Subtract the sliding `op` of `window` frames at `lag`, fully: the usual
    /// background removal (`--subtract sliding:OP:WINDOW:LAG`).
    pub fn subtract_sliding(op: ReduceOp, window: usize, lag: usize) -> Normalize {
        Normalize {
            subtract: Some(Step {
                source: Source::Sliding { op, window, lag },
                amount: 1.0,
            }),
            divide: None,
        }
    }

    fn steps(&self) -> impl Iterator<Item = &Step> {
        self.subtract.iter().chain(self.divide.iter())
    }

    /// Frames an apply-to-full produces from a stack of `frames` frames.
    pub fn output_frames(&self, frames: usize) -> usize {
        self.steps()
            .filter_map(|s| match s.source {
                Source::Sliding { window, lag, .. } => {
                    Some((frames + 1).saturating_sub(lag.saturating_add(window)))
                }
                _ => None,
            })
            .min()
            .unwrap_or(frames)
    }

    /// Checks amounts, windows and reference shapes against the stack.
    pub fn validate(&self, shape: Shape) -> Result<(), OpError> {
        for (name, s) in [("subtract", &self.subtract), ("divide", &self.divide)] {
            let Some(s) = s else { continue };
            if !(0.0..=1.0).contains(&s.amount) {
                return Err(invalid(format!(
                    "{name} amount {} is not in 0..1",
                    s.amount
                )));
            }
            match &s.source {
                Source::Range { range, .. } => range.check(shape.frames)?,
                Source::File(img) => {
                    if (img.height, img.width, img.channels)
                        != (shape.height, shape.width, shape.channels)
                    {
                        return Err(invalid(format!(
                            "{name} reference is {}x{}x{} (H x W x C), the stack's frames are {}x{}x{}",
                            img.height,
                            img.width,
                            img.channels,
                            shape.height,
                            shape.width,
                            shape.channels
                        )));
                    }
                }
                Source::Sliding { window, lag, .. } => {
                    if *window == 0 {
                        return Err(invalid(format!("{name} sliding window must be at least 1")));
                    }
                    if lag
                        .checked_add(*window)
                        .is_none_or(|end| end > shape.frames)
                    {
                        return Err(invalid(format!(
                            "{name} sliding window {window} with lag {lag} needs more than the stack's {} frames",
                            shape.frames
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole stack normalized: an f32 stack of `output_frames` frames.
    pub fn apply(&self, stack: &Stack) -> Result<Stack, OpError> {
        let shape = stack.shape();
        let n_out = self.output_frames(shape.frames);
        let mut out = vec![0f32; n_out * shape.frame_len()];
        self.apply_into(stack, &mut out)?;
        let out_shape = Shape::new(n_out, shape.height, shape.width, shape.channels);
        let mut s = Stack::from_vec(out_shape, out).map_err(|e| invalid(e.to_string()))?;
        s.source = stack.source.clone();
        Ok(s)
    }

    /// [`Normalize::apply`] into a buffer of `output_frames` frames, so that repeated
    /// runs (the viewer, benchmarks) reuse one allocation.
    pub fn apply_into(&self, stack: &Stack, out: &mut [f32]) -> Result<(), OpError> {
        let shape = stack.shape();
        self.validate(shape)?;
        let n_out = self.output_frames(shape.frames);
        let p = shape.frame_len();
        if p == 0 {
            return Err(invalid("the stack's frames hold no sample"));
        }
        if out.len() != n_out * p {
            return Err(invalid(format!(
                "output holds {} samples, {n_out} frames of {p} need {}",
                out.len(),
                n_out * p
            )));
        }
        let fixed = [
            self.fixed_ref(&self.subtract, stack)?,
            self.fixed_ref(&self.divide, stack)?,
        ];
        // contiguous runs of output frames per task, so sliding sums run along time; each
        // run starts its window afresh, so sliding steps get one long run per thread
        let sliding = self
            .steps()
            .any(|s| matches!(s.source, Source::Sliding { .. }));
        let tasks = rayon::current_num_threads() * if sliding { 1 } else { 4 };
        let per_task = n_out.div_ceil(tasks).max(1);
        out.par_chunks_mut(per_task * p)
            .enumerate()
            .for_each(|(chunk, dst)| {
                let t0 = chunk * per_task;
                let t1 = t0 + dst.len() / p;
                self.run_frames(stack, &fixed, t0..t1, 0..p, dst);
            });
        Ok(())
    }

    /// Output frame `t` alone (the viewer's preview). Sliding steps need
    /// `t <= T - lag - window`; other frames come back unprocessed, as f32.
    pub fn preview(&self, stack: &Stack, t: usize) -> Result<Image, OpError> {
        let shape = stack.shape();
        self.validate(shape)?;
        if t >= shape.frames {
            return Err(invalid(format!(
                "frame {t} is beyond the stack's {} frames",
                shape.frames
            )));
        }
        let mut img = Image::zeros(shape.height, shape.width, shape.channels);
        if t >= self.output_frames(shape.frames) {
            let f = stack.frame(t);
            img.data
                .iter_mut()
                .enumerate()
                .for_each(|(i, d)| *d = f.get_f32(i));
            return Ok(img);
        }
        let fixed = [
            self.fixed_ref(&self.subtract, stack)?,
            self.fixed_ref(&self.divide, stack)?,
        ];
        // one frame: its samples split over the threads instead
        let p = shape.frame_len();
        let per_task = p
            .div_ceil(rayon::current_num_threads() * 2)
            .next_multiple_of(BLOCK)
            .max(BLOCK);
        img.data
            .par_chunks_mut(per_task)
            .enumerate()
            .for_each(|(i, dst)| {
                let lo = i * per_task;
                self.run_frames(stack, &fixed, t..t + 1, lo..lo + dst.len(), dst);
            });
        Ok(img)
    }

    /// The reference of a range or file step (computed once), None for sliding or absent.
    fn fixed_ref(&self, step: &Option<Step>, stack: &Stack) -> Result<Option<Image>, OpError> {
        Ok(match step.as_ref().map(|s| &s.source) {
            Some(Source::Range { op, range }) => Some(reduce(stack, *op, *range)?),
            Some(Source::File(img)) => Some(img.clone()),
            _ => None,
        })
    }

    /// Samples `span` of output frames `ts` into `dst` (frame-major, `span.len()` per
    /// frame), block of samples by block of samples.
    fn run_frames(
        &self,
        stack: &Stack,
        fixed: &[Option<Image>; 2],
        ts: std::ops::Range<usize>,
        span: std::ops::Range<usize>,
        dst: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            fn avx2(
                n: &Normalize,
                stack: &Stack,
                fixed: &[Option<Image>; 2],
                ts: std::ops::Range<usize>,
                span: std::ops::Range<usize>,
                dst: &mut [f32],
            ) {
                n.run_frames_body(stack, fixed, ts, span, dst)
            }
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { avx2(self, stack, fixed, ts, span, dst) };
        }
        self.run_frames_body(stack, fixed, ts, span, dst)
    }

    /// The body of [`Normalize::run_frames`], inlined into an AVX2 copy where available
    /// (wider conversions and f64 lanes for the running sums).
    #[inline(always)]
    fn run_frames_body(
        &self,
        stack: &Stack,
        fixed: &[Option<Image>; 2],
        ts: std::ops::Range<usize>,
        span: std::ops::Range<usize>,
        dst: &mut [f32],
    ) {
        let p = stack.shape().frame_len();
        match stack.samples() {
            Samples::U8(s) => self.run_typed(s, p, fixed, stack, ts, span, dst),
            Samples::U16(s) => self.run_typed(s, p, fixed, stack, ts, span, dst),
            Samples::F32(s) => self.run_typed(s, p, fixed, stack, ts, span, dst),
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run_typed<T: Sample>(
        &self,
        all: &[T],
        p: usize,
        fixed: &[Option<Image>; 2],
        stack: &Stack,
        ts: std::ops::Range<usize>,
        span: std::ops::Range<usize>,
        dst: &mut [f32],
    ) {
        let steps = [&self.subtract, &self.divide];
        let mut refs = [vec![0f32; BLOCK], vec![0f32; BLOCK]];
        let mut windows: [Option<Window>; 2] = [None, None];
        let width = span.len();
        for lo in span.clone().step_by(BLOCK) {
            let hi = (lo + BLOCK).min(span.end);
            let n = hi - lo;
            for k in 0..2 {
                windows[k] = match steps[k].as_ref().map(|s| &s.source) {
                    // mean, std and sum keep running sums; the others reduce each window
                    Some(Source::Sliding {
                        op: op @ (ReduceOp::Mean | ReduceOp::Std | ReduceOp::Sum),
                        window,
                        lag,
                    }) => Some(Window::start(all, p, lo..hi, ts.start + lag, *window, *op)),
                    _ => None,
                };
            }
            for t in ts.clone() {
                for k in 0..2 {
                    let Some(step) = steps[k] else { continue };
                    let r = &mut refs[k][..n];
                    match (&step.source, &fixed[k], &mut windows[k]) {
                        // read in place below
                        (_, Some(_), _) => {}
                        (Source::Sliding { op, .. }, _, Some(w)) => w.value(*op, all, p, lo, r),
                        (Source::Sliding { op, window, lag }, _, None) => {
                            let frames: Vec<Samples<'_>> = (t + lag..t + lag + window)
                                .map(|f| stack.frame(f))
                                .collect();
                            reduce_block(&frames, *op, lo..hi, r);
                        }
                        _ => unreachable!("range and file references are precomputed"),
                    }
                }
                let x = &all[t * p + lo..t * p + hi];
                let at = (t - ts.start) * width + lo - span.start;
                let out = &mut dst[at..at + n];
                let reference = |k: usize| match &fixed[k] {
                    Some(img) => &img.data[lo..hi],
                    None => &refs[k][..n],
                };
                apply_formula(
                    x,
                    self.subtract.as_ref().map(|s| (s.amount, reference(0))),
                    self.divide.as_ref().map(|s| (s.amount, reference(1))),
                    out,
                );
                for (k, w) in windows.iter_mut().enumerate() {
                    if let (
                        Some(w),
                        Some(Step {
                            source: Source::Sliding { lag, window, .. },
                            ..
                        }),
                    ) = (w.as_mut(), steps[k])
                    {
                        // slide: frame t+lag leaves, frame t+lag+window enters
                        let enter = t + lag + window;
                        if enter < all.len() / p {
                            w.slide(all, p, lo..hi, t + lag, enter);
                        }
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

/// Running sums over a sliding window of frames for one block of samples. Integer data
/// are exact (f64 holds their sums exactly). Float data skip NaN, keep infinities out of
/// the sums (a sample whose window holds one is reduced directly), and use compensated
/// (Neumaier) sums so that a large value leaving the window does not wipe out small ones.
struct Window {
    /// Frames `first..first + len` are in the window.
    first: usize,
    len: usize,
    sum: Vec<f64>,
    comp: Vec<f64>,
    /// Sums of squares and their compensation, kept only for std.
    sq: Option<(Vec<f64>, Vec<f64>)>,
    count: Vec<i32>,
    /// Infinite values in the window, per sample (float data).
    inf: Vec<i32>,
    /// The window length when no sample can be NaN (integer data): every count equals
    /// it, so a mean is a multiply by its reciprocal.
    dense: Option<usize>,
}

/// Neumaier's compensated `s += x`, the lost low part collected in `c`.
#[inline(always)]
fn add_comp(s: &mut f64, c: &mut f64, x: f64) {
    let t = *s + x;
    *c += if s.abs() >= x.abs() {
        (*s - t) + x
    } else {
        (x - t) + *s
    };
    *s = t;
}

impl Window {
    fn start<T: Sample>(
        all: &[T],
        p: usize,
        r: std::ops::Range<usize>,
        first: usize,
        w: usize,
        op: ReduceOp,
    ) -> Self {
        let n = r.len();
        let mut win = Window {
            first,
            len: w,
            sum: vec![0.0; n],
            comp: vec![0.0; n],
            sq: (op == ReduceOp::Std).then(|| (vec![0.0; n], vec![0.0; n])),
            count: vec![0; n],
            inf: vec![0; n],
            dense: (T::DTYPE != Dtype::F32).then_some(w),
        };
        for f in first..first + w {
            win.update(&all[f * p + r.start..f * p + r.end], 1.0);
        }
        win
    }

    /// Adds (sign 1) or removes (sign -1) one frame of the block.
    #[inline(always)]
    fn update<T: Sample>(&mut self, frame: &[T], sign: f64) {
        let n = self.sum.len();
        let frame = &frame[..n];
        if self.dense.is_some() {
            for i in 0..n {
                let v = frame[i].to_f32() as f64;
                self.sum[i] += sign * v;
                if let Some((sq, _)) = &mut self.sq {
                    sq[i] += sign * v * v;
                }
            }
            return;
        }
        let step = sign as i32;
        for i in 0..n {
            let v = frame[i].to_f32();
            if v.is_nan() {
                continue;
            }
            self.count[i] += step;
            if v.is_infinite() {
                self.inf[i] += step;
                continue;
            }
            let v = v as f64;
            add_comp(&mut self.sum[i], &mut self.comp[i], sign * v);
            if let Some((sq, c)) = &mut self.sq {
                add_comp(&mut sq[i], &mut c[i], sign * v * v);
            }
        }
    }

    /// Frame `leave` leaves the window and frame `enter` joins it.
    #[inline(always)]
    fn slide<T: Sample>(
        &mut self,
        all: &[T],
        p: usize,
        r: std::ops::Range<usize>,
        leave: usize,
        enter: usize,
    ) {
        if self.dense.is_some() && self.sq.is_none() {
            // the common case, integer mean or sum: one fused loop
            let n = r.len();
            let out = &all[leave * p + r.start..leave * p + r.end];
            let inn = &all[enter * p + r.start..enter * p + r.end];
            let sum = &mut self.sum[..n];
            for i in 0..n {
                sum[i] += inn[i].to_f32() as f64 - out[i].to_f32() as f64;
            }
        } else {
            self.update(&all[leave * p + r.start..leave * p + r.end], -1.0);
            self.update(&all[enter * p + r.start..enter * p + r.end], 1.0);
        }
        self.first += 1;
    }

    /// The window's reduce for every sample of the block; `all`, `p` and `lo` locate the
    /// block's frames for samples reduced directly.
    #[inline(always)]
    fn value<T: Sample>(&self, op: ReduceOp, all: &[T], p: usize, lo: usize, out: &mut [f32]) {
        let n = out.len();
        let sum = &self.sum[..n];
        match (op, &self.sq, self.dense) {
            (ReduceOp::Sum, _, Some(_)) => {
                for i in 0..n {
                    out[i] = sum[i] as f32;
                }
                return;
            }
            (ReduceOp::Mean, _, Some(w)) => {
                let inv = 1.0 / w as f64;
                for i in 0..n {
                    out[i] = (sum[i] * inv) as f32;
                }
                return;
            }
            (ReduceOp::Std, Some((sq, _)), Some(w)) => {
                let inv = 1.0 / w as f64;
                let sq = &sq[..n];
                for i in 0..n {
                    let m = sum[i] * inv;
                    out[i] = (sq[i] * inv - m * m).max(0.0).sqrt() as f32;
                }
                return;
            }
            _ => {}
        }
        for (i, o) in out.iter_mut().enumerate() {
            if self.inf[i] > 0 {
                *o = self.direct(op, all, p, lo + i);
                continue;
            }
            let c = self.count[i] as f64;
            let s = self.sum[i] + self.comp[i];
            *o = match (op, &self.sq) {
                (ReduceOp::Sum, _) => s as f32,
                _ if c == 0.0 => f32::NAN,
                (ReduceOp::Std, Some((sq, comp))) => {
                    let m = s / c;
                    ((sq[i] + comp[i]) / c - m * m).max(0.0).sqrt() as f32
                }
                _ => (s / c) as f32,
            };
        }
    }

    /// Sample `j`'s reduce over the window, straight from the frames (windows holding an
    /// infinity, where running sums cannot be undone).
    fn direct<T: Sample>(&self, op: ReduceOp, all: &[T], p: usize, j: usize) -> f32 {
        let v: Vec<f64> = (self.first..self.first + self.len)
            .map(|f| all[f * p + j].to_f32() as f64)
            .filter(|v| !v.is_nan())
            .collect();
        let n = v.len() as f64;
        let s: f64 = v.iter().sum();
        match op {
            ReduceOp::Sum => s as f32,
            _ if v.is_empty() => f32::NAN,
            ReduceOp::Mean => (s / n) as f32,
            _ => {
                let m = s / n;
                (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt() as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(t: usize, v: Vec<f32>) -> Stack {
        let p = v.len() / t;
        Stack::from_vec(Shape::new(t, 1, p, 1), v).unwrap()
    }

    #[test]
    fn subtract_range_mean_and_divide_file() {
        // one pixel, frames 2, 4, 6, 8: mean of frames 0..=1 = 3
        let s = stack(4, vec![2.0, 4.0, 6.0, 8.0]);
        let n = Normalize {
            subtract: Some(Step {
                source: Source::Range {
                    op: ReduceOp::Mean,
                    range: FrameRange::new(0, 1),
                },
                amount: 1.0,
            }),
            divide: Some(Step {
                source: Source::File(Image {
                    height: 1,
                    width: 1,
                    channels: 1,
                    data: vec![4.0],
                }),
                amount: 0.5,
            }),
        };
        // (x - 3) / (0.5 * 4 + 0.5) = (x - 3) / 2.5
        let out = n.apply(&s).unwrap();
        assert_eq!(out.as_slice::<f32>().unwrap(), &[-0.4, 0.4, 1.2, 2.0]);
        assert_eq!(n.preview(&s, 2).unwrap().data, vec![1.2]);
    }

    #[test]
    fn sliding_window_follows_design_indices() {
        // T = 10, w = 2, lag = 1: frame t uses frames t+1, t+2; T-L-w+1 = 8 frames out
        let v: Vec<f32> = (0..10).map(|t| (t * t) as f32).collect();
        let s = stack(10, v.clone());
        for op in [ReduceOp::Mean, ReduceOp::Max, ReduceOp::Std] {
            let n = Normalize {
                subtract: Some(Step {
                    source: Source::Sliding {
                        op,
                        window: 2,
                        lag: 1,
                    },
                    amount: 1.0,
                }),
                divide: None,
            };
            let out = n.apply(&s).unwrap();
            assert_eq!(out.shape().frames, 8);
            for t in 0..8 {
                let (a, b) = (v[t + 1], v[t + 2]);
                let r = match op {
                    ReduceOp::Mean => (a + b) / 2.0,
                    ReduceOp::Max => b,
                    _ => (b - a) / 2.0,
                };
                assert!(
                    (out.value(t, 0, 0, 0) - (v[t] - r)).abs() < 1e-4,
                    "{op} t={t}"
                );
            }
        }
    }

    #[test]
    fn zero_denominator_and_non_finite_give_zero() {
        let s = stack(2, vec![5.0, f32::INFINITY]);
        let n = Normalize {
            subtract: None,
            divide: Some(Step {
                source: Source::File(Image {
                    height: 1,
                    width: 1,
                    channels: 1,
                    data: vec![0.0],
                }),
                amount: 1.0,
            }),
        };
        assert_eq!(n.apply(&s).unwrap().as_slice::<f32>().unwrap(), &[0.0, 0.0]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let s = stack(3, vec![1.0, 2.0, 3.0]);
        let slide = |window, lag| Normalize {
            subtract: Some(Step {
                source: Source::Sliding {
                    op: ReduceOp::Mean,
                    window,
                    lag,
                },
                amount: 1.0,
            }),
            divide: None,
        };
        assert!(slide(3, 1).apply(&s).is_err());
        assert!(slide(0, 0).apply(&s).is_err());
        assert!(slide(3, 0).apply(&s).is_ok());
        let amount = Normalize {
            subtract: Some(Step {
                source: Source::Range {
                    op: ReduceOp::Mean,
                    range: FrameRange::all(3),
                },
                amount: 1.5,
            }),
            divide: None,
        };
        assert!(amount.apply(&s).is_err());
    }

    #[test]
    fn preview_split_over_threads_equals_apply() {
        // 40 000 samples per frame: the preview splits them into several blocks
        let (t, h, w) = (9, 200, 200);
        let v: Vec<u16> = (0..t * h * w).map(|i| ((i * 7919) % 4099) as u16).collect();
        let s = Stack::from_vec(Shape::new(t, h, w, 1), v).unwrap();
        for op in [ReduceOp::Mean, ReduceOp::Max] {
            let n = Normalize {
                subtract: Some(Step {
                    source: Source::Sliding {
                        op,
                        window: 3,
                        lag: 1,
                    },
                    amount: 0.8,
                }),
                divide: None,
            };
            let full = n.apply(&s).unwrap();
            let full = full.as_slice::<f32>().unwrap();
            for f in [0, 2, 4] {
                let p = n.preview(&s, f).unwrap();
                assert_eq!(p.data, full[f * h * w..(f + 1) * h * w], "{op} frame {f}");
            }
        }
    }
}
