//! PCA of the frames (BLITZ's PCA tab): each frame of the range is a vector of its
//! samples, the mean frame is removed, and the first `k` principal components are the
//! images the frames vary along most. Results: the component images (unit length),
//! each frame's scores (its projection on each component), the variance each explains
//! and the mean frame, so frame t ≈ mean + Σ_j score[t][j] · component_j.
//!
//! One method, exact for few frames and randomized for many (Halko, Martinsson and
//! Tropp's range finder): a sketch `Y = X Ω` of the centred frames `X` (T x N) with a
//! random ±1 matrix Ω of `l = k + 10` columns (l = T makes it exact), sharpened by power
//! iterations `Y = X Xᵀ Q`, orthonormalized to `Q`, then `Z = Xᵀ Q` (N x l) and the
//! eigen-decomposition of the small `Zᵀ Z` give the singular values and vectors. Every
//! product is a pass over the frames in order, chunk by chunk, so a stack bigger than
//! RAM (mapped) is read from disk a few times and never held; memory is the l x N
//! accumulator (f64), the same in f32 for the pass's weights, and one chunk of frames.
//! The passes multiply in f32 and add up in f64 (`pca/cpu.rs`, or the GPU's
//! `gpu/pca.rs`). NaN samples count as the mean (0 once centred).

use super::reduce::{ReduceOp, reduce_watched};
use super::{FrameRange, Image, OpError};
use crate::load::{NoProgress, Progress};
use crate::stack::Stack;

mod cpu;

pub use cpu::CpuPasses;

/// Frames up to which the sketch takes every direction (the exact SVD).
pub const EXACT_MAX_FRAMES: usize = 200;

/// Extra sketch columns beyond `k` (the randomized method's oversampling).
const OVERSAMPLE: usize = 10;

/// How the components are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcaMethod {
    /// Exact up to [`EXACT_MAX_FRAMES`] frames, randomized beyond.
    Auto,
    /// Every direction of the frames: exact, costly for many frames.
    Exact,
    /// A sketch of `k + 10` directions with this many power iterations.
    Randomized { power_iterations: usize },
}

impl std::str::FromStr for PcaMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(PcaMethod::Auto),
            "exact" => Ok(PcaMethod::Exact),
            "randomized" => Ok(PcaMethod::Randomized {
                power_iterations: 2,
            }),
            _ => Err(format!(
                "unknown PCA method '{s}' (auto, exact, randomized)"
            )),
        }
    }
}

/// The first components of a range of frames.
#[derive(Clone, Debug)]
pub struct Pca {
    /// The frames analysed.
    pub range: FrameRange,
    /// The mean frame that was removed.
    pub mean: Image,
    /// Component images, unit length, each with its largest-magnitude sample positive.
    pub components: Vec<Image>,
    /// Per frame of the range, its score on each component (row-major, frames x k).
    pub scores: Vec<f32>,
    /// Variance each component explains (squared singular value / (frames - 1)).
    pub variance: Vec<f64>,
    /// The fraction of the frames' total variance each component explains.
    pub ratio: Vec<f64>,
    /// "exact" or "randomized (sketch of L, Q power iterations)".
    pub method: String,
}

impl Pca {
    /// Number of components.
    pub fn k(&self) -> usize {
        self.components.len()
    }

    /// Score of frame `t` of the range on component `j`.
    pub fn score(&self, t: usize, j: usize) -> f32 {
        self.scores[t * self.k() + j]
    }

    /// Frame `t` of the range rebuilt from its first `k` components: mean + scores.
    pub fn reconstruct(&self, t: usize, k: usize) -> Image {
        let mut img = self.mean.clone();
        for j in 0..k.min(self.k()) {
            let s = self.score(t, j);
            for (o, c) in img.data.iter_mut().zip(&self.components[j].data) {
                *o += s * c;
            }
        }
        img
    }
}

/// The first `k` principal components of frames `range` of `stack`.
pub fn pca(stack: &Stack, k: usize, range: FrameRange, method: PcaMethod) -> Result<Pca, OpError> {
    pca_watched(stack, k, range, method, &NoProgress)
}

