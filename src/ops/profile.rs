//! Crosshair line profiles and their envelopes (spec §4.1–4.2). A profile runs along x at
//! row `pos` ([`Orientation::Row`]) or along y at column `pos` ([`Orientation::Col`]);
//! its value at each position is the mean over a band of `2k+1` lines (clamped to the
//! frame), per channel. Envelopes give a low and a high curve per position: min/max for
//! `q = 0`, else the percentiles `q` and `100 - q` with numpy's linear interpolation.
//! NaN samples (float stacks) are skipped everywhere; a position with no value is NaN.
//!
//! Every function works on the frame seen as (lines, positions, channels): a column
//! profile is a row profile of the transposed frame, so one code path serves both.

use std::fmt;
use std::ops::Range;

use ndarray::{ArrayView3, Axis, s};
use rayon::prelude::*;
use serde::Serialize;

use super::{OpError, per_frame_chunk};
use crate::stack::{Sample, Shape, Stack, StackView};

/// Which way a profile runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// Along x at a fixed row (the H plot).
    Row,
    /// Along y at a fixed column (the V plot).
    Col,
}

impl Orientation {
    /// Positions along the profile: the width for a row, the height for a column.
    pub fn positions(self, shape: Shape) -> usize {
        match self {
            Orientation::Row => shape.width,
            Orientation::Col => shape.height,
        }
    }

    /// Lines across the profile (the range of `pos`): the height for a row, the width
    /// for a column.
    pub fn lines(self, shape: Shape) -> usize {
        match self {
            Orientation::Row => shape.height,
            Orientation::Col => shape.width,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Orientation::Row => "row",
            Orientation::Col => "column",
        }
    }
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A line profile: per position, per channel, the band mean.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub channels: usize,
    /// Position-major, channel fastest.
    pub values: Vec<f32>,
}

impl Profile {
    /// Number of positions.
    pub fn len(&self) -> usize {
        self.values.len() / self.channels.max(1)
    }

    /// True when the profile has no position.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Value at position `p`, channel `c`.
    pub fn get(&self, p: usize, c: usize) -> f32 {
        self.values[p * self.channels + c]
    }
}

/// Low and high envelope curves, one value per position (channels together).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Envelope {
    pub lo: Vec<f32>,
    pub hi: Vec<f32>,
}

/// The lines of a band of half-width `width` around `pos`, clamped to `0..lines`.
pub fn band(pos: usize, width: usize, lines: usize) -> Range<usize> {
    pos.saturating_sub(width)..pos.saturating_add(width).saturating_add(1).min(lines)
}

/// Largest envelope percentile; `q` and `100 - q` must not cross.
pub const MAX_PERCENTILE: u32 = 49;

fn invalid(msg: String) -> OpError {
    OpError::Invalid(msg)
}

fn check_frame(stack: &Stack, frame: usize) -> Result<(), OpError> {
    let t = stack.shape().frames;
    if frame >= t {
        return Err(invalid(if t == 0 {
            format!("frame {frame}: the stack has no frames")
        } else {
            format!(
                "frame {frame} is outside the stack's {t} frames (0..={})",
                t - 1
            )
        }));
    }
    Ok(())
}

fn check_pos(stack: &Stack, orient: Orientation, pos: usize) -> Result<(), OpError> {
    let n = orient.lines(stack.shape());
    if pos >= n {
        let (what, many) = match orient {
            Orientation::Row => ("row", "rows"),
            Orientation::Col => ("column", "columns"),
        };
        return Err(invalid(if n == 0 {
            format!("{what} {pos}: the frame has no {many}")
        } else {
            format!(
                "{what} {pos} is outside the frame's {n} {many} (0..={})",
                n - 1
            )
        }));
    }
    Ok(())
}

/// An error unless `q` is an envelope percentile (0..=[`MAX_PERCENTILE`]).
pub fn check_percentile(q: u32) -> Result<(), OpError> {
    if q > MAX_PERCENTILE {
        return Err(invalid(format!(
            "envelope percentile {q} is outside 0..={MAX_PERCENTILE}"
        )));
    }
    Ok(())
}

