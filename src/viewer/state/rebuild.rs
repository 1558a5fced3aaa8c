//! A pipeline change (timeline crop, masks, ops applied to full) rebuilds the displayed
//! stack from the loaded one. The memory the copies need is checked first, against the
//! RAM available; on a large or mapped stack the copies run in a background job, with
//! progress and a Cancel, while the old stack stays shown. Turns and flips change no
//! stack: they are a view (`set_orientation`). Every change made here is undoable
//! (Ctrl+Z): the steps before it are kept, up to [`UNDO_DEPTH`] of them.

use std::sync::Arc;

use crate::load::human_bytes;
use crate::ops::FrameRange;
use crate::stack::Stack;
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::invalidate::Change;
use super::job::{Job, JobCtx};
use super::pipeline::Pipeline;

/// What to set once the new stack is in: the selection and the frame shown (a timeline
/// crop moves both to the frames they showed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct After {
    pub selection: FrameRange,
    pub frame: usize,
}

/// How many changes Ctrl+Z can take back.
pub const UNDO_DEPTH: usize = 20;

/// One undoable change: the pipeline before it.
#[derive(Clone)]
pub struct UndoStep {
    /// The change, for the status bar ("undone: flip x").
    pub what: String,
    steps: Pipeline,
}

/// What a change does with the undo history once it is in (or has failed).
enum History {
    /// A new change: its step is kept when it is in.
    Record(UndoStep),
    /// An undo: its step goes back on the history when it fails.
    Undoing(UndoStep),
}

/// A rebuild running in the background.
pub struct RebuildJob {
    /// The change, for the status bar ("cropped to the ROI").
    pub what: String,
    pub steps: Pipeline,
    after: Option<After>,
    key: (u64, Option<FrameRange>),
    history: History,
    pub job: Job<(Arc<Stack>, Arc<Stack>)>,
}

/// The base (timeline crop of `raw`, or `cached` when the crop did not change) and the
/// displayed stack of `steps`.
fn build(
    raw: &Arc<Stack>,
    steps: &Pipeline,
    cached: Option<Arc<Stack>>,
    ctx: &JobCtx,
) -> Result<(Arc<Stack>, Arc<Stack>), ViewerError> {
    let base = match cached {
        Some(b) => b,
        None => {
            ctx.begin("cutting the timeline", 0);
            steps.base(raw)?
        }
    };
    ctx.check()?;
    if steps.binary_mask.is_some() || steps.roi_mask.is_some() {
        ctx.begin("masking", 0);
    }
    let stack = steps.finish(steps.processed(&base))?;
    ctx.check()?;
    Ok((base, stack))
}

impl ViewerState {
    /// Changes the pipeline with `f` and rebuilds the displayed stack (in the background
    /// when large); on an error (a mask of the wrong size, too little memory, ...) the
    /// change is undone and the error shown. True when the change was made or started.
    pub fn change_pipeline(&mut self, what: &str, f: impl FnOnce(&mut Pipeline)) -> bool {
        self.change_pipeline_then(what, f, None)
    }

