//! Kymographs: the x–t image of a line through the stack. Row t of the result is the
//! line's profile in frame t, so a front moving along the line draws a slanted edge whose
//! slope is its speed.
//!
//! A line is a horizontal row, a vertical column or any open polyline in pixel
//! coordinates (pixel (x, y) holds the value at x, y), sampled at even steps of at most
//! one pixel from its first point to its last ([`Line::samples`]), each sample the mean
//! over a band of `2k + 1` points across the line, one pixel apart (the half-width `k`,
//! as the row and column profiles have it). Off-grid points are read bilinearly; points
//! outside the frame and NaN samples are skipped; a position with no value is NaN. A
//! row or column line samples the pixel centres exactly, so its kymograph's row t equals
//! the row or column profile of frame t ([`crate::ops::profile::profile`]).

use ndarray::{ArrayView4, Axis};
use rayon::prelude::*;

use super::{FrameRange, Image, OpError};
use crate::load::{NoProgress, Progress};
use crate::stack::{Sample, Stack, StackView};

/// An open polyline through the frame, with the half-width of its band.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The vertices in pixel coordinates, at least two.
    pub points: Vec<(f32, f32)>,
    /// Half-width of the band averaged across the line: `2 * width + 1` points.
    pub width: usize,
}

/// A point or a direction in pixel coordinates (x, y).
pub type Point = (f32, f32);

/// One tap of the bilinear read: a pixel's offset in a frame (before the channel) and
/// its weight.
type Tap = (usize, f32);

/// How each position of a line reads a frame: for each point of its band that lies in
/// the frame, its (up to four) bilinear taps.
#[derive(Clone, Debug)]
pub struct LinePlan {
    /// Positions along the line.
    pub len: usize,
    /// Per position, the index range of its band points in `points` (len + 1 entries).
    pub(crate) starts: Vec<usize>,
    /// Per band point, the range of its taps in `taps`.
    pub(crate) points: Vec<(usize, usize)>,
    pub(crate) taps: Vec<Tap>,
}

impl Line {
    /// Row `y` from the first pixel to the last of a frame `width` wide.
    pub fn row(y: usize, frame_width: usize, width: usize) -> Line {
        Line {
            points: vec![
                (0.0, y as f32),
                (frame_width.saturating_sub(1) as f32, y as f32),
            ],
            width,
        }
    }

    /// Column `x` from the first pixel to the last of a frame `height` high.
    pub fn col(x: usize, frame_height: usize, width: usize) -> Line {
        Line {
            points: vec![
                (x as f32, 0.0),
                (x as f32, frame_height.saturating_sub(1) as f32),
            ],
            width,
        }
    }

