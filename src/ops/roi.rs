//! ROI time series (spec §4.3): per frame and channel, the mean or median over the pixels
//! of a rectangle or polygon, with min and max; NaN samples are skipped.
//!
//! A polygon counts only the pixels whose centre `(x + 0.5, y + 0.5)` lies inside it by
//! the even-odd rule (design.md; BLITZ also counted the outside pixels of the bounding box
//! as zeros). Either shape becomes a list of row spans once; every frame then reads the
//! same spans, frames in order chunk by chunk, one rayon task per frame of a chunk.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::Serialize;

use super::profile::percentile;
use super::{FrameRange, OpError, per_frame_chunk};
use crate::load::{NoProgress, Progress};
use crate::stack::{Sample, Samples, Stack};

mod ellipse;
mod parse;
pub mod set;
pub mod table;

/// A region of interest in pixel coordinates (x to the right, y down).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Roi {
    /// Columns `x..x+w`, rows `y..y+h`, clamped to the frame.
    Rect { x: i64, y: i64, w: usize, h: usize },
    /// Vertices `(x, y)`; a pixel counts when its centre is inside (even-odd rule).
    Polygon(Vec<(f32, f32)>),
    /// Centre, radii along its own axes, and the angle of its x axis in degrees
    /// (clockwise on screen, y down); a pixel counts when its centre is inside.
    Ellipse {
        cx: f32,
        cy: f32,
        rx: f32,
        ry: f32,
        angle: f32,
    },
}

/// The pixels `x0..x1` of row `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub y: usize,
    pub x0: usize,
    pub x1: usize,
}

/// What each frame's ROI pixels reduce to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    Mean,
    Median,
}

impl Stat {
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Median => "median",
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "mean" => Ok(Stat::Mean),
            "median" => Ok(Stat::Median),
            _ => Err(format!("unknown ROI statistic '{s}' (mean, median)")),
        }
    }
}

/// Per frame and channel: the statistic, min and max over the ROI's pixels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoiSeries {
    pub channels: usize,
    /// Frame index of each row.
    pub frames: Vec<usize>,
    /// Frame-major, channel fastest (as `min` and `max`).
    pub value: Vec<f32>,
    pub min: Vec<f32>,
    pub max: Vec<f32>,
    /// Pixels in the ROI (per frame and channel, before NaN is skipped).
    pub pixels: usize,
}

impl RoiSeries {
    /// Index into `value`/`min`/`max` of row `i`, channel `c`.
    pub fn at(&self, i: usize, c: usize) -> usize {
        i * self.channels + c
    }
}

fn invalid(msg: String) -> OpError {
    OpError::Invalid(msg)
}

/// Whether `(px, py)` lies inside `poly` by the even-odd rule: a horizontal ray to the
/// right crosses an odd number of edges (edges half-open in y, so a vertex on the ray
/// counts once).
pub fn inside(poly: &[(f32, f32)], px: f64, py: f64) -> bool {
    let mut odd = false;
    let mut j = poly.len().wrapping_sub(1);
    for (i, &(xi, yi)) in poly.iter().enumerate() {
        let (xj, yj) = poly[j];
        if let Some(x) = crossing((xi, yi), (xj, yj), py)
            && px < x
        {
            odd = !odd;
        }
        j = i;
    }
    odd
}

/// Where edge a-b crosses the line `y = py`, if it does (half-open in y).
fn crossing(a: (f32, f32), b: (f32, f32), py: f64) -> Option<f64> {
    let (xa, ya, xb, yb) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
    ((ya > py) != (yb > py)).then(|| xa + (xb - xa) * (py - ya) / (yb - ya))
}

