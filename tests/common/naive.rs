//! Naive, obviously-correct implementations of the operations (plain loops over
//! `Stack::value`, sort-based percentiles, the spec's formulas), written independently
//! of `blitz::ops`: the oracles the library and the engines are checked against.

use blitz::Stack;
use blitz::ops::FrameRange;
use blitz::ops::profile::Orientation;
use blitz::ops::reduce::ReduceOp;
use blitz::ops::roi::Roi;

use super::Kind;

// ---------------------------------------------------------------- reduce, normalize

/// `op` over `v` (NaN already dropped): the sum of nothing is 0, anything else NaN.
pub fn reduce_values(op: ReduceOp, v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if v.is_empty() {
        return if op == ReduceOp::Sum { 0.0 } else { f64::NAN };
    }
    let mean = v.iter().sum::<f64>() / n;
    match op {
        ReduceOp::Sum => v.iter().sum(),
        ReduceOp::Mean => mean,
        ReduceOp::Max => v.iter().cloned().fold(f64::MIN, f64::max),
        ReduceOp::Min => v.iter().cloned().fold(f64::MAX, f64::min),
        ReduceOp::Std => (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt(),
        ReduceOp::Median => {
            let mut s = v.to_vec();
            s.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let k = s.len();
            if k % 2 == 1 {
                s[k / 2]
            } else {
                (s[k / 2 - 1] + s[k / 2]) / 2.0
            }
        }
    }
}

/// Sample `i` of each frame `range` holds, NaN dropped.
pub fn column(s: &Stack, i: usize, range: FrameRange) -> Vec<f64> {
    (range.first..=range.last)
        .map(|t| s.frame(t).get_f32(i) as f64)
        .filter(|v| !v.is_nan())
        .collect()
}

/// The temporal reduce: one value per sample of a frame.
pub fn reduce(s: &Stack, op: ReduceOp, range: FrameRange) -> Vec<f64> {
    (0..s.shape().frame_len())
        .map(|i| reduce_values(op, &column(s, i, range)))
        .collect()
}

/// Apply-to-full of subtracting the sliding `op` (design.md): for t in 0..=T-lag-window,
/// frame t minus `op` over frames t+lag ..= t+lag+window-1.
pub fn subtract_sliding(s: &Stack, op: ReduceOp, window: usize, lag: usize) -> Vec<f64> {
    let sh = s.shape();
    let frames = (sh.frames + 1).saturating_sub(lag + window);
    let mut out = Vec::new();
    for t in 0..frames {
        let r = reduce(s, op, FrameRange::new(t + lag, t + lag + window - 1));
        for (i, m) in r.into_iter().enumerate() {
            out.push(s.frame(t).get_f32(i) as f64 - m);
        }
    }
    out
}

// ---------------------------------------------------------------- histograms

/// Counts by a plain loop, with the documented bin rule.
pub fn histogram_counts(kind: Kind, v: &[f64], bins: usize) -> (f64, f64, Vec<u64>) {
    if let Kind::U8 = kind {
        let mut c = vec![0u64; 256];
        v.iter().for_each(|&x| c[x as usize] += 1);
        return (0.0, 256.0, c);
    }
    let mut c = vec![0u64; bins];
    if v.is_empty() {
        return (0.0, 1.0, c);
    }
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &x in v {
        let i = match kind {
            _ if hi == lo => 0,
            // exact integer floor((x - lo) * bins / (hi - lo))
            Kind::U16 => ((x - lo) as u64 * bins as u64 / (hi - lo) as u64) as usize,
            _ => ((x - lo) * (bins as f64 / (hi - lo))) as usize,
        };
        c[i.min(bins - 1)] += 1;
    }
    (lo, hi, c)
}

// ---------------------------------------------------------------- profiles, envelopes

/// Pixel at position `p` of line `l` for `o` (a row profile runs along x at row l).
pub fn at(s: &Stack, t: usize, o: Orientation, l: usize, p: usize, c: usize) -> f64 {
    match o {
        Orientation::Row => s.value(t, l, p, c) as f64,
        Orientation::Col => s.value(t, p, l, c) as f64,
    }
}

pub fn sizes(s: &Stack, o: Orientation) -> (usize, usize) {
    let sh = s.shape();
    match o {
        Orientation::Row => (sh.height, sh.width),
        Orientation::Col => (sh.width, sh.height),
    }
}

/// The band lines, by the spec's formula, with signed arithmetic.
pub fn band_lines(pos: usize, k: usize, lines: usize) -> Vec<usize> {
    let lo = (pos as i64 - k as i64).max(0);
    let hi = (pos as i64 + k as i64 + 1).min(lines as i64);
    (lo..hi).map(|l| l as usize).collect()
}

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// numpy.percentile(v, q) with the default linear method, by sorting; NaN when empty.
pub fn pct(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let r = q / 100.0 * (s.len() - 1) as f64;
    let (i, j) = (r.floor() as usize, r.ceil() as usize);
    s[i] + (s[j] - s[i]) * (r - i as f64)
}

/// (lo, hi) of `v` for percentile q: min/max at 0.
pub fn env_of(v: &[f64], q: u32) -> (f64, f64) {
    if q == 0 {
        if v.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    } else {
        (pct(v, q as f64), pct(v, 100.0 - q as f64))
    }
}

pub fn profile(s: &Stack, t: usize, o: Orientation, pos: usize, k: usize) -> Vec<f64> {
    let (lines, n) = sizes(s, o);
    let ch = s.shape().channels;
    let mut out = Vec::new();
    for p in 0..n {
        for c in 0..ch {
            let v: Vec<f64> = band_lines(pos, k, lines)
                .into_iter()
                .map(|l| at(s, t, o, l, p, c))
                .filter(|x| !x.is_nan())
                .collect();
            out.push(mean(&v));
        }
    }
    out
}

/// Envelope of frame t over `lines`, channels together.
pub fn frame_env(s: &Stack, t: usize, o: Orientation, lines: &[usize], q: u32) -> Vec<(f64, f64)> {
    let (_, n) = sizes(s, o);
    (0..n)
        .map(|p| {
            let mut v = Vec::new();
            for &l in lines {
                for c in 0..s.shape().channels {
                    let x = at(s, t, o, l, p, c);
                    if !x.is_nan() {
                        v.push(x);
                    }
                }
            }
            env_of(&v, q)
        })
        .collect()
}

pub fn dataset_env(s: &Stack, o: Orientation, pos: usize, k: usize, q: u32) -> Vec<(f64, f64)> {
    let (lines, n) = sizes(s, o);
    let sh = s.shape();
    let band = band_lines(pos, k, lines);
    if q == 0 {
        return (0..n)
            .map(|p| {
                let mut v = Vec::new();
                for t in 0..sh.frames {
                    for &l in &band {
                        for c in 0..sh.channels {
                            let x = at(s, t, o, l, p, c);
                            if !x.is_nan() {
                                v.push(x);
                            }
                        }
                    }
                }
                env_of(&v, 0)
            })
            .collect();
    }
    let profiles: Vec<Vec<f64>> = (0..sh.frames).map(|t| profile(s, t, o, pos, k)).collect();
    (0..n)
        .map(|p| {
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            for c in 0..sh.channels {
                let v: Vec<f64> = profiles
                    .iter()
                    .map(|pr| pr[p * sh.channels + c])
                    .filter(|x| !x.is_nan())
                    .collect();
                if !v.is_empty() {
                    lo.push(pct(&v, q as f64));
                    hi.push(pct(&v, 100.0 - q as f64));
                }
            }
            (mean(&lo), mean(&hi))
        })
        .collect()
}

/// The finite samples of frames `range`, in storage order.
pub fn finite(s: &Stack, range: FrameRange) -> Vec<f64> {
    let n = s.shape().frame_len();
    (range.first..=range.last)
        .flat_map(|t| (0..n).map(move |i| s.frame(t).get_f32(i)))
        .filter(|v| v.is_finite())
        .map(|v| v as f64)
        .collect()
}

// ---------------------------------------------------------------- PCA

/// The first `k` principal components of frames `range` by the textbook route: the
/// centred frames as rows of a matrix X, its Gram matrix X Xᵀ, eigenpairs by power
/// iteration with deflation, components Xᵀ u / σ. Returns (variances σ²/(T-1),
/// components as sample vectors, scores X v) in f64.
pub fn pca(s: &Stack, k: usize, range: FrameRange) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let t_n = range.len();
    let n = s.shape().frame_len();
    let rows: Vec<Vec<f64>> = (range.first..=range.last)
        .map(|t| {
            let f = s.frame(t);
            (0..n).map(|i| f.get_f32(i) as f64).collect()
        })
        .collect();
    let mean: Vec<f64> = (0..n)
        .map(|i| rows.iter().map(|r| r[i]).sum::<f64>() / t_n as f64)
        .collect();
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(a, m)| a - m).collect())
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut g: Vec<Vec<f64>> = (0..t_n)
        .map(|i| (0..t_n).map(|j| dot(&x[i], &x[j])).collect())
        .collect();
    let (mut vars, mut comps, mut scores) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..k {
        // power iteration from a fixed, non-special start
        let mut u: Vec<f64> = (0..t_n)
            .map(|i| 1.0 + ((i * 7 + j * 3) % 11) as f64)
            .collect();
        let mut lambda = 0.0;
        for _ in 0..20_000 {
            let w: Vec<f64> = g.iter().map(|row| dot(row, &u)).collect();
            let norm = dot(&w, &w).sqrt();
            if norm == 0.0 {
                break;
            }
            let next: Vec<f64> = w.iter().map(|v| v / norm).collect();
            let diff: f64 = next.iter().zip(&u).map(|(a, b)| (a - b).abs()).sum();
            u = next;
            lambda = norm;
            if diff < 1e-13 {
                break;
            }
        }
        // deflate
        for a in 0..t_n {
            for b in 0..t_n {
                g[a][b] -= lambda * u[a] * u[b];
            }
        }
        let sigma = lambda.sqrt();
        let v: Vec<f64> = (0..n)
            .map(|i| (0..t_n).map(|t| x[t][i] * u[t]).sum::<f64>() / sigma)
            .collect();
        scores.push(x.iter().map(|r| dot(r, &v)).collect());
        comps.push(v);
        vars.push(lambda / (t_n - 1) as f64);
    }
    (vars, comps, scores)
}