    /// `X1,Y1,X2,Y2[,X3,Y3...]`: the vertices of an open polyline, at least two.
    pub fn parse(text: &str, width: usize) -> Result<Line, OpError> {
        let bad = |why: &str| OpError::Invalid(format!("line '{text}': {why}"));
        let v: Vec<f32> = text
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("expected numbers X1,Y1,X2,Y2[,...]"))?;
        if v.len() < 4 || !v.len().is_multiple_of(2) {
            return Err(bad(
                "expected an even count of at least 4 numbers X1,Y1,X2,Y2[,...]",
            ));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(bad("every coordinate must be finite"));
        }
        Ok(Line {
            points: v.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
            width,
        })
    }

    /// Total length of the polyline in pixels.
    pub fn length(&self) -> f32 {
        self.points
            .windows(2)
            .map(|s| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1))
            .sum()
    }

    /// The arc length of each sample point from the first vertex: `round(length) + 1`
    /// even steps of at most about one pixel, the last exactly the line's length.
    pub fn arc_lengths(&self) -> Vec<f32> {
        let total = self.length();
        let n = total.round() as usize + 1;
        let step = if n > 1 { total / (n - 1) as f32 } else { 0.0 };
        (0..n)
            .map(|i| if i + 1 == n { total } else { i as f32 * step })
            .collect()
    }

    /// The sample points along the line: `round(length) + 1` of them, evenly spaced from
    /// the first vertex to the last, each with the unit direction of its segment.
    pub fn samples(&self) -> Vec<(Point, Point)> {
        let segs: Vec<(Point, Point, f32)> = self
            .points
            .windows(2)
            .map(|s| (s[0], s[1], (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1)))
            .filter(|s| s.2 > 0.0)
            .collect();
        let arc = self.arc_lengths();
        let mut out = Vec::with_capacity(arc.len());
        let (mut seg, mut seg_start) = (0usize, 0f32);
        for s in arc {
            while seg + 1 < segs.len() && s > seg_start + segs[seg].2 {
                seg_start += segs[seg].2;
                seg += 1;
            }
            let (a, b, l) = segs[seg];
            let dir = ((b.0 - a.0) / l, (b.1 - a.1) / l);
            let t = (s - seg_start).clamp(0.0, l);
            out.push(((a.0 + dir.0 * t, a.1 + dir.1 * t), dir));
        }
        out
    }

    /// Checks the line against a frame of `height` x `width`: a length above 0 and at
    /// least one sample inside the frame.
    pub fn check(&self, height: usize, width: usize) -> Result<(), OpError> {
        self.check_length()?;
        self.check_samples(&self.samples(), height, width)
    }

    /// At least two points and a length above 0: what [`Line::samples`] needs.
    fn check_length(&self) -> Result<(), OpError> {
        if self.points.len() < 2 {
            return Err(OpError::Invalid("a line needs at least two points".into()));
        }
        if self.length() <= 0.0 {
            return Err(OpError::Invalid(
                "the line has length 0: give two different points".into(),
            ));
        }
        Ok(())
    }

    /// At least one of the line's `samples` (already computed) inside the frame.
    fn check_samples(
        &self,
        samples: &[(Point, Point)],
        height: usize,
        width: usize,
    ) -> Result<(), OpError> {
        let inside = |(x, y): (f32, f32)| {
            x >= 0.0 && y >= 0.0 && x <= (width - 1) as f32 && y <= (height - 1) as f32
        };
        if !samples.iter().any(|&(p, _)| inside(p)) {
            return Err(OpError::Invalid(format!(
                "the line lies outside the {width} x {height} frame"
            )));
        }
        Ok(())
    }

    /// The reading plan of this line over frames of `height` x `width`.
    pub fn plan(&self, height: usize, width: usize) -> Result<LinePlan, OpError> {
        self.check_length()?;
        let samples = self.samples();
        self.check_samples(&samples, height, width)?;
        let k = self.width as i64;
        let (mut starts, mut points, mut taps) = (Vec::new(), Vec::new(), Vec::new());
        for &((x, y), (dx, dy)) in &samples {
            starts.push(points.len());
            // the normal, one pixel per band step
            let (nx, ny) = (-dy, dx);
            for j in -k..=k {
                let (px, py) = (x + nx * j as f32, y + ny * j as f32);
                let t0 = taps.len();
                if bilinear_taps(px, py, height, width, &mut taps) {
                    points.push((t0, taps.len()));
                }
            }
        }
        starts.push(points.len());
        Ok(LinePlan {
            len: samples.len(),
            starts,
            points,
            taps,
        })
    }
}

/// Pushes the bilinear taps of point (x, y) of a `height` x `width` frame; false (and
/// nothing pushed) when the point lies outside the frame. Points within 1e-3 px of a
/// pixel read it alone, so rows, columns and axis-aligned lines read no neighbour.
fn bilinear_taps(x: f32, y: f32, height: usize, width: usize, taps: &mut Vec<Tap>) -> bool {
    const EPS: f32 = 1e-3;
    let (xm, ym) = ((width - 1) as f32, (height - 1) as f32);
    if !(x > -EPS && y > -EPS && x < xm + EPS && y < ym + EPS) {
        return false;
    }
    let (x, y) = (x.clamp(0.0, xm), y.clamp(0.0, ym));
    let snap = |v: f32| {
        let r = v.round();
        if (v - r).abs() < EPS { r } else { v }
    };
    let (x, y) = (snap(x), snap(y));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    for (dy, wy) in [(0usize, 1.0 - fy), (1, fy)] {
        for (dx, wx) in [(0usize, 1.0 - fx), (1, fx)] {
            let w = wx * wy;
            if w > 0.0 {
                taps.push(((y0 + dy) * width + x0 + dx, w));
            }
        }
    }
    true
}

