//! PCA's passes on the CPU ([`CpuPasses`], the reference): each pass reads the frames
//! in order, chunk by chunk, centres them into f32, and computes its product tile by
//! tile of samples. A tile's weights (the sketch's signs, or rows of Z) stay in cache
//! while every frame of the chunk goes past them, the multiply-adds run in f32 over
//! `W` lanes (8 to 64 columns at a time), and each tile's sums are added up in f64, so
//! the precision is that of f64 sums of f32 sums over at most [`TILE`] samples or one
//! chunk's frames.

use rayon::prelude::*;

use super::PcaPasses;
use crate::load::Progress;
use crate::ops::{FrameRange, OpError};
use crate::stack::{Samples, Stack};

/// Samples of one tile.
const TILE: usize = 2048;
/// Columns one product handles at once (the widest accumulator).
const MAX_COLS: usize = 64;

/// The passes on the CPU: f32 multiply-adds, f64 sums.
pub struct CpuPasses<'a>(pub &'a Stack);

/// Frames a pass reads at a time: about `bytes` of f32, at least one.
fn chunk_frames(n: usize, bytes: usize) -> usize {
    (bytes / (n.max(1) * 4)).max(1)
}

/// Frame `t` centred on `mean` into `out` (0 where either is NaN).
fn centred(frame: Samples<'_>, mean: &[f32], out: &mut [f32]) {
    fn go<T: Copy>(s: &[T], mean: &[f32], out: &mut [f32], f: impl Fn(T) -> f32) {
        for ((o, &v), &m) in out.iter_mut().zip(s).zip(mean) {
            let d = f(v) - m;
            *o = if d.is_nan() { 0.0 } else { d };
        }
    }
    match frame {
        Samples::U8(s) => go(s, mean, out, f32::from),
        Samples::U16(s) => go(s, mean, out, f32::from),
        Samples::F32(s) => go(s, mean, out, |v| v),
    }
}

/// One pass over the centred frames of `range`, chunk by chunk in order: `each` gets the
/// chunk's first index (from 0) and its frames.
fn pass(
    stack: &Stack,
    range: FrameRange,
    mean: &[f32],
    what: &str,
    progress: &dyn Progress,
    mut each: impl FnMut(usize, &[Vec<f32>]),
) -> Result<(), OpError> {
    let n = mean.len();
    let per = chunk_frames(n, 64 << 20);
    progress.start(what, range.len() as u64);
    let mut bufs: Vec<Vec<f32>> = Vec::new();
    let mut a = range.first;
    while a <= range.last {
        if progress.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        let b = (a + per - 1).min(range.last);
        bufs.resize_with(b - a + 1, || vec![0.0; n]);
        bufs.par_iter_mut()
            .enumerate()
            .for_each(|(i, buf)| centred(stack.frame(a + i), mean, buf));
        each(a - range.first, &bufs);
        progress.advance((b - a + 1) as u64);
        a = b + 1;
    }
    Ok(())
}

/// The `n` x `W` weights, column j of row s `get(s, j)` for j < `cols`, 0 beyond.
fn weights<const W: usize>(
    n: usize,
    cols: usize,
    get: impl Fn(usize, usize) -> f32 + Sync,
) -> Vec<[f32; W]> {
    (0..n)
        .into_par_iter()
        .map(|s| std::array::from_fn(|j| if j < cols { get(s, j) } else { 0.0 }))
        .collect()
}

/// Per frame of `frames`, `Σ_s x[s] · w[s][j]` for j < `cols`: frames x cols, in f64.
fn frames_times<const W: usize>(frames: &[Vec<f32>], w: &[[f32; W]], cols: usize) -> Vec<f64> {
    let (n, t) = (w.len(), frames.len());
    (0..n.div_ceil(TILE))
        .into_par_iter()
        .map(|k| {
            let tile = k * TILE..((k + 1) * TILE).min(n);
            let wt = &w[tile.clone()];
            let mut part = vec![0f64; t * cols];
            for (f, row) in frames.iter().zip(part.chunks_exact_mut(cols)) {
                let mut acc = [0f32; W];
                for (&v, ws) in f[tile.clone()].iter().zip(wt) {
                    for j in 0..W {
                        acc[j] += v * ws[j];
                    }
                }
                for (o, a) in row.iter_mut().zip(acc) {
                    *o += a as f64;
                }
            }
            part
        })
        .reduce(|| vec![0f64; t * cols], add)
}

fn add(mut a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    a
}

/// `z[s][c0 + j] += Σ_t x_t[s] · q[t][j]` for j < `cols` over the frames of one chunk
/// (`q` their rows), `z` n x r.
fn samples_times<const W: usize>(
    frames: &[Vec<f32>],
    q: &[[f32; W]],
    z: &mut [f64],
    (r, c0, cols): (usize, usize, usize),
) {
    z.par_chunks_mut(TILE * r).enumerate().for_each(|(k, zt)| {
        let a = k * TILE;
        for (i, zs) in zt.chunks_exact_mut(r).enumerate() {
            // the sample's sums in registers over the chunk's frames
            let mut acc = [0f32; W];
            for (f, qt) in frames.iter().zip(q) {
                let v = f[a + i];
                for j in 0..W {
                    acc[j] += v * qt[j];
                }
            }
            for (o, &v) in zs[c0..c0 + cols].iter_mut().zip(&acc) {
                *o += v as f64;
            }
        }
    });
}