impl Roi {
    /// The ROI's pixels in a frame of `height` x `width`, as row spans; an error when the
    /// ROI is malformed or holds no pixel of the frame.
    pub fn spans(&self, height: usize, width: usize) -> Result<Vec<Span>, OpError> {
        let spans = match self {
            Roi::Rect { x, y, w, h } => {
                let clamp = |a: i64, len: usize, size: usize| {
                    let a = a as i128;
                    let lo = a.clamp(0, size as i128) as usize;
                    let hi = (a + len as i128).clamp(0, size as i128) as usize;
                    lo..hi.max(lo)
                };
                let (xs, ys) = (clamp(*x, *w, width), clamp(*y, *h, height));
                if xs.is_empty() || ys.is_empty() {
                    return Err(invalid(format!(
                        "rectangle x {x}, y {y}, w {w}, h {h} holds no pixel of the \
                         {width} x {height} frame"
                    )));
                }
                ys.map(|y| Span {
                    y,
                    x0: xs.start,
                    x1: xs.end,
                })
                .collect()
            }
            Roi::Polygon(v) => polygon_spans(v, height, width)?,
            Roi::Ellipse {
                cx,
                cy,
                rx,
                ry,
                angle,
            } => ellipse::spans((*cx, *cy), (*rx, *ry), *angle, height, width)?,
        };
        Ok(spans)
    }

    /// The outline to draw, in pixel coordinates: the rectangle's corners, the polygon's
    /// vertices, 72 points of the ellipse (closed by joining the last to the first).
    pub fn outline(&self) -> Vec<(f32, f32)> {
        match self {
            Roi::Rect { x, y, w, h } => {
                let (x0, y0) = (*x as f32, *y as f32);
                let (x1, y1) = (x0 + *w as f32, y0 + *h as f32);
                vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            }
            Roi::Polygon(v) => v.clone(),
            Roi::Ellipse {
                cx,
                cy,
                rx,
                ry,
                angle,
            } => ellipse::outline((*cx, *cy), (*rx, *ry), *angle, 72),
        }
    }

    /// Number of pixels of the ROI in a frame of `height` x `width`.
    pub fn pixel_count(&self, height: usize, width: usize) -> Result<usize, OpError> {
        Ok(area(&self.spans(height, width)?))
    }
}

/// Scanline fill at pixel centres: per row, the sorted edge crossings; a centre is
/// inside when an odd number of crossings lies strictly to its right — the same test as
/// [`inside`], with the same arithmetic, row by row.
fn polygon_spans(v: &[(f32, f32)], height: usize, width: usize) -> Result<Vec<Span>, OpError> {
    if v.len() < 3 {
        return Err(invalid(format!(
            "a polygon needs at least 3 vertices, got {}",
            v.len()
        )));
    }
    if let Some(p) = v.iter().find(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(invalid(format!("polygon vertex {p:?} is not finite")));
    }
    let (ymin, ymax) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1 as f64), b.max(p.1 as f64))
        });
    // rows whose centre y + 0.5 can lie in [ymin, ymax), one more each side against
    // rounding (a row without crossings adds nothing)
    let y0 = ((ymin - 0.5).floor() - 1.0).clamp(0.0, height as f64) as usize;
    let y1 = (((ymax - 0.5).ceil() + 1.0).clamp(0.0, height as f64) as usize).max(y0);
    let mut spans = Vec::new();
    let mut xs: Vec<f64> = Vec::new();
    for y in y0..y1 {
        let py = y as f64 + 0.5;
        xs.clear();
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            xs.extend(crossing(v[i], v[j], py));
            j = i;
        }
        xs.sort_by(f64::total_cmp);
        // pairs (xs[2k], xs[2k+1]): centres px with xs[2k] <= px < xs[2k+1] have an odd
        // count of crossings strictly to the right
        for pair in xs.chunks_exact(2) {
            let (x0, x1) = (
                first_at_or_after(pair[0], width),
                first_at_or_after(pair[1], width),
            );
            if x1 > x0 {
                spans.push(Span { y, x0, x1 });
            }
        }
    }
    if spans.is_empty() {
        return Err(invalid(format!(
            "the polygon holds no pixel centre of the {width} x {height} frame"
        )));
    }
    Ok(spans)
}