    /// [`Self::change_pipeline`], then `after` once the new stack is in.
    pub(super) fn change_pipeline_then(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Pipeline),
        after: Option<After>,
    ) -> bool {
        let mut steps = self.pipeline.steps.clone();
        f(&mut steps);
        let before = UndoStep {
            what: what.to_string(),
            steps: self.pipeline.steps.clone(),
        };
        self.set_steps(what, steps, after, History::Record(before))
    }

    /// Takes back the last change (Ctrl+Z): the pipeline, selection and frame before it.
    pub fn undo(&mut self) {
        let Some(u) = self.undo.pop() else {
            self.status = "nothing to undo".into();
            return;
        };
        let what = format!("undone: {}", u.what);
        let after = self.follow_crop(u.steps.timeline_crop);
        self.set_steps(&what, u.steps.clone(), after, History::Undoing(u));
    }

    /// Frame and selection on the same loaded frames after the timeline crop becomes
    /// `to` (None when it stays: they stay as they are).
    fn follow_crop(&self, to: Option<FrameRange>) -> Option<After> {
        let from = self.pipeline.steps.timeline_crop;
        if from == to {
            return None;
        }
        let (from_off, to_off) = (from.map_or(0, |c| c.first), to.map_or(0, |c| c.first));
        let n = to.map_or(self.pipeline.raw.shape().frames, |c| c.len());
        // a loaded frame outside the new crop goes to its nearest end
        let map = |t: usize| (t + from_off).saturating_sub(to_off).min(n - 1);
        let sel = self.pipeline.selection;
        Some(After {
            selection: FrameRange::new(map(sel.first), map(sel.last)),
            frame: map(self.playback.frame),
        })
    }

    /// Shows `steps`: at once when no stack changes (the orientation) or the copies are
    /// small, else in a background job.
    fn set_steps(
        &mut self,
        what: &str,
        steps: Pipeline,
        after: Option<After>,
        history: History,
    ) -> bool {
        if let Some(j) = &self.jobs.rebuild {
            self.error = Some(format!(
                "{what}: wait until \"{}\" is done, or cancel it (status bar).\n\nNothing \
                 was changed.",
                j.what
            ));
            self.keep_history(history, false);
            return false;
        }
        if steps.same_stack(&self.pipeline.steps)
            && steps.transforms == self.pipeline.steps.transforms
        {
            // nothing changes: nothing to record or undo
            self.keep_history(history, false);
            return true;
        }
        if steps.same_stack(&self.pipeline.steps) {
            // a view: nothing is copied
            let s = self.pipeline.stack.shape();
            let (old, new) = (self.pipeline.steps.transforms, steps.transforms);
            if old.display_size(s.width, s.height) != new.display_size(s.width, s.height) {
                self.view.fit = true;
            }
            self.pipeline.steps = steps;
            if let Some(a) = after {
                self.set_selection(a.selection.first, a.selection.last);
                self.set_frame(a.frame);
            }
            self.status = if new.is_identity() {
                what.to_string()
            } else {
                format!("{what}: shown {new}")
            };
            self.keep_history(history, true);
            return true;
        }
        if self.jobs.apply.is_some() {
            // its result is of the stack as it is now
            self.error = Some(format!(
                "{what}: wait until \"apply to full\" is done, or cancel it (status \
                 bar).\n\nNothing was changed."
            ));
            self.keep_history(history, false);
            return false;
        }
        if let Err(e) = self.check_memory(&steps) {
            self.error = Some(format!("{what}: {e}\n\nNothing was changed."));
            self.keep_history(history, false);
            return false;
        }
        let key = (self.gens.loaded, steps.timeline_crop);
        let p = &self.pipeline;
        let cached = (p.base_key == Some(key)).then(|| p.base.clone());
        let raw = p.raw.clone();
        let copy = self.copy_bytes(&steps);
        if copy > 0 && (raw.is_mapped() || copy > self.jobs.background_above) {
            let job_steps = steps.clone();
            let job = Job::spawn(what.to_string(), move |ctx| {
                build(&raw, &job_steps, cached, ctx)
            });
            self.jobs.rebuild = Some(RebuildJob {
                what: what.to_string(),
                steps,
                after,
                key,
                history,
                job,
            });
            self.status = format!("{what}: working (the stack shown stays until done)");
            return true;
        }
        match build(&raw, &steps, cached, &JobCtx::default()) {
            Ok((base, stack)) => {
                self.install(what, steps, key, base, stack, after);
                self.keep_history(history, true);
                true
            }
            Err(e) => {
                self.error = Some(format!("{what}: {e}\n\nNothing was changed."));
                self.keep_history(history, false);
                false
            }
        }
    }

    /// The undo history after a change that went in (`done`) or not.
    fn keep_history(&mut self, h: History, done: bool) {
        match (h, done) {
            (History::Record(u), true) => {
                self.undo.push(u);
                if self.undo.len() > UNDO_DEPTH {
                    self.undo.remove(0);
                }
            }
            (History::Undoing(u), false) => self.undo.push(u),
            _ => {}
        }
    }

    /// An error when the copies `steps` make do not fit in the RAM available.
    fn check_memory(&self, steps: &Pipeline) -> Result<(), ViewerError> {
        let copy = self.copy_bytes(steps);
        let ram = self.jobs.ram_available();
        if copy == 0 || ram == 0 || copy <= ram {
            return Ok(());
        }
        let hint = if self.pipeline.raw.is_mapped() {
            "Crop the timeline to fewer frames first, or load a selection of frames."
        } else {
            "Crop the timeline to fewer frames first, or reload with storage \"disk\" \
             (Load options), which maps the file instead of holding it in RAM."
        };
        Err(ViewerError::Refused(format!(
            "this change copies {} into RAM, more than the {} available. {hint}",
            human_bytes(copy),
            human_bytes(ram)
        )))
    }

    /// Bytes of RAM the pipeline `steps` copy the stack into (the timeline crop, the
    /// masks; a binary mask gives f32 samples, NaN where masked).
    fn copy_bytes(&self, steps: &Pipeline) -> u64 {
        let raw = &self.pipeline.raw;
        let sh = raw.shape();
        let frames = steps.timeline_crop.map_or(sh.frames, |c| c.len()) as u64;
        let samples = frames * sh.frame_len() as u64;
        let size = match &steps.applied {
            Some((_, s)) => s.dtype().size(),
            None => raw.dtype().size(),
        } as u64;
        let same_crop = self.pipeline.base_key == Some((self.gens.loaded, steps.timeline_crop));
        let mut bytes = if steps.timeline_crop.is_some() && !same_crop {
            samples * raw.dtype().size() as u64
        } else {
            0
        };
        if let Some(m) = steps.roi_mask {
            let (w, h) = (m.w.min(sh.width) as u64, m.h.min(sh.height) as u64);
            bytes += frames * w * h * sh.channels as u64 * size;
        }
        if steps.binary_mask.is_some() {
            bytes += samples * 4;
        }
        bytes
    }

    /// The new base and displayed stack are in: the state follows them.
    fn install(
        &mut self,
        what: &str,
        steps: Pipeline,
        key: (u64, Option<FrameRange>),
        base: Arc<Stack>,
        stack: Arc<Stack>,
        after: Option<After>,
    ) {
        let p = &mut self.pipeline;
        let old = p.stack.shape();
        let old_shown = p.steps.transforms.display_size(old.width, old.height);
        p.steps = steps;
        p.base_key = Some(key);
        p.base = base;
        p.stack = stack;
        self.invalidate(Change::Stack);
        let s = self.pipeline.stack.shape();
        let shown = self
            .pipeline
            .steps
            .transforms
            .display_size(s.width, s.height);
        if shown != old_shown {
            self.view.fit = true;
        }
        if (s.height, s.width) != (old.height, old.width) {
            self.profile.crosshair = Some((s.width / 2, s.height / 2));
            self.roi.region = None;
            self.roi.pins.clear();
        }
        let last = s.frames - 1;
        self.playback.frame = self.playback.frame.min(last);
        let p = &mut self.pipeline;
        p.selection = FrameRange::new(p.selection.first.min(last), p.selection.last.min(last));
        if let Some(a) = &mut p.aggregate {
            a.range = p.selection;
        }
        if let Some(a) = after {
            self.set_selection(a.selection.first, a.selection.last);
            self.set_frame(a.frame);
        }
        // a ROI that survived the change gets its series from the new stack
        if self.roi.region.is_some() {
            self.compute_roi();
        }
        self.status = what.to_string();
    }

    /// Takes a finished background rebuild.
    pub(super) fn poll_rebuild(&mut self) {
        let Some(r) = self.jobs.rebuild.as_mut().and_then(|j| j.job.poll()) else {
            return;
        };
        let Some(j) = self.jobs.rebuild.take() else {
            return;
        };
        if j.key.0 != self.gens.loaded {
            // of a stack loaded before the one shown
            return;
        }
        let secs = j.job.elapsed().as_secs_f64();
        match r {
            Ok((base, stack)) => {
                self.install(&j.what, j.steps, j.key, base, stack, j.after);
                self.keep_history(j.history, true);
                self.last_compute = format!("{}: {secs:.2} s in the background", j.what);
            }
            Err(e) => {
                self.keep_history(j.history, false);
                if e.is_cancelled() {
                    self.status = format!("{}: cancelled, nothing was changed", j.what);
                } else {
                    self.error = Some(format!("{}: {e}\n\nNothing was changed.", j.what));
                }
            }
        }
    }

    /// Stops a running rebuild; the stack shown stays as it is.
    pub fn cancel_rebuild(&mut self) {
        if let Some(j) = self.jobs.rebuild.take() {
            j.job.cancel();
            self.keep_history(j.history, false);
            self.status = format!("{}: cancelled, nothing was changed", j.what);
        }
    }
}
