//! Several named ROIs at once (the results table): per ROI, frame and channel the mean,
//! standard deviation (of the pixels, not of a sample: numpy's default), min and max of
//! its pixels, and the median when asked, NaN skipped, and its area in pixels, in one
//! pass over the frames in order (every ROI reads each frame while it is at hand).

use rayon::prelude::*;
use serde::Serialize;

use super::set::NamedRoi;
use super::{OpError, Span, area, frame_moments};
use crate::load::{NoProgress, Progress};
use crate::ops::profile::percentile;
use crate::ops::{FrameRange, per_frame_chunk};
use crate::stack::Stack;

/// Mean, standard deviation, min, max and median of a ROI's pixels in one frame and
/// channel (the median None where it was not asked for or there is no pixel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub mean: f32,
    pub std: f32,
    pub min: f32,
    pub max: f32,
    pub median: Option<f32>,
}

impl Stats {
    /// The statistics of no pixel (every one NaN).
    pub const EMPTY: Stats = Stats {
        mean: f32::NAN,
        std: f32::NAN,
        min: f32::NAN,
        max: f32::NAN,
        median: None,
    };
}

/// The table of several ROIs over a range of frames.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoiTable {
    pub names: Vec<String>,
    /// Pixels of each ROI in the frame.
    pub areas: Vec<usize>,
    pub channels: usize,
    /// Frame index of each row.
    pub frames: Vec<usize>,
    /// Row-major: frame, then ROI, then channel.
    pub stats: Vec<Stats>,
    /// The stats hold the median (else it is None).
    pub medians: bool,
}

impl RoiTable {
    /// The table of `rois` (pixels `spans`) over `range` from its rows of `stats`
    /// (holding the median when `medians`).
    pub fn new(
        rois: &[NamedRoi],
        spans: &[Vec<Span>],
        channels: usize,
        range: FrameRange,
        (stats, medians): (Vec<Stats>, bool),
    ) -> RoiTable {
        RoiTable {
            names: rois.iter().map(|r| r.name.clone()).collect(),
            areas: spans.iter().map(|s| area(s)).collect(),
            channels,
            frames: (range.first..=range.last).collect(),
            stats,
            medians,
        }
    }

    /// Statistics of ROI `r`, channel `c` in row `i`.
    pub fn get(&self, i: usize, r: usize, c: usize) -> Stats {
        self.stats[(i * self.names.len() + r) * self.channels + c]
    }
}

/// One frame's statistics for every ROI into `out` (ROI-major, channel fastest);
/// `vals` holds each channel's values for the median when `median`.
fn frame_row(
    f: crate::stack::Samples<'_>,
    spans: &[Vec<Span>],
    (w, c): (usize, usize),
    (median, vals): (bool, &mut [Vec<f32>]),
    out: &mut [Stats],
) {
    for (r, sp) in spans.iter().enumerate() {
        vals.iter_mut().for_each(Vec::clear);
        let m = frame_moments(f, c, sp, w, median.then_some(&mut *vals));
        for ch in 0..c {
            out[r * c + ch] = if m.n[ch] == 0 {
                Stats::EMPTY
            } else {
                let n = m.n[ch] as f64;
                let mean = m.sum[ch] / n;
                let var = (m.sq[ch] / n - mean * mean).max(0.0);
                Stats {
                    mean: mean as f32,
                    std: var.sqrt() as f32,
                    min: m.lo[ch],
                    max: m.hi[ch],
                    median: median.then(|| percentile(&mut vals[ch], 50.0)),
                }
            };
        }
    }
}

/// The results table of `rois` over frames `range` of `stack` (no median).
pub fn roi_table(stack: &Stack, rois: &[NamedRoi], range: FrameRange) -> Result<RoiTable, OpError> {
    roi_table_watched(stack, rois, range, false, &NoProgress)
}

/// [`roi_table`], with the median when `median`, telling `progress` the frames done and
/// stopping with [`OpError::Cancelled`] between chunks once it is cancelled.
pub fn roi_table_watched(
    stack: &Stack,
    rois: &[NamedRoi],
    range: FrameRange,
    median: bool,
    progress: &dyn Progress,
) -> Result<RoiTable, OpError> {
    let sh = stack.shape();
    range.check(sh.frames)?;
    let spans = table_spans(rois, sh.height, sh.width)?;
    let c = sh.channels;
    let per_row = rois.len() * c;
    let mut stats = vec![Stats::default(); range.len() * per_row];
    let chunk = per_frame_chunk(stack, stack.default_chunk_bytes());
    progress.start("roi table", range.len() as u64);
    stack.for_each_chunk(range.first..range.last + 1, chunk, |ts| {
        if progress.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        let n = ts.len() as u64;
        let rows = (ts.start - range.first) * per_row..(ts.end - range.first) * per_row;
        stats[rows]
            .par_chunks_mut(per_row)
            .zip(ts.into_par_iter())
            .for_each_init(
                || vec![Vec::new(); c],
                |vals, (out, t)| {
                    frame_row(stack.frame(t), &spans, (sh.width, c), (median, vals), out)
                },
            );
        progress.advance(n);
        Ok(())
    })?;
    Ok(RoiTable::new(rois, &spans, c, range, (stats, median)))
}

/// The pixel spans of each of `rois` in an `h` x `w` frame; an empty set, or a ROI with
/// no pixel in the frame, is an error naming the ROI.
pub fn table_spans(rois: &[NamedRoi], h: usize, w: usize) -> Result<Vec<Vec<Span>>, OpError> {
    if rois.is_empty() {
        return Err(OpError::Invalid("no ROI given".into()));
    }
    rois.iter()
        .map(|r| {
            r.roi
                .spans(h, w)
                .map_err(|e| OpError::Invalid(format!("ROI '{}': {e}", r.name)))
        })
        .collect()
}