/// Runs `$body` with `$v` bound to the stack's typed (T, H, W, C) view.
macro_rules! with_view {
    ($stack:expr, |$v:ident| $body:expr) => {
        match $stack.view() {
            StackView::U8($v) => $body,
            StackView::U16($v) => $body,
            StackView::F32($v) => $body,
        }
    };
}

/// Frame `t` as (lines, positions, channels) for `orient`.
fn oriented<'b, T>(
    v: &'b ndarray::ArrayView4<'_, T>,
    t: usize,
    orient: Orientation,
) -> ArrayView3<'b, T> {
    let f = v.index_axis(Axis(0), t);
    match orient {
        Orientation::Row => f,
        Orientation::Col => f.permuted_axes([1, 0, 2]),
    }
}

/// Positions per rayon task: a task's lines stay in cache.
const CHUNK: usize = 64;

/// Band mean of lines `band` of one oriented frame into `out` (positions x channels).
fn band_mean<T: Sample>(f: ArrayView3<'_, T>, band: Range<usize>, out: &mut [f32]) {
    let mut sum = vec![0f64; out.len()];
    let mut count = vec![0u32; out.len()];
    for l in band {
        let line = f.index_axis(Axis(0), l);
        for ((s, n), &x) in sum.iter_mut().zip(count.iter_mut()).zip(line.iter()) {
            let x = x.to_f32();
            if !x.is_nan() {
                *s += x as f64;
                *n += 1;
            }
        }
    }
    for ((o, s), n) in out.iter_mut().zip(sum).zip(count) {
        *o = if n == 0 {
            f32::NAN
        } else {
            (s / n as f64) as f32
        };
    }
}

/// [`band_mean`] split over position chunks in parallel.
fn band_mean_par<T: Sample>(f: ArrayView3<'_, T>, band: Range<usize>, out: &mut [f32]) {
    let c = f.len_of(Axis(2)).max(1);
    out.par_chunks_mut(CHUNK * c)
        .enumerate()
        .for_each(|(i, dst)| {
            let p0 = i * CHUNK;
            let sub = f.slice(s![.., p0..p0 + dst.len() / c, ..]);
            band_mean(sub, band.clone(), dst);
        });
}

/// Per position: envelope over lines `band` and all channels of one oriented frame.
fn spread<T: Sample>(f: ArrayView3<'_, T>, band: Range<usize>, q: u32) -> Envelope {
    let n = f.len_of(Axis(1));
    let mut lo = vec![f32::NAN; n];
    let mut hi = vec![f32::NAN; n];
    lo.par_chunks_mut(CHUNK)
        .zip(hi.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(i, (lo, hi))| {
            let p0 = i * CHUNK;
            let sub = f.slice(s![band.clone(), p0..p0 + lo.len(), ..]);
            if q == 0 {
                lo.fill(f32::INFINITY);
                hi.fill(f32::NEG_INFINITY);
                for line in sub.outer_iter() {
                    for ((l, h), px) in lo.iter_mut().zip(hi.iter_mut()).zip(line.outer_iter()) {
                        for &x in px {
                            // f32::min/max return the other argument for NaN: NaN skipped
                            *l = l.min(x.to_f32());
                            *h = h.max(x.to_f32());
                        }
                    }
                }
                finish_min_max(lo, hi);
            } else {
                let mut vals: Vec<Vec<f32>> = vec![Vec::new(); lo.len()];
                for line in sub.outer_iter() {
                    for (v, px) in vals.iter_mut().zip(line.outer_iter()) {
                        v.extend(px.iter().map(|x| x.to_f32()).filter(|x| !x.is_nan()));
                    }
                }
                for ((l, h), v) in lo.iter_mut().zip(hi.iter_mut()).zip(&mut vals) {
                    (*l, *h) = percentile_pair(v, q);
                }
            }
        });
    Envelope { lo, hi }
}

