//! The aggregate or previewed image that replaces the frame, recomputed when its inputs
//! change; an aggregate of a mapped or large stack is reduced in a background job while
//! the window keeps drawing the last image (the newest range wins).

use std::sync::Arc;
use std::time::Instant;

use crate::ops::normalize::{Normalize, Source};
use crate::ops::{Image, OpError};
use crate::stack::Stack;
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::invalidate::{Change, FitKey, Fitted};
use super::job::Job;
use super::pipeline::{SourceKind, image_stack};

/// An aggregate reduced on a thread.
pub struct ShownJob {
    /// "mean of frames 3..=8", for the status bar.
    what: String,
    /// What its image is of, for the levels fit (the range may have moved on since).
    key: FitKey,
    pub job: Job<(Image, &'static str)>,
}

impl ViewerState {
    /// True when work on `stack` goes to a background job: a mapped stack (every pass
    /// reads the file) or one over [`super::Jobs::background_above`] bytes.
    pub fn in_background(&self, stack: &Stack) -> bool {
        stack.is_mapped() || stack.bytes() > self.jobs.background_above
    }

    /// Recomputes the aggregate or previewed image when its inputs changed.
    pub fn update_shown(&mut self) {
        self.poll_shown_job();
        if !self.pipeline.shown_dirty {
            return;
        }
        let t0 = Instant::now();
        let processed = self.pipeline.processed();
        let frame = self.playback.frame;
        let (what, result) = if let Some(a) = self.pipeline.aggregate {
            let what = format!("{} of frames {}..={}", a.op, a.range.first, a.range.last);
            if self.in_background(&processed) {
                if self.jobs.shown.is_none() {
                    self.pipeline.shown_dirty = false;
                    let engine = self.compute.engine.clone();
                    let key = FitKey {
                        stack: self.gens.stack,
                        what: Fitted::Aggregate(a.op, a.range),
                    };
                    let job = Job::spawn(format!("aggregate: {what}"), move |ctx| {
                        ctx.begin(&format!("reducing {} frames", a.range.len()), 0);
                        let (img, ran) = engine.reduce_kept(&processed, a.op, a.range)?;
                        Ok((img, ran.engine))
                    });
                    self.jobs.shown = Some(ShownJob { what, key, job });
                }
                // else: the running one finishes first, then the newest range starts
                return;
            }
            self.pipeline.shown_dirty = false;
            // the GPU keeps the stack between calls: a moved range costs only the compute
            let r = self.compute.engine.reduce_kept(&processed, a.op, a.range);
            (what, r.map(|(img, ran)| (img, ran.engine)))
        } else if let Some(n) = self.pipeline.preview_ops() {
            self.pipeline.shown_dirty = false;
            let what = format!("ops preview of frame {frame}");
            let base = self.pipeline.base.clone();
            let r = self.cached_ranges(n).and_then(|n| n.preview(&base, frame));
            (what, r.map(|i| (i, "cpu")))
        } else {
            self.pipeline.shown_dirty = false;
            if self.pipeline.shown.take().is_some() {
                self.invalidate(Change::Shown);
            }
            self.refit_if_changed(None);
            return;
        };
        self.set_shown(&what, t0, result.map_err(ViewerError::from), None);
    }

    /// Takes a finished background aggregate: shown if aggregate mode is still on (a
    /// result of another stack was dropped with its job).
    fn poll_shown_job(&mut self) {
        let Some(done) = self.jobs.shown.as_mut().and_then(|j| j.job.poll()) else {
            return;
        };
        let Some(job) = self.jobs.shown.take() else {
            return;
        };
        if self.pipeline.aggregate.is_none() || done.as_ref().is_err_and(|e| e.is_cancelled()) {
            return;
        }
        let t0 = Instant::now() - job.job.elapsed();
        self.set_shown(&job.what, t0, done, Some(job.key));
    }

    /// Cancels the background aggregate: aggregate mode goes off, so it does not start
    /// again.
    pub fn cancel_aggregate(&mut self) {
        if self.jobs.shown.take().is_some() {
            self.pipeline.aggregate = None;
            self.invalidate(Change::Aggregate);
            self.status = "aggregate cancelled".into();
        }
    }

    /// Waits for a background aggregate (tests, scripts).
    pub fn wait_shown(&mut self) {
        while self.jobs.shown.is_some()
            || (self.pipeline.shown_dirty && self.pipeline.aggregate.is_some())
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
            self.update_shown();
        }
    }

    /// Shows a computed aggregate or preview (masks and transforms applied), or its error;
    /// `key` says what the image is of when it is not the current state (a background
    /// result for a range the user has left).
    fn set_shown(
        &mut self,
        what: &str,
        t0: Instant,
        result: Result<(Image, &'static str), ViewerError>,
        key: Option<FitKey>,
    ) {
        let steps = &self.pipeline.steps;
        match result.and_then(|(img, engine)| {
            let s = steps.finish(Arc::new(image_stack(img)?))?;
            Ok((s, engine))
        }) {
            Ok((s, engine)) => {
                self.pipeline.shown = Some(s);
                self.last_compute = format!(
                    "{what}: {engine}, {:.1} ms",
                    t0.elapsed().as_secs_f64() * 1e3
                );
            }
            Err(e) => {
                self.pipeline.shown = None;
                self.error = Some(format!("{what}: {e}"));
                // the failing input is turned off so the error does not repeat every frame
                let p = &mut self.pipeline;
                if p.aggregate.is_none() {
                    p.ops.subtract.kind = SourceKind::Off;
                    p.ops.divide.kind = SourceKind::Off;
                }
                p.aggregate = None;
            }
        }
        self.invalidate(Change::Shown);
        self.refit_if_changed(key);
    }

    /// Refits the levels (keep-fitting on) when what is shown differs from what they
    /// were fitted to; `key` (default: the current state) says what the image is of.
    fn refit_if_changed(&mut self, key: Option<FitKey>) {
        let key = key.unwrap_or_else(|| self.fit_key());
        if self.display.keep_fitting && self.display.fitted_for != Some(key) {
            self.fit_levels();
        }
        self.display.fitted_for = Some(key);
    }

    /// `n` with every Range reference replaced by its image, reduced once per (op,
    /// range) through the engine and cached, so scrubbing the preview does not reduce
    /// the range again for every frame (spec §3.2: cached per method and bounds).
    fn cached_ranges(&mut self, mut n: Normalize) -> Result<Normalize, OpError> {
        for step in [&mut n.subtract, &mut n.divide].into_iter().flatten() {
            if let Source::Range { op, range } = step.source {
                let p = &mut self.pipeline;
                let hit = p.range_cache.as_ref().filter(|(k, _)| *k == (op, range));
                let img = match hit {
                    Some((_, img)) => img.clone(),
                    None => {
                        let (img, _) = self.compute.engine.reduce(&p.base, op, range)?;
                        p.range_cache = Some(((op, range), img.clone()));
                        img
                    }
                };
                step.source = Source::File(img);
            }
        }
        Ok(n)
    }
}