/// The first pixel (0..=width) whose centre `x + 0.5` is `>= a`, decided by the same
/// comparison as [`inside`] so that rounding cannot move a boundary pixel.
fn first_at_or_after(a: f64, width: usize) -> usize {
    let mut x = (a - 0.5).ceil().clamp(0.0, width as f64) as usize;
    while x > 0 && (x - 1) as f64 + 0.5 >= a {
        x -= 1;
    }
    while x < width && (x as f64 + 0.5) < a {
        x += 1;
    }
    x
}

/// The ROI time series of `stack` over frames `range`: per frame and channel, `stat`,
/// min and max over the ROI's pixels (NaN skipped; NaN when no value is left).
pub fn roi_series(
    stack: &Stack,
    roi: &Roi,
    stat: Stat,
    range: FrameRange,
) -> Result<RoiSeries, OpError> {
    roi_series_chunked(stack, roi, stat, range, stack.default_chunk_bytes())
}

/// [`roi_series`] reading the frames in order, about `chunk_bytes` of them at a time
/// (at least one frame per thread), one rayon task per frame inside a chunk.
pub fn roi_series_chunked(
    stack: &Stack,
    roi: &Roi,
    stat: Stat,
    range: FrameRange,
    chunk_bytes: usize,
) -> Result<RoiSeries, OpError> {
    roi_series_watched(stack, roi, stat, range, chunk_bytes, &NoProgress)
}

/// [`roi_series_chunked`] telling `progress` the frames done, chunk by chunk, and
/// stopping with [`OpError::Cancelled`] between chunks once it is cancelled.
pub fn roi_series_watched(
    stack: &Stack,
    roi: &Roi,
    stat: Stat,
    range: FrameRange,
    chunk_bytes: usize,
    progress: &dyn Progress,
) -> Result<RoiSeries, OpError> {
    let sh = stack.shape();
    range.check(sh.frames)?;
    let spans = roi.spans(sh.height, sh.width)?;
    let pixels = area(&spans);
    let c = sh.channels;
    let frames: Vec<usize> = (range.first..=range.last).collect();
    let mut value = vec![0f32; frames.len() * c];
    let mut min = vec![0f32; frames.len() * c];
    let mut max = vec![0f32; frames.len() * c];
    let chunk_bytes = per_frame_chunk(stack, chunk_bytes);
    let all = range.first..range.last + 1;
    progress.start("roi", frames.len() as u64);
    stack.for_each_chunk(all, chunk_bytes, |ts| {
        if progress.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        let n = ts.len() as u64;
        let rows = ts.start - range.first..ts.end - range.first;
        let at = rows.start * c..rows.end * c;
        value[at.clone()]
            .par_chunks_mut(c)
            .zip(min[at.clone()].par_chunks_mut(c))
            .zip(max[at].par_chunks_mut(c))
            .zip(ts.into_par_iter())
            .for_each_init(
                || vec![Vec::new(); c],
                |bufs, (((v, lo), hi), t)| {
                    let at = (spans.as_slice(), sh.width);
                    frame_stats(stack.frame(t), at, stat, bufs, (v, lo, hi))
                },
            );
        progress.advance(n);
        Ok(())
    })?;
    Ok(RoiSeries {
        channels: c,
        frames,
        value,
        min,
        max,
        pixels,
    })
}

/// The point at offset (u, v) from `centre` turned by `angle` degrees about it
/// (clockwise on screen, y pointing down): the one rotation of turned rectangles,
/// polygons and ellipse outlines.
pub(crate) fn turn_about(centre: (f32, f32), angle: f32) -> impl Fn(f32, f32) -> (f32, f32) {
    let (s, c) = angle.to_radians().sin_cos();
    move |u, v| (centre.0 + u * c - v * s, centre.1 + u * s + v * c)
}

/// Pixels in `spans`.
pub fn area(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.x1 - s.x0).sum()
}

