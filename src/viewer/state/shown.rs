//! The aggregate or previewed image that replaces the frame, recomputed when its inputs
//! change; an aggregate of a mapped or large stack is reduced in a background job while
//! the window keeps drawing the last image (the newest range wins).

use std::sync::Arc;
use std::time::Instant;

use crate::ops::normalize::{Normalize, Source};
use crate::ops::reduce::ReduceOp;
use crate::ops::{FrameRange, Image, OpError};
use crate::stack::Stack;
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::invalidate::{Change, FitKey, Fitted};
use super::job::Job;
use super::pipeline::{SourceKind, image_stack};

/// A Range reference of the ops preview reduced on a thread (a mapped or large base).
pub struct ReferenceJob {
    pub key: (ReduceOp, FrameRange),
    pub job: Job<Image>,
}

/// An aggregate reduced on a thread.
pub struct ShownJob {
    /// "mean of frames 3..=8", for the status bar.
    what: String,
    /// What its image is of, for the levels fit (the range may have moved on since).
    key: FitKey,
    pub job: Job<(Image, crate::engine::EngineKind)>,
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
        self.poll_reference();
        if !self.pipeline.shown_dirty {
            return;
        }
        let t0 = Instant::now();
        if let Some((what, img)) = self.pca_image() {
            // computed already: shown as it is (masks applied)
            self.pipeline.shown_dirty = false;
            if let Err(e) = self.show_image(Ok((img, crate::engine::EngineKind::Cpu)), None) {
                self.error = Some(format!("{what}: {e}"));
            }
            return;
        }
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
            let what = format!("ops preview of frame {frame}");
            let base = self.pipeline.base.clone();
            let r = match self.cached_ranges(n) {
                // a reference is reduced in the background: the preview waits for it
                Ok(None) => return,
                Ok(Some(n)) => n.preview(&base, frame),
                Err(e) => Err(e),
            };
            self.pipeline.shown_dirty = false;
            (what, r.map(|i| (i, crate::engine::EngineKind::Cpu)))
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
        result: Result<(Image, crate::engine::EngineKind), ViewerError>,
        key: Option<FitKey>,
    ) {
        if let Ok((_, engine)) = &result {
            self.last_compute = format!(
                "{what}: {engine}, {:.1} ms",
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
        if let Err(e) = self.show_image(result, key) {
            self.error = Some(format!("{what}: {e}"));
        }
    }

    /// Shows an aggregate, preview or PCA image (masks applied) in place of the frame;
    /// on an error nothing is shown and the ops or aggregate that failed are turned off.
    fn show_image(
        &mut self,
        result: Result<(Image, crate::engine::EngineKind), ViewerError>,
        key: Option<FitKey>,
    ) -> Result<(), ViewerError> {
        let steps = &self.pipeline.steps;
        let shown = result.and_then(|(img, _)| Ok(steps.finish(Arc::new(image_stack(img)?))?));
        let out = match shown {
            Ok(s) => {
                self.pipeline.shown = Some(s);
                Ok(())
            }
            Err(e) => {
                self.pipeline.shown = None;
                // the failing input is turned off so the error does not repeat every frame
                let p = &mut self.pipeline;
                if p.aggregate.is_none() {
                    p.ops.subtract.kind = SourceKind::Off;
                    p.ops.divide.kind = SourceKind::Off;
                }
                p.aggregate = None;
                self.pca.view = super::pca::PcaView::Off;
                Err(e)
            }
        };
        self.invalidate(Change::Shown);
        self.refit_if_changed(key);
        out
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
    /// the range again for every frame (spec §3.2: cached per method and bounds). None
    /// while a reference of a mapped or large base is reduced in the background.
    fn cached_ranges(&mut self, mut n: Normalize) -> Result<Option<Normalize>, OpError> {
        for step in [&mut n.subtract, &mut n.divide].into_iter().flatten() {
            if let Source::Range { op, range } = step.source {
                let key = (op, range);
                let p = &self.pipeline;
                let hit = p.range_cache.iter().find(|(k, _)| *k == key);
                let img = match hit {
                    Some((_, img)) => img.clone(),
                    None if self.in_background(&p.base) => {
                        // the running one finishes first, then the next reference starts
                        if self.jobs.reference.is_none() {
                            let (engine, base) = (self.compute.engine.clone(), p.base.clone());
                            let what = format!(
                                "reference: {op} of frames {}..={}",
                                range.first, range.last
                            );
                            let job = Job::spawn(what, move |ctx| {
                                ctx.begin(&format!("reducing {} frames", range.len()), 0);
                                Ok(engine.reduce(&base, op, range)?.0)
                            });
                            self.jobs.reference = Some(ReferenceJob { key, job });
                        }
                        return Ok(None);
                    }
                    None => {
                        let (img, _) = self.compute.engine.reduce(&p.base, op, range)?;
                        self.cache_range(key, img.clone());
                        img
                    }
                };
                step.source = Source::File(img);
            }
        }
        Ok(Some(n))
    }

    /// Keeps a reduced Range reference: one per ops step.
    fn cache_range(&mut self, key: (ReduceOp, FrameRange), img: Image) {
        let c = &mut self.pipeline.range_cache;
        c.retain(|(k, _)| *k != key);
        if c.len() >= 2 {
            c.remove(0);
        }
        c.push((key, img));
    }

    /// Takes a reference reduced in the background; the preview is computed with it.
    fn poll_reference(&mut self) {
        let Some(r) = self.jobs.reference.as_mut().and_then(|j| j.job.poll()) else {
            return;
        };
        let Some(job) = self.jobs.reference.take() else {
            return;
        };
        match r {
            Ok(img) => {
                self.cache_range(job.key, img);
                self.pipeline.shown_dirty = true;
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                self.error = Some(format!("ops reference: {e}"));
                self.cancel_reference();
            }
        }
    }

    /// Stops the background reference and turns the Range steps off, so the preview
    /// does not start it again.
    pub fn cancel_reference(&mut self) {
        self.jobs.reference = None;
        let ops = &mut self.pipeline.ops;
        for step in [&mut ops.subtract, &mut ops.divide] {
            if step.kind == SourceKind::Range {
                step.kind = SourceKind::Off;
            }
        }
        self.invalidate(Change::Ops);
    }
}
