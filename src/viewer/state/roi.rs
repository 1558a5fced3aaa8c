//! The ROI (rectangle or polygon), its time series, and pinned pixels with theirs. The
//! drawing and moving logic lives here as methods taking data coordinates, so tests run
//! it without a window. Series of a mapped or large stack are computed in background
//! jobs, frame run by frame run, with progress and cancel.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::Engine;
use crate::ops::FrameRange;
use crate::ops::roi::{Roi, RoiSeries, Stat};
use crate::stack::Stack;
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::histogram::job_chunk_frames;
use super::invalidate::Change;
use super::job::{Job, JobCtx, take_finished};

/// Most pixels pinned at once.
pub const MAX_PINS: usize = 4;

/// A ROI, the series over it, and pinned pixels.
pub struct RoiState {
    pub region: Option<Roi>,
    /// Vertices of a polygon being drawn.
    pub polygon_draft: Vec<(f32, f32)>,
    /// The ROI as it was when a drag that moves it began.
    pub drag_from: Option<Roi>,
    /// Where the rectangle drag under way began (data coordinates).
    pub drag_origin: Option<(f32, f32)>,
    pub stat: Stat,
    pub bands: bool,
    pub series: Option<RoiSeries>,
    /// Pixels whose time series are plotted (oldest first).
    pub pins: Vec<(usize, usize)>,
    /// Time series of single pixels (pins, the probe) of the displayed stack.
    pub pixel_cache: HashMap<(usize, usize), Arc<Vec<f32>>>,
}

impl Default for RoiState {
    fn default() -> Self {
        RoiState {
            region: None,
            polygon_draft: Vec::new(),
            drag_from: None,
            drag_origin: None,
            stat: Stat::Mean,
            bands: true,
            series: None,
            pins: Vec::new(),
            pixel_cache: HashMap::new(),
        }
    }
}

impl RoiState {
    /// Caches the series of pixel `at`; the probe wanders, so the cache is emptied past
    /// a few dozen pixels (the pins' series are read again at once).
    fn keep_pixel_series(&mut self, at: (usize, usize), s: Arc<Vec<f32>>) {
        if self.pixel_cache.len() > 64 {
            self.pixel_cache.clear();
        }
        self.pixel_cache.insert(at, s);
    }
}

/// A pixel series computed in the background.
pub struct PixelJob {
    pub at: (usize, usize),
    pub job: Job<Vec<f32>>,
}

/// The ROI series of every frame of `stack`, `per` frames at a time (each frame's
/// statistic depends on that frame only, so the runs join exactly).
pub fn roi_in_runs(
    engine: &Engine,
    stack: &Stack,
    roi: &Roi,
    stat: Stat,
    per: usize,
    ctx: &JobCtx,
) -> Result<(RoiSeries, crate::engine::EngineKind), ViewerError> {
    let n = stack.shape().frames;
    ctx.begin("frames", n as u64);
    let mut all: Option<RoiSeries> = None;
    let mut engine_name = crate::engine::EngineKind::Cpu;
    for a in (0..n).step_by(per.max(1)) {
        ctx.check()?;
        let b = (a + per.max(1)).min(n);
        let (s, ran) = engine.roi(stack, roi, stat, FrameRange::new(a, b - 1))?;
        engine_name = ran.engine;
        match &mut all {
            None => all = Some(s),
            Some(acc) => {
                acc.frames.extend(s.frames);
                acc.value.extend(s.value);
                acc.min.extend(s.min);
                acc.max.extend(s.max);
            }
        }
        ctx.step((b - a) as u64);
    }
    all.map(|s| (s, engine_name))
        .ok_or_else(|| ViewerError::Refused("the stack has no frames".into()))
}

/// The mean over channels of pixel (x, y) in every frame of `stack`.
pub fn pixel_series(stack: &Stack, x: usize, y: usize) -> Vec<f32> {
    let sh = stack.shape();
    let ch = sh.channels;
    (0..sh.frames)
        .map(|t| (0..ch).map(|c| stack.value(t, y, x, c)).sum::<f32>() / ch as f32)
        .collect()
}