// ---------------------------------------------------------------- ROI

/// Even-odd point-in-polygon by the sign of a cross product per crossing edge (no
/// division), written independently of the library's intersection formula.
pub fn inside(poly: &[(f32, f32)], px: f64, py: f64) -> bool {
    let mut n = 0;
    for i in 0..poly.len() {
        let (ax, ay) = (poly[i].0 as f64, poly[i].1 as f64);
        let (bx, by) = (
            poly[(i + 1) % poly.len()].0 as f64,
            poly[(i + 1) % poly.len()].1 as f64,
        );
        // orient the edge upwards; it counts for ay <= py < by
        let (ax, ay, bx, by) = if ay <= by {
            (ax, ay, bx, by)
        } else {
            (bx, by, ax, ay)
        };
        if ay <= py && py < by {
            // the crossing is right of p when p is left of the upward edge
            let cross = (bx - ax) * (py - ay) - (px - ax) * (by - ay);
            if cross > 0.0 {
                n += 1;
            }
        }
    }
    n % 2 == 1
}

/// Naive pixel mask of a ROI (row-major H x W).
pub fn roi_mask(roi: &Roi, h: usize, w: usize) -> Vec<bool> {
    let mut m = vec![false; h * w];
    for y in 0..h {
        for x in 0..w {
            m[y * w + x] = match roi {
                Roi::Rect {
                    x: rx,
                    y: ry,
                    w: rw,
                    h: rh,
                } => {
                    let (x, y) = (x as i64, y as i64);
                    x >= *rx && x < rx + *rw as i64 && y >= *ry && y < ry + *rh as i64
                }
                Roi::Polygon(p) => inside(p, x as f64 + 0.5, y as f64 + 0.5),
                Roi::Ellipse {
                    cx,
                    cy,
                    rx,
                    ry,
                    angle,
                } => {
                    // the centre in the ellipse's own axes
                    let (s, c) = (*angle as f64).to_radians().sin_cos();
                    let (dx, dy) = (x as f64 + 0.5 - *cx as f64, y as f64 + 0.5 - *cy as f64);
                    let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
                    (u / *rx as f64).powi(2) + (v / *ry as f64).powi(2) <= 1.0
                }
            };
        }
    }
    m
}