impl LinePlan {
    /// Channel `c` of `frame` at a band point (the range `taps` of its bilinear taps).
    fn point_value<T: Sample>(
        &self,
        frame: &[T],
        channels: usize,
        c: usize,
        (t0, t1): (usize, usize),
    ) -> f32 {
        self.taps[t0..t1]
            .iter()
            .map(|&(o, w)| frame[o * channels + c].to_f32() * w)
            .sum()
    }

    /// The line's profile in one frame (`frame`: H * W * C samples), per position and
    /// channel, into `out` (len * channels).
    fn profile_into<T: Sample>(&self, frame: &[T], channels: usize, out: &mut [f32]) {
        for p in 0..self.len {
            for c in 0..channels {
                let (mut sum, mut n) = (0f64, 0u32);
                for &pt in &self.points[self.starts[p]..self.starts[p + 1]] {
                    let v = self.point_value(frame, channels, c, pt);
                    if !v.is_nan() {
                        sum += v as f64;
                        n += 1;
                    }
                }
                out[p * channels + c] = if n == 0 {
                    f32::NAN
                } else {
                    (sum / n as f64) as f32
                };
            }
        }
    }
}

/// The kymograph of `line` over frames `range`: an image of (frames, positions,
/// channels), row t the line's profile in frame `range.first + t`.
pub fn kymograph(stack: &Stack, line: &Line, range: FrameRange) -> Result<Image, OpError> {
    kymograph_watched(stack, line, range, &NoProgress)
}

/// [`kymograph`] telling `progress` each frame read and stopping with
/// [`OpError::Cancelled`] soon after it is cancelled.
pub fn kymograph_watched(
    stack: &Stack,
    line: &Line,
    range: FrameRange,
    progress: &dyn Progress,
) -> Result<Image, OpError> {
    let sh = stack.shape();
    range.check(sh.frames)?;
    let plan = line.plan(sh.height, sh.width)?;
    let c = sh.channels;
    let frames = range.last - range.first + 1;
    let mut img = Image::zeros(frames, plan.len, c);
    fn run<T: Sample>(
        v: ArrayView4<'_, T>,
        plan: &LinePlan,
        first: usize,
        c: usize,
        out: &mut [f32],
        progress: &dyn Progress,
    ) {
        out.par_chunks_mut(plan.len * c)
            .enumerate()
            .for_each(|(t, row)| {
                if progress.is_cancelled() {
                    return;
                }
                let f = v.index_axis(Axis(0), first + t);
                let frame = f.as_slice().expect("stack frames are contiguous");
                plan.profile_into(frame, c, row);
                progress.advance(1);
            });
    }
    progress.start("kymograph", frames as u64);
    match stack.view() {
        StackView::U8(v) => run(v, &plan, range.first, c, &mut img.data, progress),
        StackView::U16(v) => run(v, &plan, range.first, c, &mut img.data, progress),
        StackView::F32(v) => run(v, &plan, range.first, c, &mut img.data, progress),
    }
    if progress.is_cancelled() {
        return Err(OpError::Cancelled);
    }
    Ok(img)
}

/// The profile of frame `frame` along `line`: the kymograph's one row.
pub fn line_profile(
    stack: &Stack,
    frame: usize,
    line: &Line,
) -> Result<crate::ops::profile::Profile, OpError> {
    let img = kymograph(stack, line, FrameRange::new(frame, frame))?;
    Ok(crate::ops::profile::Profile {
        channels: img.channels,
        values: img.data,
    })
}