/// Block `block` of the random ±1 sketch matrix: 64 columns, one u64 of sign bits per
/// sample (bit j: column 64 block + j).
pub(crate) fn signs(n: usize, block: usize) -> Vec<u64> {
    // splitmix64 of the sample index: the same sketch on every run
    let first = (n * block) as u64;
    (first..first + n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// An orthonormal basis of the columns of `y` (rows x cols, row-major), by modified
/// Gram–Schmidt done twice; columns that add no direction are dropped. Returns the basis
/// (rows x r) and r.
fn orthonormal(y: &[f64], rows: usize, cols: usize) -> (Vec<f64>, usize) {
    let col = |j: usize| (0..rows).map(|i| y[i * cols + j]).collect::<Vec<f64>>();
    let scale = (0..cols)
        .map(|j| col(j).iter().map(|v| v * v).sum::<f64>().sqrt())
        .fold(0.0f64, f64::max);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for j in 0..cols {
        let mut v = col(j);
        for _ in 0..2 {
            for b in &basis {
                let d: f64 = v.iter().zip(b).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(b).for_each(|(a, b)| *a -= d * b);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-10 * scale && norm > 0.0 {
            v.iter_mut().for_each(|a| *a /= norm);
            basis.push(v);
        }
    }
    let r = basis.len();
    let mut q = vec![0.0f64; rows * r];
    for (j, b) in basis.iter().enumerate() {
        for i in 0..rows {
            q[i * r + j] = b[i];
        }
    }
    (q, r)
}

/// Eigenvalues (descending) and eigenvectors (columns of an r x r row-major matrix) of
/// the symmetric `a` (r x r), by cyclic Jacobi rotations.
pub fn symmetric_eigen(a: &[f64], r: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0f64; r * r];
    for i in 0..r {
        v[i * r + i] = 1.0;
    }
    let norm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..r)
            .flat_map(|i| (0..r).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * r + j] * a[i * r + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm || off == 0.0 {
            break;
        }
        for p in 0..r {
            for q in p + 1..r {
                let apq = a[p * r + q];
                if apq.abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[q * r + q] - a[p * r + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..r {
                    let (akp, akq) = (a[k * r + p], a[k * r + q]);
                    a[k * r + p] = c * akp - s * akq;
                    a[k * r + q] = s * akp + c * akq;
                }
                for k in 0..r {
                    let (apk, aqk) = (a[p * r + k], a[q * r + k]);
                    a[p * r + k] = c * apk - s * aqk;
                    a[q * r + k] = s * apk + c * aqk;
                }
                for k in 0..r {
                    let (vkp, vkq) = (v[k * r + p], v[k * r + q]);
                    v[k * r + p] = c * vkp - s * vkq;
                    v[k * r + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..r).collect();
    order.sort_by(|&i, &j| a[j * r + j].total_cmp(&a[i * r + i]));
    let values = order.iter().map(|&i| a[i * r + i]).collect();
    let mut vectors = vec![0.0f64; r * r];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..r {
            vectors[k * r + new] = v[k * r + old];
        }
    }
    (values, vectors)
}

/// The three products of the centred frames `X` (T x N) that every pass computes, by
/// one engine: the CPU ([`CpuPasses`], the reference) or the GPU
/// (`crate::gpu::pca::GpuPasses`). The rest of the method (orthonormalization and the
/// small eigen-problem) runs on the CPU in f64 either way.
pub trait PcaPasses {
    type Error: From<OpError>;
    /// Rows of `Y = X Ω` for the `l <= 64` sign columns of `om` (one u64 of sign bits
    /// per sample, bit j set: +1 in column j), and the total squared norm of X.
    fn sketch(
        &self,
        range: FrameRange,
        mean: &[f32],
        om: &[u64],
        l: usize,
        progress: &dyn Progress,
    ) -> Result<(Vec<f64>, f64), Self::Error>;
    /// `Z = Xᵀ Q` (N x r, row per sample) for `Q` (T x r, row per frame).
    fn project_samples(
        &self,
        range: FrameRange,
        mean: &[f32],
        q: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, Self::Error>;
    /// `Y = X Z` (T x r) for `Z` (N x r).
    fn project_frames(
        &self,
        range: FrameRange,
        mean: &[f32],
        z: &[f64],
        r: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<f64>, Self::Error>;
}

/// [`pca`] telling `progress` each pass over the frames and stopping with
/// [`OpError::Cancelled`] soon after it is cancelled.
pub fn pca_watched(
    stack: &Stack,
    k: usize,
    range: FrameRange,
    method: PcaMethod,
    progress: &dyn Progress,
) -> Result<Pca, OpError> {
    pca_with(stack, k, range, method, &CpuPasses(stack), progress)
}

/// [`pca_watched`] with the products over the frames computed by `passes`.
pub fn pca_with<P: PcaPasses>(
    stack: &Stack,
    k: usize,
    range: FrameRange,
    method: PcaMethod,
    passes: &P,
    progress: &dyn Progress,
) -> Result<Pca, P::Error> {
    let sh = stack.shape();
    range.check(sh.frames)?;
    let frames = range.len();
    if k == 0 {
        return Err(OpError::Invalid("PCA: ask for at least one component (k >= 1)".into()).into());
    }
    if frames < 2 || k > frames - 1 {
        return Err(OpError::Invalid(format!(
            "PCA: k = {k} is more than the {} components {frames} frames have (the frames \
             less one, once the mean frame is removed)",
            frames.saturating_sub(1)
        ))
        .into());
    }
    let n = sh.frame_len();
    let (l, power, name) = match method {
        PcaMethod::Exact => (frames, 0, "exact".to_string()),
        PcaMethod::Auto if frames <= EXACT_MAX_FRAMES => (frames, 0, "exact".to_string()),
        PcaMethod::Auto | PcaMethod::Randomized { .. } => {
            let q = match method {
                PcaMethod::Randomized { power_iterations } => power_iterations,
                _ => 2,
            };
            let l = (k + OVERSAMPLE).min(frames);
            (
                l,
                q,
                format!("randomized (sketch of {l}, {q} power iterations)"),
            )
        }
    };
    // the l x N accumulator and its eigen-decomposition in f64
    let need = (n as u64) * (l as u64) * 8;
    let ram = crate::load::available_ram_bytes();
    if ram > 0 && need > ram / 2 {
        return Err(OpError::Invalid(format!(
            "PCA: {l} directions of {n} samples need {} of RAM, more than half the {} \
             available; ask for fewer components, fewer frames (--from/--to) or a smaller \
             frame (--size-ratio, --crop)",
            crate::load::human_bytes(need),
            crate::load::human_bytes(ram)
        ))
        .into());
    }
    // the mean frame, NaN skipped (NaN where every frame is NaN): the reduce's
    let mean = reduce_watched(
        stack,
        ReduceOp::Mean,
        range,
        stack.default_chunk_bytes(),
        progress,
    )?;
    // the sketch: at most 64 sign columns at a time
    let mut y = vec![0.0f64; frames * l];
    let mut total = 0.0;
    let mut done = 0;
    while done < l {
        let cols = (l - done).min(64);
        let om = signs(n, done / 64);
        let (part, t) = passes.sketch(range, &mean.data, &om, cols, progress)?;
        for i in 0..frames {
            y[i * l + done..i * l + done + cols].copy_from_slice(&part[i * cols..(i + 1) * cols]);
        }
        total = t;
        done += cols;
    }
    let (mut q, mut r) = orthonormal(&y, frames, l);
    if r == 0 {
        return Err(OpError::Invalid(
            "PCA: the frames do not vary (each equals the mean frame): there is no component"
                .into(),
        )
        .into());
    }
    for _ in 0..power {
        let z = passes.project_samples(range, &mean.data, &q, r, progress)?;
        let y = passes.project_frames(range, &mean.data, &z, r, progress)?;
        (q, r) = orthonormal(&y, frames, r);
    }
    let z = passes.project_samples(range, &mean.data, &q, r, progress)?;
    // Zᵀ Z = B Bᵀ with B = Qᵀ X
    let mut m = vec![0.0f64; r * r];
    for zs in z.chunks_exact(r) {
        for i in 0..r {
            for j in i..r {
                m[i * r + j] += zs[i] * zs[j];
            }
        }
    }
    for i in 0..r {
        for j in 0..i {
            m[i * r + j] = m[j * r + i];
        }
    }
    let (values, w) = symmetric_eigen(&m, r);
    let kk = k.min(r);
    let mut components = Vec::with_capacity(kk);
    let mut scores = vec![0.0f32; frames * kk];
    let mut variance = Vec::with_capacity(kk);
    for j in 0..kk {
        let sigma = values[j].max(0.0).sqrt();
        // right singular vector: Z w_j / sigma
        let mut v: Vec<f64> = z
            .chunks_exact(r)
            .map(|zs| {
                zs.iter()
                    .zip(0..r)
                    .map(|(a, i)| a * w[i * r + j])
                    .sum::<f64>()
            })
            .collect();
        if sigma > 0.0 {
            v.iter_mut().for_each(|a| *a /= sigma);
        }
        let peak = v
            .iter()
            .copied()
            .fold(0.0f64, |m, a| if a.abs() > m.abs() { a } else { m });
        let sign = if peak < 0.0 { -1.0 } else { 1.0 };
        for t in 0..frames {
            // left singular vector Q w_j, times sigma: the frame's projection
            let u: f64 = (0..r).map(|i| q[t * r + i] * w[i * r + j]).sum();
            scores[t * kk + j] = (sign * u * sigma) as f32;
        }
        components.push(Image {
            height: sh.height,
            width: sh.width,
            channels: sh.channels,
            data: v.iter().map(|a| (sign * a) as f32).collect(),
        });
        variance.push(values[j].max(0.0) / (frames - 1) as f64);
    }
    let total_var = total / (frames - 1) as f64;
    let ratio = variance
        .iter()
        .map(|v| if total_var > 0.0 { v / total_var } else { 0.0 })
        .collect();
    Ok(Pca {
        range,
        mean,
        components,
        scores,
        variance,
        ratio,
        method: name,
    })
}