/// The NaN-skipping moments of a ROI's pixels in one frame, per channel (the first
/// `channels` entries; a stack has 1 or 3).
pub(crate) struct Moments {
    pub n: [usize; 3],
    pub sum: [f64; 3],
    pub sq: [f64; 3],
    pub lo: [f32; 3],
    pub hi: [f32; 3],
}

/// The moments of the pixels `spans` of frame `f` (`width` pixels a row), and each
/// channel's values pushed into `values` when given (for a median): one pass over the
/// ROI's pixels, all channels at a time, so an RGB frame is read once.
pub(crate) fn frame_moments(
    f: Samples<'_>,
    channels: usize,
    spans: &[Span],
    width: usize,
    values: Option<&mut [Vec<f32>]>,
) -> Moments {
    fn go<T: Sample, const C: usize>(
        f: &[T],
        spans: &[Span],
        width: usize,
        mut values: Option<&mut [Vec<f32>]>,
    ) -> Moments {
        let mut m = Moments {
            n: [0; 3],
            sum: [0.0; 3],
            sq: [0.0; 3],
            lo: [f32::INFINITY; 3],
            hi: [f32::NEG_INFINITY; 3],
        };
        for s in spans {
            let row = s.y * width * C;
            for px in f[row + s.x0 * C..row + s.x1 * C].chunks_exact(C) {
                for ch in 0..C {
                    let x = px[ch].to_f32();
                    if x.is_nan() {
                        continue;
                    }
                    m.sum[ch] += x as f64;
                    m.sq[ch] += x as f64 * x as f64;
                    m.n[ch] += 1;
                    m.lo[ch] = m.lo[ch].min(x);
                    m.hi[ch] = m.hi[ch].max(x);
                    if let Some(v) = values.as_deref_mut() {
                        v[ch].push(x);
                    }
                }
            }
        }
        m
    }
    match (f, channels) {
        (Samples::U8(f), 1) => go::<_, 1>(f, spans, width, values),
        (Samples::U8(f), _) => go::<_, 3>(f, spans, width, values),
        (Samples::U16(f), 1) => go::<_, 1>(f, spans, width, values),
        (Samples::U16(f), _) => go::<_, 3>(f, spans, width, values),
        (Samples::F32(f), 1) => go::<_, 1>(f, spans, width, values),
        (Samples::F32(f), _) => go::<_, 3>(f, spans, width, values),
    }
}