impl ViewerState {
    /// A drag of the rectangle tool from `from` to `to` (data coordinates); `started`
    /// on its first step. A drag that starts inside the ROI rectangle moves it, elsewhere
    /// it draws a new one clamped to the frame.
    pub fn roi_drag(&mut self, from: (f32, f32), to: (f32, f32), started: bool) {
        let (w, h) = self.shown_size();
        let (a, b) = (from, to);
        if started {
            self.roi.drag_origin = Some(from);
            self.roi.drag_from = match &self.roi.region {
                Some(r @ Roi::Rect { x, y, w, h })
                    if a.0 >= *x as f32
                        && a.1 >= *y as f32
                        && a.0 < (*x + *w as i64) as f32
                        && a.1 < (*y + *h as i64) as f32 =>
                {
                    Some(r.clone())
                }
                _ => None,
            };
        }
        match &self.roi.drag_from {
            Some(Roi::Rect { x, y, w, h }) => {
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                self.roi.region = Some(Roi::Rect {
                    x: x + dx.round() as i64,
                    y: y + dy.round() as i64,
                    w: *w,
                    h: *h,
                });
            }
            _ => {
                let (x0, y0) = (a.0.min(b.0).floor().max(0.0), a.1.min(b.1).floor().max(0.0));
                let (x1, y1) = (
                    a.0.max(b.0).ceil().min(w as f32),
                    a.1.max(b.1).ceil().min(h as f32),
                );
                if x1 > x0 && y1 > y0 {
                    self.roi.region = Some(Roi::Rect {
                        x: x0 as i64,
                        y: y0 as i64,
                        w: (x1 - x0) as usize,
                        h: (y1 - y0) as usize,
                    });
                }
            }
        }
    }

    /// The rectangle drag ended with the button released at `at` (data coordinates, when
    /// known): the ROI ends there, not where the pointer was at the last redraw, and its
    /// series is computed.
    pub fn roi_drag_release(&mut self, at: Option<(f32, f32)>) {
        if let (Some(from), Some(to)) = (self.roi.drag_origin, at) {
            self.roi_drag(from, to, false);
        }
        self.roi_drag_end();
    }

    /// The rectangle drag ended: the ROI's series is computed.
    pub fn roi_drag_end(&mut self) {
        self.roi.drag_from = None;
        self.roi.drag_origin = None;
        self.compute_roi();
    }

    /// A drag of the ellipse tool from `from` to `to` (data coordinates): the ellipse
    /// inscribed in the box the two corners span (its series follows at the release).
    pub fn ellipse_drag(&mut self, from: (f32, f32), to: (f32, f32)) {
        let (rx, ry) = ((to.0 - from.0).abs() / 2.0, (to.1 - from.1).abs() / 2.0);
        if rx >= 0.5 && ry >= 0.5 {
            self.roi.region = Some(Roi::Ellipse {
                cx: (from.0 + to.0) / 2.0,
                cy: (from.1 + to.1) / 2.0,
                rx,
                ry,
                angle: 0.0,
            });
        }
    }

    /// Turns the ROI drawn by `angle` degrees about its centre (a rectangle becomes a
    /// turned rectangle); its series is computed again.
    pub fn turn_roi(&mut self, angle: f32) {
        if let Some(r) = &self.roi.region {
            self.roi.region = Some(r.turned(angle));
            self.compute_roi();
        }
    }

    /// A click of the polygon tool adds a vertex at data position (x, y).
    pub fn polygon_click(&mut self, x: f32, y: f32) {
        self.roi.polygon_draft.push((x, y));
    }

    /// A double-click closes the polygon (three vertices or more) into the ROI.
    pub fn polygon_close(&mut self) {
        if self.roi.polygon_draft.len() >= 3 {
            self.roi.region = Some(Roi::Polygon(std::mem::take(&mut self.roi.polygon_draft)));
            self.compute_roi();
        }
    }

    /// A click of the pin tool pins the pixel at data position (x, y), dropping the
    /// oldest pin past [`MAX_PINS`]; outside the image nothing happens.
    pub fn pin_at(&mut self, x: f32, y: f32) {
        if let Some(p) = self.pixel_at(x, y) {
            if self.roi.pins.len() == MAX_PINS {
                self.roi.pins.remove(0);
            }
            self.roi.pins.push(p);
        }
    }

    /// Removes the ROI, its series and the pins.
    pub fn clear_roi_and_pins(&mut self) {
        self.roi.region = None;
        self.roi.pins.clear();
        self.invalidate(Change::Roi);
    }

