//! Running sums over a sliding window of frames for one block of samples: a sliding mean,
//! std or sum costs the same whatever the window, and the state persists from one chunk
//! of frames to the next, so a streamed pass reads each frame once.

use std::ops::Range;

use crate::ops::reduce::ReduceOp;
use crate::stack::{Dtype, Sample};

/// Running sums over frames `first..first + len` for the samples of one block. Integer
/// data are exact (f64 holds their sums exactly). Float data skip NaN, keep infinities out
/// of the sums (a sample whose window holds one is reduced directly), and use compensated
/// (Neumaier) sums so that a large value leaving the window does not wipe out small ones.
pub(super) struct Window {
    /// Frames `first..first + len` are in the window (once filled).
    first: usize,
    len: usize,
    sum: Vec<f64>,
    /// Compensation of `sum` (float data only; empty for integers).
    comp: Vec<f64>,
    /// Sums of squares and their compensation, kept only for std.
    sq: Option<(Vec<f64>, Vec<f64>)>,
    /// Non-NaN values in the window, per sample (float data only).
    count: Vec<i32>,
    /// Infinite values in the window, per sample (float data only).
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
    /// An empty window over frames `first..first + len` for `n` samples of dtype `dtype`;
    /// [`Window::add`] then fills it with those frames in order.
    pub(super) fn new(n: usize, first: usize, len: usize, op: ReduceOp, dtype: Dtype) -> Self {
        let dense = dtype != Dtype::F32;
        // integer windows need neither compensation nor counts: less state per sample
        let float = |k: usize| if dense { Vec::new() } else { vec![0.0; k] };
        let counts = || if dense { Vec::new() } else { vec![0; n] };
        Window {
            first,
            len,
            sum: vec![0.0; n],
            comp: float(n),
            sq: (op == ReduceOp::Std).then(|| (vec![0.0; n], float(n))),
            count: counts(),
            inf: counts(),
            dense: dense.then_some(len),
        }
    }

    /// The frames the window covers.
    pub(super) fn frames(&self) -> Range<usize> {
        self.first..self.first + self.len
    }

    /// Adds one frame of the block (filling the window).
    #[inline(always)]
    pub(super) fn add<T: Sample>(&mut self, frame: &[T]) {
        self.update(frame, 1.0);
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

    /// Frame `leave` leaves the window and frame `enter` joins it (`all` is the whole
    /// stack, `p` samples per frame, `r` the block's samples).
    #[inline(always)]
    pub(super) fn slide<T: Sample>(
        &mut self,
        all: &[T],
        p: usize,
        r: Range<usize>,
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
    pub(super) fn value<T: Sample>(
        &self,
        op: ReduceOp,
        all: &[T],
        p: usize,
        lo: usize,
        out: &mut [f32],
    ) {
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
        let v: Vec<f64> = self
            .frames()
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
