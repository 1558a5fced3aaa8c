//! The line tool: a straight line dragged on the image (clicks add vertices: a
//! polyline), its profile at any angle in the frame shown (bilinear along the line,
//! band-averaged across it by the profile width) and its kymograph over the timeline
//! selection, computed in a background job by the engine (the function `blitz
//! kymograph` calls). The kymograph gives the line profile's dataset envelope over its
//! frames. The kymograph panel is linked to the view: a click on it shows that frame and
//! marks that position on the line.

use crate::ops::kymograph::{Line, kymograph_envelope, line_band_envelope, line_profile};
use crate::ops::profile::{Envelope, Profile};
use crate::ops::{FrameRange, Image, OpError};

use super::ViewerState;
use super::job::Job;

/// The line, its kymograph and what is marked on it.
#[derive(Default)]
pub struct LineState {
    /// Vertices in data coordinates of the shown frame (none, or two and more).
    pub points: Vec<(f32, f32)>,
    /// The last kymograph: of which line and frames, and the image (frames x positions).
    pub kymograph: Option<(Line, FrameRange, Image)>,
    /// Increases with every new kymograph (the panel keeps one texture per value).
    pub generation: u64,
    /// Position along the line (in samples) marked on the image after a click on the
    /// kymograph.
    pub mark: Option<usize>,
    /// The dataset envelope taken from the kymograph: of which generation and
    /// percentile.
    pub envelope: Option<(u64, u32, Envelope)>,
}

impl ViewerState {
    /// The line of the line tool with the profile width as its band, None without one
    /// (or one shorter than a pixel).
    pub fn line(&self) -> Option<Line> {
        if self.lines.points.len() < 2 {
            return None;
        }
        let l = Line {
            points: self.lines.points.clone(),
            width: self.profile.width,
        };
        (l.length() >= 1.0).then_some(l)
    }

    /// A drag of the line tool from `from` to `to` (data coordinates): a new straight
    /// line.
    pub fn line_drag(&mut self, from: (f32, f32), to: (f32, f32)) {
        self.lines.points = vec![from, to];
        self.lines.mark = None;
    }

    /// A click of the line tool at `p`: the line goes on to `p` (a polyline); nothing
    /// before a line is dragged.
    pub fn line_extend(&mut self, p: (f32, f32)) {
        if self.lines.points.len() >= 2 {
            self.lines.points.push(p);
            self.lines.mark = None;
        }
    }

    /// A right click of the line tool: the last vertex is taken back; a straight line
    /// goes.
    pub fn line_undo_vertex(&mut self) {
        if self.lines.points.len() > 2 {
            self.lines.points.pop();
        } else {
            self.lines.points.clear();
        }
        self.lines.mark = None;
    }

    /// The line profile's band envelope in the frame shown (over the band's points, with
    /// the percentile of the profile settings), None while it is switched off, the band
    /// is one point wide, or there is no line.
    pub fn line_band_envelope(&self) -> Option<Envelope> {
        if !self.profile.env_band || self.profile.width == 0 {
            return None;
        }
        let line = self.line()?;
        let (s, t) = self.shown();
        line_band_envelope(s, t, &line, self.profile.env_q).ok()
    }

    /// The line profile's dataset envelope (min/max, or the percentiles of the profile
    /// settings) over the frames of the line's kymograph, with those frames; None while
    /// it is switched off or no kymograph of this line (and band) is at hand.
    pub fn line_envelope(&mut self) -> Option<(FrameRange, Envelope)> {
        let p = &self.pipeline;
        // an ops preview shows one processed frame: raw frames' envelope would mislead
        if !self.profile.env_dataset || (p.shown.is_some() && p.aggregate.is_none()) {
            return None;
        }
        let line = self.line()?;
        let (kl, range, img) = self.lines.kymograph.as_ref()?;
        if *kl != line {
            return None;
        }
        let (generation, q) = (self.lines.generation, self.profile.env_q);
        match &self.lines.envelope {
            Some((g, qq, e)) if *g == generation && *qq == q => Some((*range, e.clone())),
            _ => {
                let e = kymograph_envelope(img, q);
                let range = *range;
                self.lines.envelope = Some((generation, q, e.clone()));
                Some((range, e))
            }
        }
    }

    /// The profile along the line in the frame shown, with the arc length of each
    /// position in pixels.
    pub fn line_profile(&self) -> Option<Result<(Profile, Vec<f32>), OpError>> {
        let line = self.line()?;
        let (s, t) = self.shown();
        Some(line_profile(s, t, &line).map(|p| (p, line.arc_lengths())))
    }

    /// Starts the kymograph of the line over the timeline selection in the background.
    pub fn start_kymograph(&mut self) {
        let Some(line) = self.line() else {
            self.error = Some("kymograph: draw a line first (line tool, L)".into());
            return;
        };
        let (engine, stack) = (self.compute.engine.clone(), self.pipeline.stack.clone());
        let range = self.pipeline.selection;
        let what = format!("kymograph of frames {}..={}", range.first, range.last);
        self.jobs.kymograph = Some(Job::spawn(what, move |ctx| {
            let (img, _) = engine.kymograph_watched(&stack, &line, range, ctx)?;
            Ok((line, range, img))
        }));
    }

    /// Takes a finished kymograph.
    pub(super) fn poll_kymograph(&mut self) {
        let Some(r) = self.jobs.kymograph.as_mut().and_then(|j| j.poll()) else {
            return;
        };
        let Some(job) = self.jobs.kymograph.take() else {
            return;
        };
        match r {
            Ok((line, range, img)) => {
                self.last_compute = format!(
                    "kymograph of frames {}..={}: {:.2} s",
                    range.first,
                    range.last,
                    job.elapsed().as_secs_f64()
                );
                self.lines.kymograph = Some((line, range, img));
                self.lines.generation += 1;
            }
            Err(e) if e.is_cancelled() => self.status = "kymograph cancelled".into(),
            Err(e) => self.error = Some(format!("kymograph: {e}")),
        }
    }

    /// A click on the kymograph at row `row` (a frame of its range) and column `col` (a
    /// position along its line): that frame is shown and that position marked.
    pub fn kymograph_clicked(&mut self, row: usize, col: usize) {
        let Some((_, range, img)) = &self.lines.kymograph else {
            return;
        };
        let t = range.first + row.min(img.height.saturating_sub(1));
        self.lines.mark = Some(col.min(img.width.saturating_sub(1)));
        self.jump_to_frame(t);
    }

    /// The data point of position `i` along the kymograph's line.
    pub fn kymograph_point(&self, i: usize) -> Option<(f32, f32)> {
        let (line, _, _) = self.lines.kymograph.as_ref()?;
        line.samples().get(i).map(|(p, _)| *p)
    }
}