    /// A new ROI statistic: the series is computed again.
    pub fn set_roi_stat(&mut self, stat: Stat) {
        if stat != self.roi.stat {
            self.roi.stat = stat;
            self.compute_roi();
        }
    }

    /// The ROI time series over every frame of the displayed stack, through the engine;
    /// in a background job for a mapped or large stack.
    pub fn compute_roi(&mut self) {
        self.invalidate(Change::Roi);
        let Some(roi) = self.roi.region.clone() else {
            return;
        };
        let stat = self.roi.stat;
        let stack = self.pipeline.stack.clone();
        let engine = self.compute.engine.clone();
        let n = stack.shape().frames;
        if self.in_background(&stack) {
            let per = job_chunk_frames(&stack);
            let what = format!("ROI {stat} over {n} frames");
            self.jobs.roi = Some(Job::spawn(what, move |ctx| {
                roi_in_runs(&engine, &stack, &roi, stat, per, ctx)
            }));
            return;
        }
        let t0 = std::time::Instant::now();
        match engine.roi(&stack, &roi, stat, FrameRange::all(n)) {
            Ok((s, ran)) => self.set_roi_series(s, ran.engine, t0.elapsed().as_secs_f64()),
            Err(e) => self.error = Some(format!("ROI: {e}")),
        }
    }

    fn set_roi_series(&mut self, s: RoiSeries, engine: crate::engine::EngineKind, secs: f64) {
        self.last_compute = format!(
            "ROI {} over {} frames: {engine}, {:.1} ms",
            self.roi.stat,
            s.frames.len(),
            secs * 1e3
        );
        self.roi.series = Some(s);
    }

    /// Takes a finished background ROI series.
    pub(super) fn poll_roi(&mut self) {
        let secs = self
            .jobs
            .roi
            .as_ref()
            .map_or(0.0, |j| j.elapsed().as_secs_f64());
        match take_finished(&mut self.jobs.roi) {
            None => {}
            Some(Ok((s, engine))) => self.set_roi_series(s, engine, secs),
            Some(Err(e)) if e.is_cancelled() => {}
            Some(Err(e)) => self.error = Some(format!("ROI: {e}")),
        }
    }

    /// Stops the background ROI series (the ROI stays drawn, without a curve).
    pub fn cancel_roi(&mut self) {
        if self.jobs.roi.take().is_some() {
            self.status = "ROI series cancelled".into();
        }
    }

    /// The time series of pixel (x, y) of the displayed stack: cached; read now from a
    /// stack in RAM, in the background from a mapped one (None until it arrives).
    pub fn pixel_series_at(&mut self, x: usize, y: usize) -> Option<Arc<Vec<f32>>> {
        if let Some(s) = self.roi.pixel_cache.get(&(x, y)) {
            return Some(s.clone());
        }
        let stack = self.pipeline.stack.clone();
        let sh = stack.shape();
        if x >= sh.width || y >= sh.height {
            return None;
        }
        if !stack.is_mapped() {
            let s = Arc::new(pixel_series(&stack, x, y));
            self.roi.keep_pixel_series((x, y), s.clone());
            return Some(s);
        }
        // a mapped stack: one page per frame, read off the UI thread, one pixel at a time
        if self.jobs.pixels.is_none() {
            let what = format!("time series of pixel ({x}, {y})");
            let job = Job::spawn(what, move |ctx| {
                ctx.begin("frames", 0);
                Ok(pixel_series(&stack, x, y))
            });
            self.jobs.pixels = Some(PixelJob { at: (x, y), job });
        }
        None
    }

    /// Takes a finished background pixel series into the cache.
    pub(super) fn poll_pixels(&mut self) {
        let Some(at) = self.jobs.pixels.as_ref().map(|j| j.at) else {
            return;
        };
        let mut slot = self.jobs.pixels.take().map(|j| j.job);
        match take_finished(&mut slot) {
            None => {
                if let Some(job) = slot {
                    self.jobs.pixels = Some(PixelJob { at, job });
                }
            }
            Some(Ok(s)) => self.roi.keep_pixel_series(at, Arc::new(s)),
            Some(Err(_)) => {}
        }
    }
}