/// The dataset envelope of a line profile: at each position, over every frame and
/// channel of the band mean, min/max for `q = 0`, else the percentiles `q` and `100 - q`
/// (NaN skipped; NaN where nothing is left), as the row and column profiles' envelope.
pub fn line_envelope(
    stack: &Stack,
    line: &Line,
    q: u32,
) -> Result<crate::ops::profile::Envelope, OpError> {
    crate::ops::profile::check_percentile(q)?;
    let frames = stack.shape().frames;
    if frames == 0 {
        return Err(OpError::Invalid("the stack has no frames".into()));
    }
    let img = kymograph(stack, line, FrameRange::all(frames))?;
    Ok(kymograph_envelope(&img, q))
}

/// The envelope of a kymograph's positions over its frames (rows) and channels: at each
/// position min/max for `q = 0`, else the percentiles `q` and `100 - q` (NaN skipped;
/// NaN where nothing is left). `q` must have passed
/// [`crate::ops::profile::check_percentile`].
pub fn kymograph_envelope(img: &Image, q: u32) -> crate::ops::profile::Envelope {
    let frames = img.height;
    let (len, c) = (img.width, img.channels);
    let (lo, hi): (Vec<f32>, Vec<f32>) = (0..len)
        .into_par_iter()
        .map(|p| {
            let mut v: Vec<f32> = (0..frames)
                .flat_map(|t| (0..c).map(move |ch| (t, ch)))
                .map(|(t, ch)| img.data[(t * len + p) * c + ch])
                .filter(|x| !x.is_nan())
                .collect();
            spread(&mut v, q)
        })
        .unzip();
    crate::ops::profile::Envelope { lo, hi }
}

/// Min and max of `v` (no NaN) for `q = 0`, else its percentiles `q` and `100 - q`; NaN
/// for an empty `v`.
fn spread(v: &mut [f32], q: u32) -> (f32, f32) {
    if v.is_empty() {
        return (f32::NAN, f32::NAN);
    }
    if q == 0 {
        let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        return (lo, hi);
    }
    let lo = crate::ops::profile::percentile(v, q as f64);
    (lo, crate::ops::profile::percentile(v, 100.0 - q as f64))
}

/// The band envelope of a line profile in frame `frame`: at each position, over the
/// values of its band's points (each read bilinearly) and channels together, min/max
/// for `q = 0`, else the percentiles `q` and `100 - q` (NaN skipped), as
/// [`crate::ops::profile::band_envelope`] gives for a row or a column.
pub fn line_band_envelope(
    stack: &Stack,
    frame: usize,
    line: &Line,
    q: u32,
) -> Result<crate::ops::profile::Envelope, OpError> {
    crate::ops::profile::check_percentile(q)?;
    let sh = stack.shape();
    FrameRange::new(frame, frame).check(sh.frames)?;
    let plan = line.plan(sh.height, sh.width)?;
    fn go<T: Sample>(
        v: ArrayView4<'_, T>,
        frame: usize,
        plan: &LinePlan,
        c: usize,
        q: u32,
    ) -> crate::ops::profile::Envelope {
        let f = v.index_axis(Axis(0), frame);
        let f = f.as_slice().expect("stack frames are contiguous");
        let (lo, hi) = (0..plan.len)
            .map(|p| {
                let mut vals: Vec<f32> = plan.points[plan.starts[p]..plan.starts[p + 1]]
                    .iter()
                    .flat_map(|&pt| (0..c).map(move |ch| plan.point_value(f, c, ch, pt)))
                    .filter(|x| !x.is_nan())
                    .collect();
                spread(&mut vals, q)
            })
            .unzip();
        crate::ops::profile::Envelope { lo, hi }
    }
    let c = sh.channels;
    Ok(match stack.view() {
        StackView::U8(v) => go(v, frame, &plan, c, q),
        StackView::U16(v) => go(v, frame, &plan, c, q),
        StackView::F32(v) => go(v, frame, &plan, c, q),
    })
}