/// Statistics of one frame into `v`, `lo`, `hi` (one value per channel).
fn frame_stats(
    f: Samples<'_>,
    (spans, width): (&[Span], usize),
    stat: Stat,
    bufs: &mut [Vec<f32>],
    out: (&mut [f32], &mut [f32], &mut [f32]),
) {
    let (v, lo, hi) = out;
    let c = v.len();
    bufs.iter_mut().for_each(Vec::clear);
    let values = (stat == Stat::Median).then_some(&mut *bufs);
    let m = frame_moments(f, c, spans, width, values);
    for ch in 0..c {
        if m.n[ch] == 0 {
            (v[ch], lo[ch], hi[ch]) = (f32::NAN, f32::NAN, f32::NAN);
            continue;
        }
        v[ch] = match stat {
            Stat::Mean => (m.sum[ch] / m.n[ch] as f64) as f32,
            Stat::Median => percentile(&mut bufs[ch], 50.0),
        };
        (lo[ch], hi[ch]) = (m.lo[ch], m.hi[ch]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Shape;

    /// 2 frames of 3 x 4 gray u8: value = 10 y + x + 100 t.
    fn grid() -> Stack {
        let v: Vec<u8> = (0..2)
            .flat_map(|t| {
                (0..3).flat_map(move |y| (0..4).map(move |x| (100 * t + 10 * y + x) as u8))
            })
            .collect();
        Stack::from_vec(Shape::new(2, 3, 4, 1), v).unwrap()
    }

    #[test]
    fn rectangle_mean_median_min_max() {
        let s = grid();
        // columns 1..3, rows 0..2 of frame 0: 1, 2, 11, 12 -> mean 6.5, median 6.5
        let roi = Roi::Rect {
            x: 1,
            y: 0,
            w: 2,
            h: 2,
        };
        let r = roi_series(&s, &roi, Stat::Mean, FrameRange::all(2)).unwrap();
        assert_eq!(r.frames, vec![0, 1]);
        assert_eq!(r.value, vec![6.5, 106.5]);
        assert_eq!(r.min, vec![1.0, 101.0]);
        assert_eq!(r.max, vec![12.0, 112.0]);
        assert_eq!(r.pixels, 4);
        // a range of frame 1 only
        let r = roi_series(&s, &roi, Stat::Median, FrameRange::new(1, 1)).unwrap();
        assert_eq!((r.frames.clone(), r.value.clone()), (vec![1], vec![106.5]));
    }

    #[test]
    fn rectangle_is_clamped_to_the_frame() {
        // x -2..2 -> 0..2, y 2..12 -> 2..3: pixels 20, 21 -> mean 20.5
        let roi = Roi::Rect {
            x: -2,
            y: 2,
            w: 4,
            h: 10,
        };
        assert_eq!(roi.spans(3, 4).unwrap(), vec![Span { y: 2, x0: 0, x1: 2 }]);
        let r = roi_series(&grid(), &roi, Stat::Mean, FrameRange::new(0, 0)).unwrap();
        assert_eq!(r.value, vec![20.5]);
        // wholly outside, or empty
        for roi in [
            Roi::Rect {
                x: 4,
                y: 0,
                w: 2,
                h: 2,
            },
            Roi::Rect {
                x: -3,
                y: 0,
                w: 3,
                h: 2,
            },
            Roi::Rect {
                x: 0,
                y: 0,
                w: 0,
                h: 2,
            },
        ] {
            let e = roi_series(&grid(), &roi, Stat::Mean, FrameRange::all(2)).unwrap_err();
            assert!(e.to_string().contains("holds no pixel"), "{e}");
        }
    }

    #[test]
    fn polygon_counts_only_centres_inside() {
        // the triangle (0,0), (4,0), (0,3): pixel centres (x+0.5, y+0.5) inside when
        // x + 0.5 < 4 - 4/3 (y + 0.5), i.e. row 0: x + 0.5 < 3.33 -> x 0..=2;
        // row 1: < 2 -> x 0..=1; row 2: < 0.67 -> x 0
        let tri = Roi::Polygon(vec![(0.0, 0.0), (4.0, 0.0), (0.0, 3.0)]);
        assert_eq!(
            tri.spans(3, 4).unwrap(),
            vec![
                Span { y: 0, x0: 0, x1: 3 },
                Span { y: 1, x0: 0, x1: 2 },
                Span { y: 2, x0: 0, x1: 1 },
            ]
        );
        // frame 0 values 0, 1, 2, 10, 11, 20: mean 44 / 6, median (2 + 10) / 2 = 6
        let r = roi_series(&grid(), &tri, Stat::Mean, FrameRange::new(0, 0)).unwrap();
        assert!((r.value[0] - 44.0 / 6.0).abs() < 1e-6);
        assert_eq!((r.min[0], r.max[0]), (0.0, 20.0));
        let r = roi_series(&grid(), &tri, Stat::Median, FrameRange::new(0, 0)).unwrap();
        assert_eq!(r.value[0], 6.0);
        for (x, y) in [(0, 0), (2, 0), (1, 1), (0, 2)] {
            assert!(inside(
                &[(0.0, 0.0), (4.0, 0.0), (0.0, 3.0)],
                x as f64 + 0.5,
                y as f64 + 0.5
            ));
        }
        assert!(!inside(&[(0.0, 0.0), (4.0, 0.0), (0.0, 3.0)], 3.5, 0.5));
    }

    #[test]
    fn self_intersecting_polygon_uses_even_odd() {
        // a bow tie (0,0) (4,4) (4,0) (0,4): a left and a right triangle meeting at
        // (2,2). Row centre py crosses the edges at x = 0, py, 4 - py, 4; centres in
        // [0, min) or [max, 4) are inside, min/max of (py, 4 - py).
        // row 0 (0.5, 3.5): [0, 0.5) none, [3.5, 4) x 3
        // row 1 (1.5, 2.5): [0, 1.5) x 0, [2.5, 4) x 2, 3; rows 2, 3 mirror rows 1, 0
        let bow = Roi::Polygon(vec![(0.0, 0.0), (4.0, 4.0), (4.0, 0.0), (0.0, 4.0)]);
        let sp = bow.spans(4, 4).unwrap();
        assert_eq!(
            sp,
            vec![
                Span { y: 0, x0: 3, x1: 4 },
                Span { y: 1, x0: 0, x1: 1 },
                Span { y: 1, x0: 2, x1: 4 },
                Span { y: 2, x0: 0, x1: 1 },
                Span { y: 2, x0: 2, x1: 4 },
                Span { y: 3, x0: 3, x1: 4 },
            ]
        );
        let mut mask = [[false; 4]; 4];
        for s in &sp {
            mask[s.y][s.x0..s.x1].fill(true);
        }
        for (y, row) in mask.iter().enumerate() {
            for (x, &m) in row.iter().enumerate() {
                let pts = [(0.0, 0.0), (4.0, 4.0), (4.0, 0.0), (0.0, 4.0)];
                assert_eq!(
                    m,
                    inside(&pts, x as f64 + 0.5, y as f64 + 0.5),
                    "({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn rgb_and_nan() {
        // 1 frame of 1 x 2 RGB f32: (1, NaN, 5), (3, NaN, NaN)
        let s = Stack::from_vec(
            Shape::new(1, 1, 2, 3),
            vec![1.0, f32::NAN, 5.0, 3.0, f32::NAN, f32::NAN],
        )
        .unwrap();
        let roi = Roi::Rect {
            x: 0,
            y: 0,
            w: 2,
            h: 1,
        };
        let r = roi_series(&s, &roi, Stat::Median, FrameRange::all(1)).unwrap();
        assert_eq!(r.channels, 3);
        // R: [1, 3] -> 2, min 1, max 3; G: nothing -> NaN; B: [5]
        assert_eq!((r.value[0], r.min[0], r.max[0]), (2.0, 1.0, 3.0));
        assert!(r.value[1].is_nan() && r.min[1].is_nan() && r.max[1].is_nan());
        assert_eq!((r.value[2], r.min[2], r.max[2]), (5.0, 5.0, 5.0));
    }

    #[test]
    fn bad_polygons_and_ranges_are_errors() {
        let s = grid();
        let two = Roi::Polygon(vec![(0.0, 0.0), (3.0, 3.0)]);
        let e = roi_series(&s, &two, Stat::Mean, FrameRange::all(2)).unwrap_err();
        assert_eq!(e.to_string(), "a polygon needs at least 3 vertices, got 2");
        // a sliver between pixel centres
        let thin = Roi::Polygon(vec![(0.0, 0.6), (4.0, 0.6), (4.0, 0.9)]);
        assert!(roi_series(&s, &thin, Stat::Mean, FrameRange::all(2)).is_err());
        let nan = Roi::Polygon(vec![(0.0, 0.0), (f32::NAN, 1.0), (2.0, 2.0)]);
        assert!(roi_series(&s, &nan, Stat::Mean, FrameRange::all(2)).is_err());
        let roi = Roi::Rect {
            x: 0,
            y: 0,
            w: 1,
            h: 1,
        };
        assert!(roi_series(&s, &roi, Stat::Mean, FrameRange::new(0, 2)).is_err());
    }
}