/// Expands `$m!(W)` with the narrowest accumulator width `W` that holds `$cols` columns
/// (at most [`MAX_COLS`]).
macro_rules! by_width {
    ($cols:expr, $m:ident) => {
        match $cols {
            0..=8 => $m!(8),
            9..=16 => $m!(16),
            17..=32 => $m!(32),
            _ => $m!(64),
        }
    };
}

/// The squared norm of the centred frames: f32 sums of a tile in eight lanes, added in
/// f64.
fn squared_norm(frames: &[Vec<f32>]) -> f64 {
    fn tile(c: &[f32]) -> f64 {
        let mut acc = [0f32; 8];
        let mut it = c.chunks_exact(8);
        for ch in &mut it {
            for j in 0..8 {
                acc[j] += ch[j] * ch[j];
            }
        }
        let rest: f32 = it.remainder().iter().map(|v| v * v).sum();
        acc.iter().map(|&a| a as f64).sum::<f64>() + rest as f64
    }
    frames
        .par_iter()
        .map(|f| f.chunks(TILE).map(tile).sum::<f64>())
        .sum()
}

/// The sign matrix of the sketch: column j of row s is +1 where bit j of `om[s]` is set,
/// else -1, for j < `l`.
fn sign_weights<const W: usize>(om: &[u64], l: usize) -> Vec<[f32; W]> {
    weights::<W>(
        om.len(),
        l,
        |s, j| {
            if (om[s] >> j) & 1 == 1 { 1.0 } else { -1.0 }
        },
    )
}

fn z_weights<const W: usize>(z: &[f64], r: usize, c0: usize, cols: usize) -> Vec<[f32; W]> {
    weights::<W>(z.len() / r, cols, |s, j| z[s * r + c0 + j] as f32)
}

/// One chunk's part of `Xᵀ Q` for the columns c0..c0 + cols (`q` the range's T x r).
fn samples_chunk<const W: usize>(
    frames: &[Vec<f32>],
    q: &[f64],
    t0: usize,
    z: &mut [f64],
    (r, c0, cols): (usize, usize, usize),
) {
    let qw: Vec<[f32; W]> = (0..frames.len())
        .map(|i| {
            let row = &q[(t0 + i) * r + c0..(t0 + i) * r + c0 + cols];
            std::array::from_fn(|j| if j < cols { row[j] as f32 } else { 0.0 })
        })
        .collect();
    samples_times(frames, &qw, z, (r, c0, cols));
}

/// Column blocks of at most [`MAX_COLS`] of `r` columns: (first, count).
fn column_blocks(r: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..r)
        .step_by(MAX_COLS)
        .map(move |c0| (c0, (r - c0).min(MAX_COLS)))
}

impl PcaPasses for CpuPasses<'_> {
    type Error = OpError;

    fn sketch(
        &self,
        range: FrameRange,
        mean: &[f32],
        om: &[u64],
        l: usize,
        progress: &dyn Progress,
    ) -> Result<(Vec<f64>, f64), OpError> {
        let mut y = vec![0.0f64; range.len() * l];
        let mut total = 0.0f64;
        // the signs in f32 once for every chunk
        macro_rules! with_width {
            ($w:literal) => {{
                let w = sign_weights::<$w>(om, l);
                pass(
                    self.0,
                    range,
                    mean,
                    "pca: sketch",
                    progress,
                    |t0, frames| {
                        let rows = frames_times(frames, &w, l);
                        y[t0 * l..(t0 + frames.len()) * l].copy_from_slice(&rows);
                        total += squared_norm(frames);
                    },
                )
            }};
        }
        by_width!(l, with_width)?;
        Ok((y, total))
    }

    fn project_samples(
        &self,
        range: FrameRange,
        mean: &[f32],
        q: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, OpError> {
        let mut z = vec![0.0f64; mean.len() * r];
        pass(
            self.0,
            range,
            mean,
            "pca: projecting",
            progress,
            |t0, frames| {
                for (c0, cols) in column_blocks(r) {
                    macro_rules! chunk {
                        ($w:literal) => {
                            samples_chunk::<$w>(frames, q, t0, &mut z, (r, c0, cols))
                        };
                    }
                    by_width!(cols, chunk);
                }
            },
        )?;
        Ok(z)
    }

    fn project_frames(
        &self,
        range: FrameRange,
        mean: &[f32],
        z: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, OpError> {
        let mut y = vec![0.0f64; range.len() * r];
        // Z in f32, in blocks of columns, once for every chunk
        macro_rules! with_width {
            ($w:literal) => {{
                let zw: Vec<(usize, usize, Vec<[f32; $w]>)> = column_blocks(r)
                    .map(|(c0, cols)| (c0, cols, z_weights::<$w>(z, r, c0, cols)))
                    .collect();
                let what = "pca: power iteration";
                pass(self.0, range, mean, what, progress, |t0, frames| {
                    for (c0, cols, w) in &zw {
                        let rows = frames_times(frames, w, *cols);
                        for (i, row) in rows.chunks_exact(*cols).enumerate() {
                            let o = (t0 + i) * r + c0;
                            y[o..o + cols].copy_from_slice(row);
                        }
                    }
                })
            }};
        }
        by_width!(r, with_width)?;
        Ok(y)
    }
}