/// Positions that saw no value (lo > hi after folding from +inf/-inf) become NaN.
fn finish_min_max(lo: &mut [f32], hi: &mut [f32]) {
    for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
        if *l > *h {
            *l = f32::NAN;
            *h = f32::NAN;
        }
    }
}

/// Percentiles `q` and `100 - q` of `v` (reordered); NaN for an empty slice.
fn percentile_pair(v: &mut [f32], q: u32) -> (f32, f32) {
    (percentile(v, q as f64), percentile(v, 100.0 - q as f64))
}

/// The `p`-th percentile (0..=100) of `v` with linear interpolation between the two
/// closest ranks, as numpy's default method; reorders `v`; NaN when `v` is empty.
/// `v` must hold no NaN.
pub fn percentile(v: &mut [f32], p: f64) -> f32 {
    let n = v.len();
    if n == 0 {
        return f32::NAN;
    }
    // the same arithmetic as numpy: virtual index = (p / 100) * (n - 1)
    let rank = (p / 100.0) * (n - 1) as f64;
    let k = (rank.floor().max(0.0) as usize).min(n - 1);
    let t = rank - k as f64;
    let (_, &mut a, upper) = v.select_nth_unstable_by(k, f32::total_cmp);
    if t == 0.0 || upper.is_empty() {
        return a;
    }
    let b = upper.iter().copied().fold(f32::INFINITY, f32::min);
    if a == b {
        return a;
    }
    let (a, b) = (a as f64, b as f64);
    // numpy's _lerp: from the nearer end, so t = 1 gives b exactly
    let r = if t < 0.5 {
        a + (b - a) * t
    } else {
        b - (b - a) * (1.0 - t)
    };
    r as f32
}

/// The profile of frame `frame` along `orient` at line `pos`, mean over the band of
/// half-width `width`, per channel.
pub fn profile(
    stack: &Stack,
    frame: usize,
    orient: Orientation,
    pos: usize,
    width: usize,
) -> Result<Profile, OpError> {
    check_frame(stack, frame)?;
    check_pos(stack, orient, pos)?;
    let sh = stack.shape();
    let b = band(pos, width, orient.lines(sh));
    let mut values = vec![0f32; orient.positions(sh) * sh.channels];
    with_view!(stack, |v| band_mean_par(
        oriented(&v, frame, orient),
        b,
        &mut values
    ));
    Ok(Profile {
        channels: sh.channels,
        values,
    })
}

/// Min/max per image: at each position, the envelope over the whole orthogonal axis of
/// frame `frame`, channels together (ignores the crosshair).
pub fn image_envelope(
    stack: &Stack,
    frame: usize,
    orient: Orientation,
    q: u32,
) -> Result<Envelope, OpError> {
    check_frame(stack, frame)?;
    check_percentile(q)?;
    let lines = orient.lines(stack.shape());
    Ok(with_view!(stack, |v| spread(
        oriented(&v, frame, orient),
        0..lines,
        q
    )))
}

/// Per crosshair: at each position, the envelope over the band pixels of frame `frame`,
/// channels together.
pub fn band_envelope(
    stack: &Stack,
    frame: usize,
    orient: Orientation,
    pos: usize,
    width: usize,
    q: u32,
) -> Result<Envelope, OpError> {
    check_frame(stack, frame)?;
    check_pos(stack, orient, pos)?;
    check_percentile(q)?;
    let b = band(pos, width, orient.lines(stack.shape()));
    Ok(with_view!(stack, |v| spread(
        oriented(&v, frame, orient),
        b,
        q
    )))
}

/// Per position over the dataset: for `q = 0` min/max over all raw band pixels of all
/// frames (channels together); for `q > 0` the percentiles over frames of the band-mean
/// profile, per channel, then averaged over channels.
pub fn dataset_envelope(
    stack: &Stack,
    orient: Orientation,
    pos: usize,
    width: usize,
    q: u32,
) -> Result<Envelope, OpError> {
    dataset_envelope_chunked(stack, orient, pos, width, q, stack.default_chunk_bytes())
}

/// [`dataset_envelope`] reading the frames in order, about `chunk_bytes` of them at a
/// time (at least one frame per thread), the frames of a chunk in parallel.
pub fn dataset_envelope_chunked(
    stack: &Stack,
    orient: Orientation,
    pos: usize,
    width: usize,
    q: u32,
    chunk_bytes: usize,
) -> Result<Envelope, OpError> {
    if stack.shape().frames == 0 {
        return Err(invalid("the stack has no frames".into()));
    }
    check_pos(stack, orient, pos)?;
    check_percentile(q)?;
    let b = band(pos, width, orient.lines(stack.shape()));
    let chunk_bytes = per_frame_chunk(stack, chunk_bytes);
    Ok(with_view!(stack, |v| dataset_spread(
        stack,
        &v,
        (orient, b, q),
        chunk_bytes
    )))
}

fn dataset_spread<T: Sample>(
    stack: &Stack,
    v: &ndarray::ArrayView4<'_, T>,
    (orient, band, q): (Orientation, Range<usize>, u32),
    chunk_bytes: usize,
) -> Envelope {
    let (frames, c) = (v.len_of(Axis(0)), v.len_of(Axis(3)));
    let n = orient.positions(Shape::new(frames, v.len_of(Axis(1)), v.len_of(Axis(2)), c));
    if q == 0 {
        // the frames of a chunk fold in parallel into per-task (lo, hi), merged pairwise
        // and into the running (lo, hi): min and max do not mind the order
        let fresh = || (vec![f32::INFINITY; n], vec![f32::NEG_INFINITY; n]);
        type MinMax = (Vec<f32>, Vec<f32>);
        let merge = |(mut lo, mut hi): MinMax, (lo2, hi2): MinMax| {
            lo.iter_mut().zip(&lo2).for_each(|(a, &b)| *a = a.min(b));
            hi.iter_mut().zip(&hi2).for_each(|(a, &b)| *a = a.max(b));
            (lo, hi)
        };
        let mut acc = fresh();
        let _ = stack.for_each_chunk(0..frames, chunk_bytes, |ts| {
            let part = ts
                .into_par_iter()
                .fold(fresh, |(mut lo, mut hi), t| {
                    let f = oriented(v, t, orient);
                    for line in f.slice(s![band.clone(), .., ..]).outer_iter() {
                        for ((l, h), px) in lo.iter_mut().zip(hi.iter_mut()).zip(line.outer_iter())
                        {
                            for &x in px {
                                *l = l.min(x.to_f32());
                                *h = h.max(x.to_f32());
                            }
                        }
                    }
                    (lo, hi)
                })
                .reduce(fresh, merge);
            acc = merge(std::mem::take(&mut acc), part);
            Ok::<(), ()>(())
        });
        let (mut lo, mut hi) = acc;
        finish_min_max(&mut lo, &mut hi);
        return Envelope { lo, hi };
    }
    // the band-mean profile of every frame (T x positions x C: a small fraction of the
    // stack), then percentiles over frames per position and channel
    let row = n * c;
    let mut means = vec![0f32; frames * row];
    let _ = stack.for_each_chunk(0..frames, chunk_bytes, |ts| {
        means[ts.start * row..ts.end * row]
            .par_chunks_mut(row.max(1))
            .zip(ts.into_par_iter())
            .for_each(|(out, t)| band_mean(oriented(v, t, orient), band.clone(), out));
        Ok::<(), ()>(())
    });
    let mut lo = vec![f32::NAN; n];
    let mut hi = vec![f32::NAN; n];
    lo.par_iter_mut()
        .zip(hi.par_iter_mut())
        .enumerate()
        .for_each_init(Vec::new, |col, (p, (lo, hi))| {
            let (mut sl, mut sh, mut k) = (0f64, 0f64, 0u32);
            for ch in 0..c {
                col.clear();
                col.extend(
                    (0..frames)
                        .map(|t| means[t * row + p * c + ch])
                        .filter(|x| !x.is_nan()),
                );
                if col.is_empty() {
                    continue;
                }
                let (a, b) = percentile_pair(col, q);
                sl += a as f64;
                sh += b as f64;
                k += 1;
            }
            if k > 0 {
                *lo = (sl / k as f64) as f32;
                *hi = (sh / k as f64) as f32;
            }
        });
    Envelope { lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One frame of 3 x 4, gray u8: value = 10 y + x.
    ///
    /// ```text
    ///  0  1  2  3
    /// 10 11 12 13
    /// 20 21 22 23
    /// ```
    fn grid() -> Stack {
        let v: Vec<u8> = (0..3)
            .flat_map(|y| (0..4).map(move |x| (10 * y + x) as u8))
            .collect();
        Stack::from_vec(Shape::new(1, 3, 4, 1), v).unwrap()
    }

    #[test]
    fn row_and_column_profiles_average_the_band() {
        let s = grid();
        // row 1, width 0: the row itself
        let p = profile(&s, 0, Orientation::Row, 1, 0).unwrap();
        assert_eq!(p.values, vec![10.0, 11.0, 12.0, 13.0]);
        // row 0, width 1: band rows 0..2 -> (0+10)/2 = 5, 6, 7, 8
        let p = profile(&s, 0, Orientation::Row, 0, 1).unwrap();
        assert_eq!(p.values, vec![5.0, 6.0, 7.0, 8.0]);
        // column 3, width 1: band columns 2..4 -> (2+3)/2 = 2.5, 12.5, 22.5
        let p = profile(&s, 0, Orientation::Col, 3, 1).unwrap();
        assert_eq!(p.values, vec![2.5, 12.5, 22.5]);
        // a huge width clamps to the whole frame: column means 10, 11, 12, 13
        let p = profile(&s, 0, Orientation::Row, 2, usize::MAX).unwrap();
        assert_eq!(p.values, vec![10.0, 11.0, 12.0, 13.0]);
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn rgb_profile_is_per_channel_and_skips_nan() {
        // 1 frame, 2 rows x 1 column, RGB f32:
        // row 0: (1, NaN, NaN), row 1: (3, 4, NaN)
        let s = Stack::from_vec(
            Shape::new(1, 2, 1, 3),
            vec![1.0, f32::NAN, f32::NAN, 3.0, 4.0, f32::NAN],
        )
        .unwrap();
        let p = profile(&s, 0, Orientation::Row, 0, 1).unwrap();
        // R: (1+3)/2 = 2; G: 4 (NaN skipped); B: all NaN -> NaN
        assert_eq!(p.channels, 3);
        assert_eq!(p.get(0, 0), 2.0);
        assert_eq!(p.get(0, 1), 4.0);
        assert!(p.get(0, 2).is_nan());
    }

    #[test]
    fn image_and_band_envelopes() {
        let s = grid();
        // per image along a row: each column's min/max over all rows: x, 20 + x
        let e = image_envelope(&s, 0, Orientation::Row, 0).unwrap();
        assert_eq!(e.lo, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(e.hi, vec![20.0, 21.0, 22.0, 23.0]);
        // q = 25 over a column's three values [x, 10+x, 20+x]: rank 0.25 * 2 = 0.5
        // -> x + 5; q = 75: rank 1.5 -> 15 + x
        let e = image_envelope(&s, 0, Orientation::Row, 25).unwrap();
        assert_eq!(e.lo, vec![5.0, 6.0, 7.0, 8.0]);
        assert_eq!(e.hi, vec![15.0, 16.0, 17.0, 18.0]);
        // per crosshair, column 1 width 1 (columns 0..3): rows' min/max 10y, 10y + 2
        let e = band_envelope(&s, 0, Orientation::Col, 1, 1, 0).unwrap();
        assert_eq!(e.lo, vec![0.0, 10.0, 20.0]);
        assert_eq!(e.hi, vec![2.0, 12.0, 22.0]);
    }

    #[test]
    fn dataset_envelope_raw_pixels_at_zero_band_means_above() {
        // 3 frames of 2 rows x 1 column, gray f32; profile along the row at row 0 width 1
        // frame 0: [0, 4]   band mean 2
        // frame 1: [1, 9]   band mean 5
        // frame 2: [NaN, 2] band mean 2
        let s = Stack::from_vec(
            Shape::new(3, 2, 1, 1),
            vec![0.0, 4.0, 1.0, 9.0, f32::NAN, 2.0],
        )
        .unwrap();
        let e = dataset_envelope(&s, Orientation::Row, 0, 1, 0).unwrap();
        // raw pixels 0, 4, 1, 9, 2 -> 0 and 9
        assert_eq!((e.lo[0], e.hi[0]), (0.0, 9.0));
        // means sorted [2, 2, 5]; q = 25: rank 0.5 -> 2; q = 75: rank 1.5 -> 3.5
        let e = dataset_envelope(&s, Orientation::Row, 0, 1, 25).unwrap();
        assert_eq!((e.lo[0], e.hi[0]), (2.0, 3.5));
    }

    #[test]
    fn dataset_percentiles_average_channels() {
        // 2 frames of 1 x 1 RGB u16: (0, 10, 100) and (2, 30, 100); q = 10:
        // R: [0, 2] rank 0.1 -> 0.2, rank 0.9 -> 1.8; G: 12, 28; B: 100, 100
        // lo = (0.2 + 12 + 100) / 3 = 37.4, hi = (1.8 + 28 + 100) / 3 = 43.2667
        let s = Stack::from_vec(Shape::new(2, 1, 1, 3), vec![0u16, 10, 100, 2, 30, 100]).unwrap();
        let e = dataset_envelope(&s, Orientation::Col, 0, 0, 10).unwrap();
        assert!((e.lo[0] - 37.4).abs() < 1e-4, "{}", e.lo[0]);
        assert!((e.hi[0] - 129.8 / 3.0).abs() < 1e-4, "{}", e.hi[0]);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], 10) = 1.3; 90 -> 3.7; 50 -> 2.5
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert!((percentile(&mut v, 10.0) - 1.3).abs() < 1e-6);
        assert!((percentile(&mut v, 90.0) - 3.7).abs() < 1e-6);
        assert_eq!(percentile(&mut v, 50.0), 2.5);
        assert_eq!(percentile(&mut v, 0.0), 1.0);
        assert_eq!(percentile(&mut v, 100.0), 4.0);
        assert!(percentile(&mut [], 10.0).is_nan());
    }

    #[test]
    fn all_nan_positions_are_nan() {
        let s =
            Stack::from_vec(Shape::new(2, 1, 2, 1), vec![f32::NAN, 1.0, f32::NAN, 2.0]).unwrap();
        for q in [0, 10] {
            let e = dataset_envelope(&s, Orientation::Row, 0, 0, q).unwrap();
            assert!(e.lo[0].is_nan() && e.hi[0].is_nan());
            let e = image_envelope(&s, 1, Orientation::Row, q).unwrap();
            assert!(e.lo[0].is_nan() && e.hi[0].is_nan());
            assert_eq!((e.lo[1], e.hi[1]), (2.0, 2.0));
        }
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        let s = grid();
        let msg = |r: Result<Profile, OpError>| r.unwrap_err().to_string();
        assert_eq!(
            msg(profile(&s, 0, Orientation::Row, 3, 0)),
            "row 3 is outside the frame's 3 rows (0..=2)"
        );
        assert_eq!(
            msg(profile(&s, 0, Orientation::Col, 4, 0)),
            "column 4 is outside the frame's 4 columns (0..=3)"
        );
        assert_eq!(
            msg(profile(&s, 1, Orientation::Row, 0, 0)),
            "frame 1 is outside the stack's 1 frames (0..=0)"
        );
        let e = dataset_envelope(&s, Orientation::Row, 0, 0, 50).unwrap_err();
        assert_eq!(e.to_string(), "envelope percentile 50 is outside 0..=49");
        assert!(image_envelope(&s, 0, Orientation::Row, 50).is_err());
        assert!(band_envelope(&s, 0, Orientation::Row, 9, 0, 0).is_err());
    }
}
