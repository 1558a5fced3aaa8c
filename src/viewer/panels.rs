//! Analysis in the viewer: aggregate mode, the ops panel (preview and apply-to-full),
//! crosshair profiles with envelopes, ROI and pixel time series, transforms and masks,
//! export. The computations go through the same engine and `ops` functions as the CLI;
//! the UI parts only set state and draw.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use egui_plot::{FilledArea, Line, Plot, PlotPoints, VLine};

use crate::engine::{EngineKind, Ran};
use crate::export;
use crate::load::{self, LoadOptions};
use crate::ops::normalize::{Normalize, load_reference, read_reference};
use crate::ops::profile::{self, Envelope, Orientation, Profile};
use crate::ops::reduce::ReduceOp;
use crate::ops::roi::{Roi, Stat};
use crate::ops::{FrameRange, Image, OpError};
use crate::stack::Stack;

use super::analysis::{Aggregate, Pipeline, RoiMask, SourceKind, StepSpec, image_stack};
use super::app::{Tool, ViewerState};
use super::colormap::{DisplayParams, render_cpu};
use super::display::Placement;

/// An apply-to-full of the ops running in the background.
pub struct ApplyJob {
    pub started: Instant,
    pub normalize: Normalize,
    /// The loaded stack and timeline crop the ops run on; a result for another one is
    /// dropped.
    raw: Arc<Stack>,
    crop: Option<FrameRange>,
    handle: Option<JoinHandle<Result<(Stack, Ran), OpError>>>,
}

/// An aggregate computed on a thread.
pub struct ShownJob {
    what: String,
    /// What its image is of, for the levels fit (the range may have moved on since).
    key: String,
    started: Instant,
    /// The stack it reduces; a result for another one is dropped.
    stack: Arc<Stack>,
    handle: Option<JoinHandle<Result<(Image, EngineKind), OpError>>>,
}

/// What the export window writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// The shown frame through levels and colormap (png, tif, jpg, bmp).
    Frame,
    /// Frames first..=last of the displayed stack, rendered, as numbered files.
    Range,
    /// The displayed stack (or the aggregate image) as .npy or .tif data.
    Stack,
    /// The H and V profiles at the crosshair, CSV.
    Profiles,
    /// The ROI time series, CSV.
    Roi,
}

/// The export window.
pub struct ExportDialog {
    pub kind: ExportKind,
    pub path: String,
    pub first: usize,
    pub last: usize,
    /// Image type of a frame range: png, tif, jpg or bmp.
    pub ext: &'static str,
}

/// Both crosshair profiles of the shown image with the envelopes asked for.
pub struct Profiles {
    pub h: Profile,
    pub v: Profile,
    /// (name, row envelope, column envelope)
    pub envelopes: Vec<(&'static str, Envelope, Envelope)>,
}

/// Encodes RGBA rows as png/tif/bmp (RGBA) or jpg (RGB), written atomically.
pub fn write_rgba(path: &Path, rgba: &[u8], width: usize, height: usize) -> Result<(), String> {
    let ext = load::ext_of_path(path);
    let (format, rgb) = match ext.as_str() {
        "png" => (image::ImageFormat::Png, false),
        "tif" | "tiff" => (image::ImageFormat::Tiff, false),
        "bmp" => (image::ImageFormat::Bmp, false),
        "jpg" | "jpeg" => (image::ImageFormat::Jpeg, true),
        _ => {
            return Err(format!(
                "{}: unsupported image type '{ext}' (png, tif, jpg, bmp)",
                path.display()
            ));
        }
    };
    let (w, h) = (width as u32, height as u32);
    export::write_atomic(path, |out| {
        let r = if rgb {
            let rgb: Vec<u8> = rgba
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            image::write_buffer_with_format(out, &rgb, w, h, image::ExtendedColorType::Rgb8, format)
        } else {
            image::write_buffer_with_format(
                out,
                rgba,
                w,
                h,
                image::ExtendedColorType::Rgba8,
                format,
            )
        };
        r.map_err(|e| export::ExportError::Encode {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
    })
    .map_err(|e| e.to_string())
}

impl ViewerState {
    /// Applies a view set up on the command line.
    pub fn apply_setup(&mut self, v: &super::analysis::ViewSetup) {
        use crate::ops::normalize::Source;
        for (src, step) in [(&v.subtract, 0), (&v.divide, 1)] {
            if let Some(src) = src {
                if let Source::Range { range, .. } = src {
                    self.set_selection(range.first, range.last);
                }
                let spec = StepSpec::from_source(src);
                if step == 0 {
                    self.ops.subtract = spec;
                } else {
                    self.ops.divide = spec;
                }
                self.ops_generation += 1;
                self.shown_dirty = true;
            }
        }
        if v.apply {
            self.start_apply();
            self.wait_apply();
        }
        if let Some(a) = v.aggregate {
            let r = a
                .range
                .unwrap_or(FrameRange::all(self.stack.shape().frames));
            self.set_selection(r.first, r.last);
            self.agg_op = a.op;
            self.set_aggregate(true);
        }
        if let Some(c) = v.crosshair {
            self.crosshair = Some((c.x, c.y));
        }
        self.profile_width = v.width;
        if v.envelopes {
            self.env_image = true;
            self.env_band = true;
            self.env_dataset = true;
        }
        if let Some(r) = &v.roi {
            self.roi = Some(r.clone());
            self.compute_roi();
        }
        self.update_shown();
    }

    /// The image shown and its frame index: the aggregate or previewed image, else the
    /// current frame of the displayed stack.
    pub fn shown(&self) -> (&Stack, usize) {
        match &self.shown {
            Some(s) => (s, 0),
            None => (&self.stack, self.frame),
        }
    }

    /// Changes the pipeline with `f` and rebuilds the displayed stack; on an error (a
    /// mask of the wrong size, ...) the change is undone and the error shown.
    pub fn change_pipeline(&mut self, what: &str, f: impl FnOnce(&mut Pipeline)) -> bool {
        let old = self.pipeline.clone();
        f(&mut self.pipeline);
        match self.rebuild() {
            Ok(()) => {
                self.status = what.to_string();
                true
            }
            Err(e) => {
                self.pipeline = old;
                self.error = Some(format!("{what}: {e}\n\nNothing was changed."));
                false
            }
        }
    }

    /// Recomputes the base and displayed stacks from the raw one.
    pub fn rebuild(&mut self) -> Result<(), OpError> {
        // the cropped base is only cut again when the crop changed (it is what the GPU
        // keeps for aggregate mode)
        let key = (Arc::as_ptr(&self.raw) as usize, self.pipeline.timeline_crop);
        let base = if self.base_key == Some(key) {
            self.base.clone()
        } else {
            self.pipeline.base(&self.raw)?
        };
        self.base_key = Some(key);
        let stack = self.pipeline.finish(self.pipeline.processed(&base))?;
        let old = self.stack.shape();
        self.base = base;
        self.stack = stack;
        self.range_cache = None;
        self.env_cache = None;
        // an aggregate or preview of the old stack is not shown while the new one computes
        self.shown = None;
        self.shown_job = None;
        let s = self.stack.shape();
        if (s.height, s.width) != (old.height, old.width) {
            self.view.fit = true;
            self.crosshair = Some((s.width / 2, s.height / 2));
            self.roi = None;
            self.pins.clear();
        }
        let last = s.frames - 1;
        self.frame = self.frame.min(last);
        self.selection = FrameRange::new(
            self.selection.first.min(last),
            self.selection.last.min(last),
        );
        if let Some(a) = &mut self.aggregate {
            a.range = self.selection;
        }
        self.forget_histograms(true);
        self.roi_series = None;
        self.shown_dirty = true;
        self.upload_needed = true;
        // the levels refit once the shown image is recomputed from the new stack
        self.fitted_for = None;
        // a ROI that survived the change gets its series from the new stack
        if self.roi.is_some() {
            self.compute_roi();
        }
        Ok(())
    }

    /// Recomputes the aggregate or previewed image when its inputs changed. An aggregate
    /// of a stack over [`ViewerState::background_above`] bytes is computed on a thread
    /// (the window keeps drawing the last image meanwhile; the newest range wins).
    pub fn update_shown(&mut self) {
        self.poll_shown_job();
        if !self.shown_dirty {
            return;
        }
        let t0 = Instant::now();
        let processed = self.pipeline.processed(&self.base);
        let preview = match self.pipeline.applied {
            None => self.ops.normalize(self.selection),
            Some(_) => None,
        };
        let (what, result) = if let Some(a) = self.aggregate {
            let what = format!("{} of frames {}..={}", a.op, a.range.first, a.range.last);
            if processed.bytes() > self.background_above {
                if self.shown_job.is_none() {
                    self.shown_dirty = false;
                    let (engine, stack) = (self.engine.clone(), processed.clone());
                    let handle = std::thread::spawn(move || {
                        engine
                            .reduce_kept(&stack, a.op, a.range)
                            .map(|(img, ran)| (img, ran.engine))
                    });
                    self.shown_job = Some(ShownJob {
                        key: format!("aggregate {} {:?}", a.op, a.range),
                        what,
                        started: t0,
                        stack: processed,
                        handle: Some(handle),
                    });
                }
                // else: the running one finishes first, then the newest range starts
                return;
            }
            self.shown_dirty = false;
            // the GPU keeps the stack between calls: a moved range costs only the compute
            let r = self.engine.reduce_kept(&processed, a.op, a.range);
            (what, r.map(|(img, ran)| (img, ran.engine)))
        } else if let Some(n) = preview {
            self.shown_dirty = false;
            let what = format!("ops preview of frame {}", self.frame);
            let r = self
                .cached_ranges(n)
                .and_then(|n| n.preview(&self.base, self.frame));
            (what, r.map(|i| (i, EngineKind::Cpu)))
        } else {
            self.shown_dirty = false;
            self.shown = None;
            self.after_shown_change();
            return;
        };
        self.set_shown(&what, t0, result, None);
    }

    /// Takes a finished background aggregate: shown if it is of the current stack and
    /// aggregate mode is still on.
    fn poll_shown_job(&mut self) {
        let done = self
            .shown_job
            .as_ref()
            .is_some_and(|j| j.handle.as_ref().is_some_and(|h| h.is_finished()));
        if !done {
            return;
        }
        let mut job = self.shown_job.take().expect("checked above");
        let r = job.handle.take().expect("joined once").join();
        let current = Arc::ptr_eq(&job.stack, &self.pipeline.processed(&self.base));
        if self.aggregate.is_none() || !current {
            return;
        }
        let r = r.unwrap_or_else(|_| Err(OpError::Invalid("the reduce crashed".into())));
        self.set_shown(&job.what, job.started, r, Some(job.key));
    }

    /// Waits for a background aggregate (tests, scripts).
    pub fn wait_shown(&mut self) {
        while self.shown_job.is_some() || (self.shown_dirty && self.aggregate.is_some()) {
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
        result: Result<(Image, EngineKind), OpError>,
        key: Option<String>,
    ) {
        match result.and_then(|(img, engine)| {
            let s = self.pipeline.finish(Arc::new(image_stack(img)?))?;
            Ok((s, engine))
        }) {
            Ok((s, engine)) => {
                self.shown = Some(s);
                self.last_compute = format!(
                    "{what}: {engine}, {:.1} ms",
                    t0.elapsed().as_secs_f64() * 1e3
                );
            }
            Err(e) => {
                self.shown = None;
                self.error = Some(format!("{what}: {e}"));
                // the failing input is turned off so the error does not repeat every frame
                if self.aggregate.is_none() {
                    self.ops.subtract.kind = SourceKind::Off;
                    self.ops.divide.kind = SourceKind::Off;
                }
                self.aggregate = None;
            }
        }
        self.after_shown_change_as(key);
    }

    /// `n` with every Range reference replaced by its image, reduced once per (op,
    /// range) through the engine and cached, so scrubbing the preview does not reduce
    /// the range again for every frame (spec §3.2: cached per method and bounds).
    fn cached_ranges(&mut self, mut n: Normalize) -> Result<Normalize, OpError> {
        use crate::ops::normalize::Source;
        for step in [&mut n.subtract, &mut n.divide].into_iter().flatten() {
            if let Source::Range { op, range } = step.source {
                let hit = self.range_cache.as_ref().filter(|(k, _)| *k == (op, range));
                let img = match hit {
                    Some((_, img)) => img.clone(),
                    None => {
                        let (img, _) = self.engine.reduce(&self.base, op, range)?;
                        self.range_cache = Some(((op, range), img.clone()));
                        img
                    }
                };
                step.source = Source::File(img);
            }
        }
        Ok(n)
    }

    /// What the levels fit depends on: the stack, an aggregate op and range, or the ops
    /// of a preview (not the frame: a preview keeps its levels while scrubbing).
    fn fit_key(&self) -> String {
        match (&self.aggregate, &self.shown) {
            (Some(a), Some(_)) => format!("aggregate {} {:?}", a.op, a.range),
            (None, Some(_)) => format!("preview {}", self.ops_generation),
            _ => "stack".into(),
        }
    }

    fn after_shown_change(&mut self) {
        self.after_shown_change_as(None);
    }

    /// [`ViewerState::after_shown_change`] for an image of `key` (default: the current
    /// state): the levels refit when it differs from what they were fitted to.
    fn after_shown_change_as(&mut self, key: Option<String>) {
        self.env_cache = None;
        self.forget_histograms(false);
        self.upload_needed = true;
        let key = key.unwrap_or_else(|| self.fit_key());
        if self.keep_fitting && self.fitted_for.as_deref() != Some(key.as_str()) {
            self.fit_levels();
        }
        self.fitted_for = Some(key);
    }

    /// Aggregate mode on (over the timeline selection) or off (back to frames; the
    /// selection stays).
    pub fn set_aggregate(&mut self, on: bool) {
        self.aggregate = on.then_some(Aggregate {
            op: self.agg_op,
            range: self.selection,
            fixed_width: self.aggregate.is_some_and(|a| a.fixed_width),
        });
        self.shown_dirty = true;
    }

    /// Sets the selection (and the aggregate range), clamped to the stack.
    pub fn set_selection(&mut self, first: usize, last: usize) {
        let n = self.stack.shape().frames;
        let (a, b) = (first.min(n - 1), last.min(n - 1));
        let r = FrameRange::new(a.min(b), a.max(b));
        if r != self.selection {
            self.selection = r;
            if let Some(agg) = &mut self.aggregate {
                agg.range = r;
            }
            self.shown_dirty = true;
        }
    }

    /// Keeps frames `r` (of the displayed stack) only; undoable. Frame, selection and
    /// aggregate range follow the frames they showed.
    pub fn crop_timeline(&mut self, r: FrameRange) {
        let offset = self.pipeline.timeline_crop.map_or(0, |c| c.first);
        let abs = FrameRange::new(offset + r.first, offset + r.last);
        let frame = self.frame.clamp(r.first, r.last) - r.first;
        if self.change_pipeline(
            &format!("timeline cropped to frames {}..={}", abs.first, abs.last),
            |p| {
                p.timeline_crop = Some(abs);
                // ops applied to the old frames do not fit the new ones
                p.applied = None;
            },
        ) {
            self.set_selection(0, r.len() - 1);
            self.set_frame(frame);
        }
    }

    /// Back to every loaded frame; frame and selection keep pointing at the same frames.
    pub fn undo_timeline_crop(&mut self) {
        let Some(c) = self.pipeline.timeline_crop else {
            return;
        };
        let (frame, sel) = (self.frame + c.first, self.selection);
        if self.change_pipeline("timeline crop undone", |p| {
            p.timeline_crop = None;
            p.applied = None;
        }) {
            self.set_selection(sel.first + c.first, sel.last + c.first);
            self.set_frame(frame);
        }
    }

    /// Starts the ops on the whole base stack in the background.
    pub fn start_apply(&mut self) {
        let Some(n) = self.ops.normalize(self.selection) else {
            self.error = Some("apply to full: both ops steps are off".into());
            return;
        };
        let (engine, base, job_n) = (self.engine.clone(), self.base.clone(), n.clone());
        let handle = std::thread::spawn(move || engine.normalize(&base, &job_n));
        self.apply_job = Some(ApplyJob {
            started: Instant::now(),
            normalize: n,
            raw: self.raw.clone(),
            crop: self.pipeline.timeline_crop,
            handle: Some(handle),
        });
    }

    /// Takes the finished apply-to-full, if any.
    pub fn poll_apply(&mut self) {
        let done = self
            .apply_job
            .as_ref()
            .is_some_and(|j| j.handle.as_ref().is_some_and(|h| h.is_finished()));
        if !done {
            return;
        }
        let mut job = self.apply_job.take().unwrap();
        let r = job.handle.take().unwrap().join();
        let secs = job.started.elapsed().as_secs_f64();
        if !Arc::ptr_eq(&job.raw, &self.raw) || job.crop != self.pipeline.timeline_crop {
            self.status = "apply to full dropped: the stack changed while it ran".into();
            return;
        }
        match r {
            Ok(Ok((stack, ran))) => {
                let stack = Arc::new(stack);
                let frames = stack.shape().frames;
                if self.change_pipeline("ops applied to the full stack", |p| {
                    p.applied = Some((job.normalize, stack))
                }) {
                    self.last_compute = format!(
                        "ops applied to full: {} frames on {}, {secs:.2} s{}",
                        frames,
                        ran.engine,
                        ran.note.map(|n| format!(" ({n})")).unwrap_or_default()
                    );
                }
            }
            Ok(Err(e)) => self.error = Some(format!("apply to full: {e}")),
            Err(_) => self.error = Some("apply to full: the computation crashed".into()),
        }
    }

    /// Waits for a running apply-to-full (tests, scripts).
    pub fn wait_apply(&mut self) {
        while self.apply_job.is_some() {
            std::thread::sleep(std::time::Duration::from_millis(5));
            self.poll_apply();
        }
    }

    /// The ROI time series over every frame of the displayed stack, through the engine.
    pub fn compute_roi(&mut self) {
        let Some(roi) = self.roi.clone() else {
            self.roi_series = None;
            return;
        };
        let t0 = Instant::now();
        let all = FrameRange::all(self.stack.shape().frames);
        match self.engine.roi(&self.stack, &roi, self.roi_stat, all) {
            Ok((s, ran)) => {
                self.roi_series = Some(s);
                self.last_compute = format!(
                    "ROI {} over {} frames: {}, {:.1} ms",
                    self.roi_stat,
                    all.len(),
                    ran.engine,
                    t0.elapsed().as_secs_f64() * 1e3
                );
            }
            Err(e) => {
                self.roi_series = None;
                self.error = Some(format!("ROI: {e}"));
            }
        }
    }

    /// The crosshair profiles of the shown image, with the envelopes switched on.
    pub fn profiles(&mut self) -> Result<Option<Profiles>, OpError> {
        let Some((cx, cy)) = self.crosshair else {
            return Ok(None);
        };
        let (s, t) = self.shown();
        let sh = s.shape();
        let (cx, cy) = (cx.min(sh.width - 1), cy.min(sh.height - 1));
        let k = self.profile_width;
        let h = profile::profile(s, t, Orientation::Row, cy, k)?;
        let v = profile::profile(s, t, Orientation::Col, cx, k)?;
        let q = self.env_q;
        let mut envelopes = Vec::new();
        if self.env_image {
            envelopes.push((
                "min/max of the image",
                profile::image_envelope(s, t, Orientation::Row, q)?,
                profile::image_envelope(s, t, Orientation::Col, q)?,
            ));
        }
        if self.env_band {
            envelopes.push((
                "crosshair band",
                profile::band_envelope(s, t, Orientation::Row, cy, k, q)?,
                profile::band_envelope(s, t, Orientation::Col, cx, k, q)?,
            ));
        }
        // over every frame of what is shown (one frame in aggregate mode); a preview has
        // only the one processed frame, so its dataset envelope waits for apply-to-full
        let previewing = self.shown.is_some() && self.aggregate.is_none();
        // skipped while the crosshair is dragged (spec §4.2): it reads every frame
        if self.env_dataset && !previewing && !self.crosshair_dragged {
            // every frame is read: cached per stack, crosshair, width and q (spec §4.2)
            let d: Arc<Stack> = match &self.shown {
                Some(img) => img.clone(),
                None => self.stack.clone(),
            };
            let key = (Arc::as_ptr(&d) as usize, cx, cy, k, q);
            let hit = self.env_cache.as_ref().filter(|(kk, _, _)| *kk == key);
            let (row, col) = match hit {
                Some((_, r, c)) => (r.clone(), c.clone()),
                None => {
                    let r = self
                        .engine
                        .dataset_envelope(&d, Orientation::Row, cy, k, q)?
                        .0;
                    let c = self
                        .engine
                        .dataset_envelope(&d, Orientation::Col, cx, k, q)?
                        .0;
                    self.env_cache = Some((key, r.clone(), c.clone()));
                    (r, c)
                }
            };
            envelopes.push(("dataset", row, col));
        }
        Ok(Some(Profiles { h, v, envelopes }))
    }

    /// The shown frame through levels and colormap into `path` (png, tif, jpg, bmp).
    pub fn export_frame(&self, path: &Path) -> Result<(), String> {
        let (s, t) = self.shown();
        let sh = s.shape();
        write_rgba(path, &render_cpu(s, t, &self.display), sh.width, sh.height)
    }

    /// Frames `first..=last` of the displayed stack, rendered, as
    /// `frame_<i>.<ext>` in the folder `dir` (i zero-padded to max(3, digits of last)).
    pub fn export_range(
        &self,
        dir: &Path,
        ext: &str,
        first: usize,
        last: usize,
    ) -> Result<usize, String> {
        let r = FrameRange::new(first, last);
        r.check(self.stack.shape().frames)
            .map_err(|e| e.to_string())?;
        self.refuse_previewed_ops("a frame range")?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let digits = last.to_string().len().max(3);
        let sh = self.stack.shape();
        // every frame goes to a temporary file first; only when all are written do they
        // replace the files of the same names, so a failure leaves the folder as it was
        let pid = std::process::id();
        for t in first..=last {
            let dst = dir.join(format!("frame_{t:0digits$}.{ext}"));
            if dst.is_dir() {
                return Err(format!(
                    "{}: a folder is in the way (frame {t}); no frame file was changed",
                    dst.display()
                ));
            }
        }
        let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
        for t in first..=last {
            let name = format!("frame_{t:0digits$}.{ext}");
            let tmp = dir.join(format!(".{name}.part-{pid}.{ext}"));
            let res = write_rgba(
                &tmp,
                &render_cpu(&self.stack, t, &self.display),
                sh.width,
                sh.height,
            );
            if let Err(e) = res {
                for (tmp, _) in &written {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err(format!("{e} (frame {t}; no frame file was changed)"));
            }
            written.push((tmp, dir.join(name)));
        }
        for (i, (tmp, dst)) in written.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, dst) {
                for (tmp, _) in &written[i..] {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err(format!(
                    "{}: {e}; frames {first}..{} were written, the others not",
                    dst.display(),
                    first + i
                ));
            }
        }
        Ok(r.len())
    }

    /// The displayed stack (or the aggregate image) as data, .npy or .tif.
    pub fn export_stack(&self, path: &Path) -> Result<(), String> {
        if self.aggregate.is_none() {
            self.refuse_previewed_ops("the stack")?;
        }
        let s: &Stack = match (&self.aggregate, &self.shown) {
            (Some(_), Some(img)) => img,
            _ => &self.stack,
        };
        export::write_stack(path, s).map_err(|e| e.to_string())
    }

    /// An error when ops are previewed but not applied: only the shown frame holds them,
    /// and an export of `what` would silently be of the raw frames.
    fn refuse_previewed_ops(&self, what: &str) -> Result<(), String> {
        if self.pipeline.applied.is_none() && self.ops.normalize(self.selection).is_some() {
            return Err(format!(
                "the ops are previewed on the shown frame only; apply them to the full stack \
                 (Ops > Apply to full) before exporting {what}, or turn them off"
            ));
        }
        Ok(())
    }

    /// The H and V profiles (and envelopes) as CSV, in `blitz profile`'s layout with the
    /// prefixes `h_` and `v_`.
    pub fn export_profiles(&mut self, path: &Path) -> Result<(), String> {
        let p = self
            .profiles()
            .map_err(|e| e.to_string())?
            .ok_or("no crosshair")?;
        let stem = |name: &str| match name {
            "min/max of the image" => export::ENV_IMAGE,
            "crosshair band" => export::ENV_BAND,
            _ => export::ENV_DATASET,
        };
        let curve = |prefix, profile, row: bool| export::ProfileColumns {
            prefix,
            profile,
            envelopes: p
                .envelopes
                .iter()
                .map(|(name, eh, ev)| (stem(name), if row { eh } else { ev }))
                .collect(),
        };
        let curves = [curve("h_", &p.h, true), curve("v_", &p.v, false)];
        export::write_profiles_csv(path, &curves).map_err(|e| e.to_string())
    }

    /// The ROI time series as CSV, in `blitz roi`'s layout.
    pub fn export_roi(&self, path: &Path) -> Result<(), String> {
        let s = self.roi_series.as_ref().ok_or("no ROI drawn")?;
        export::write_roi_csv(path, s).map_err(|e| e.to_string())
    }

    /// The aggregate, ops and analysis settings (right panel).
    pub(super) fn analysis_panel(&mut self, ui: &mut egui::Ui) {
        let n = self.stack.shape().frames;
        egui::CollapsingHeader::new("Aggregate")
            .default_open(true)
            .show(ui, |ui| {
                let mut on = self.aggregate.is_some();
                ui.horizontal(|ui| {
                    if ui
                        .checkbox(&mut on, "show the reduce of the selection (A)")
                        .changed()
                    {
                        self.set_aggregate(on);
                    }
                });
                ui.horizontal(|ui| {
                    let mut op = self.agg_op;
                    egui::ComboBox::from_id_salt("agg op")
                        .selected_text(op.name())
                        .show_ui(ui, |ui| {
                            for o in ReduceOp::ALL {
                                ui.selectable_value(&mut op, o, o.name());
                            }
                        });
                    if op != self.agg_op {
                        self.agg_op = op;
                        if let Some(a) = &mut self.aggregate {
                            a.op = op;
                            self.shown_dirty = true;
                        }
                    }
                    if let Some(a) = &mut self.aggregate {
                        ui.checkbox(&mut a.fixed_width, "fixed width");
                    }
                });
                let (mut a, mut b) = (self.selection.first, self.selection.last);
                let fixed = self.aggregate.is_some_and(|a| a.fixed_width);
                let width = b - a;
                let max = n.saturating_sub(1);
                let ra = ui.add(egui::Slider::new(&mut a, 0..=max).text("start"));
                let rb = ui.add(egui::Slider::new(&mut b, 0..=max).text("end"));
                if ra.changed() || rb.changed() {
                    if fixed {
                        // the window keeps its width while either end is dragged
                        if ra.changed() {
                            a = a.min(max - width);
                            b = a + width;
                        } else {
                            b = b.max(width);
                            a = b - width;
                        }
                    }
                    self.set_selection(a, b);
                }
                ui.horizontal(|ui| {
                    if ui.button("Full range").clicked() {
                        self.set_selection(0, max);
                    }
                    if ui.button("Crop the timeline to it").clicked() {
                        let r = self.selection;
                        self.crop_timeline(r);
                    }
                });
                if let Some(c) = self.pipeline.timeline_crop
                    && ui
                        .button(format!("Undo the timeline crop ({}..={})", c.first, c.last))
                        .clicked()
                {
                    self.undo_timeline_crop();
                }
            });
        egui::CollapsingHeader::new("Ops: subtract, divide")
            .default_open(true)
            .show(ui, |ui| {
                let shape = self.base.shape();
                let opts = self.load_opts.clone();
                let before = self.ops.clone();
                let mut errors = Vec::new();
                for (label, step) in [
                    ("subtract", &mut self.ops.subtract),
                    ("divide", &mut self.ops.divide),
                ] {
                    if let Err(e) = step_ui(ui, label, step, shape, &opts) {
                        errors.push(e);
                    }
                }
                if let Some(e) = errors.pop() {
                    self.error = Some(e);
                }
                if self.ops != before {
                    self.shown_dirty = true;
                    self.ops_generation += 1;
                }
                ui.label(
                    egui::RichText::new(
                        "Range reduces the timeline selection; the shown frame is previewed.",
                    )
                    .small(),
                );
                ui.horizontal(|ui| {
                    let busy = self.apply_job.is_some();
                    if ui
                        .add_enabled(!busy, egui::Button::new("Apply to full"))
                        .clicked()
                    {
                        self.start_apply();
                    }
                    if let Some(j) = &self.apply_job {
                        ui.spinner();
                        ui.label(format!("{:.1} s", j.started.elapsed().as_secs_f64()));
                        if ui.button("Cancel").clicked() {
                            // the computation cannot be interrupted; its result is dropped
                            self.apply_job = None;
                            self.status = "apply to full cancelled".into();
                        }
                    }
                    if self.pipeline.applied.is_some() && ui.button("Undo (raw stack)").clicked() {
                        self.change_pipeline("ops undone: the raw stack is shown", |p| {
                            p.applied = None
                        });
                    }
                });
            });
        egui::CollapsingHeader::new("Profiles")
            .default_open(false)
            .show(ui, |ui| {
                let (h, w) = {
                    let s = self.shown().0.shape();
                    (s.height, s.width)
                };
                ui.add(
                    egui::Slider::new(&mut self.profile_width, 0..=(h.min(w) / 2).max(1))
                        .text("line width"),
                );
                ui.checkbox(&mut self.env_image, "min/max per image");
                ui.checkbox(&mut self.env_band, "per crosshair (band)");
                ui.checkbox(&mut self.env_dataset, "per position over the dataset")
                    .on_hover_text(
                        "over every frame shown; with ops previewed, after apply to full",
                    );
                ui.add(egui::Slider::new(&mut self.env_q, 0..=49).text("envelope percentile"));
            });
        egui::CollapsingHeader::new("ROI and pixel series")
            .default_open(false)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let mut stat = self.roi_stat;
                    ui.radio_value(&mut stat, Stat::Mean, "mean");
                    ui.radio_value(&mut stat, Stat::Median, "median");
                    if stat != self.roi_stat {
                        self.roi_stat = stat;
                        self.compute_roi();
                    }
                    ui.checkbox(&mut self.roi_bands, "min/max bands");
                });
                if ui.button("Clear ROI and pins").clicked() {
                    self.roi = None;
                    self.roi_series = None;
                    self.pins.clear();
                }
            });
    }

    /// The tool picker above the image.
    pub(super) fn tool_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("tool:");
            for (t, name, tip) in [
                (Tool::Navigate, "navigate", "drag pans, wheel zooms"),
                (
                    Tool::Crosshair,
                    "crosshair",
                    "click sets the profile crosshair",
                ),
                (Tool::Rect, "ROI rectangle", "drag draws the ROI"),
                (
                    Tool::Polygon,
                    "ROI polygon",
                    "click adds a vertex, double-click closes",
                ),
                (
                    Tool::Pin,
                    "pin pixel",
                    "click pins a pixel (up to 4); its time series is plotted",
                ),
            ] {
                ui.selectable_value(&mut self.tool, t, name)
                    .on_hover_text(tip);
            }
        });
    }

    /// Profile, ROI and pixel time-series plots (bottom panel).
    pub(super) fn plots(&mut self, ui: &mut egui::Ui) {
        self.profile_hover = None;
        let profiles = match self.profiles() {
            Ok(p) => p,
            Err(e) => {
                ui.label(format!("profiles: {e}"));
                None
            }
        };
        let probe = self.probe.as_ref().map(|p| (p.0, p.1));
        let (cx, cy) = self.crosshair.unwrap_or((0, 0));
        let h = ui.available_height().max(80.0);
        ui.columns(3, |cols| {
            let (c0, rest) = cols.split_at_mut(1);
            let (c1, c2) = rest.split_at_mut(1);
            if let Some(p) = &profiles {
                for (k, (ui, prof, name)) in [
                    (&mut c0[0], &p.h, "H profile"),
                    (&mut c1[0], &p.v, "V profile"),
                ]
                .into_iter()
                .enumerate()
                {
                    let resp = Plot::new(name)
                        .height(h)
                        .legend(legend())
                        .x_axis_label(if k == 0 { "x" } else { "y" })
                        .show(ui, |pui| {
                            for (ename, eh, ev) in &p.envelopes {
                                let e = if k == 0 { eh } else { ev };
                                let xs: Vec<f64> =
                                    (0..e.lo.len()).map(|i| i as f64 + 0.5).collect();
                                let lo: Vec<f64> = e.lo.iter().map(|&v| v as f64).collect();
                                let hi: Vec<f64> = e.hi.iter().map(|&v| v as f64).collect();
                                pui.add(
                                    FilledArea::new(*ename, &xs, &lo, &hi)
                                        .fill_color(envelope_colour(ename))
                                        .stroke(Stroke::new(
                                            1.0,
                                            envelope_colour(ename).gamma_multiply(2.5),
                                        )),
                                );
                            }
                            for c in 0..prof.channels {
                                let pts: PlotPoints = (0..prof.len())
                                    .map(|i| [i as f64 + 0.5, prof.get(i, c) as f64])
                                    .collect();
                                pui.line(
                                    Line::new(format!("{name} c{c}"), pts)
                                        .color(channel_colour(c, prof.channels))
                                        .width(1.8),
                                );
                            }
                            if let Some((px, py)) = probe {
                                pui.vline(VLine::new(
                                    "cursor",
                                    if k == 0 { px } else { py } as f64 + 0.5,
                                ));
                            }
                            pui.pointer_coordinate()
                        });
                    if let Some(pt) = resp.inner
                        && resp.response.hovered()
                        && pt.x >= 0.0
                    {
                        let i = pt.x as usize;
                        self.profile_hover = Some(if k == 0 { (i, cy) } else { (cx, i) });
                    }
                }
            }
            let ui = &mut c2[0];
            let frame = self.frame as f64;
            let pins: Vec<(usize, usize)> = self.pins.clone();
            let resp = Plot::new("time series")
                .height(h)
                .legend(legend())
                .x_axis_label("frame")
                .show(ui, |pui| {
                    if let Some(s) = &self.roi_series {
                        for c in 0..s.channels {
                            let xs: Vec<f64> = s.frames.iter().map(|&f| f as f64).collect();
                            let val: Vec<f64> =
                                (0..xs.len()).map(|i| s.value[s.at(i, c)] as f64).collect();
                            if self.roi_bands {
                                let lo: Vec<f64> =
                                    (0..xs.len()).map(|i| s.min[s.at(i, c)] as f64).collect();
                                let hi: Vec<f64> =
                                    (0..xs.len()).map(|i| s.max[s.at(i, c)] as f64).collect();
                                pui.add(
                                    FilledArea::new(format!("ROI min/max c{c}"), &xs, &lo, &hi)
                                        .fill_color(Color32::from_rgba_unmultiplied(
                                            255, 220, 0, 50,
                                        )),
                                );
                            }
                            let pts: PlotPoints =
                                xs.iter().zip(&val).map(|(x, y)| [*x, *y]).collect();
                            pui.line(
                                Line::new(format!("ROI {} c{c}", self.roi_stat), pts)
                                    .color(Color32::from_rgb(255, 220, 0)),
                            );
                        }
                    }
                    for (x, y) in pins.iter().copied().chain(probe) {
                        let n = self.stack.shape().frames;
                        let ch = self.stack.shape().channels;
                        let pts: PlotPoints = (0..n)
                            .map(|t| {
                                let v = (0..ch).map(|c| self.stack.value(t, y, x, c)).sum::<f32>()
                                    / ch as f32;
                                [t as f64, v as f64]
                            })
                            .collect();
                        pui.line(Line::new(format!("pixel ({x}, {y})"), pts));
                    }
                    pui.vline(VLine::new("frame", frame));
                    pui.pointer_coordinate()
                });
            if resp.response.clicked()
                && let Some(pt) = resp.inner
            {
                // clicking the time series jumps to that frame
                self.playing = false;
                self.set_frame(pt.x.round().max(0.0) as usize);
            }
        });
    }

    /// Transforms and masks (menu).
    pub(super) fn transforms_menu(&mut self, ui: &mut egui::Ui) {
        let t = self.pipeline.transforms;
        if ui.checkbox(&mut t.flip_x.clone(), "Flip x").clicked() {
            self.change_pipeline("flip x", |p| p.transforms.flip_x = !t.flip_x);
        }
        if ui.checkbox(&mut t.flip_y.clone(), "Flip y").clicked() {
            self.change_pipeline("flip y", |p| p.transforms.flip_y = !t.flip_y);
        }
        if ui
            .button(format!(
                "Rotate 90° clockwise (now {}°)",
                t.rot90 as u32 * 90
            ))
            .clicked()
        {
            self.change_pipeline("rotated 90° clockwise", |p| {
                p.transforms.rot90 = (t.rot90 + 1) % 4
            });
        }
        ui.separator();
        let rect = match &self.roi {
            Some(Roi::Rect { x, y, w, h }) => Some((*x, *y, *w, *h)),
            _ => None,
        };
        if ui
            .add_enabled(
                rect.is_some() && t.is_identity(),
                egui::Button::new("Crop to the ROI rectangle (mask)"),
            )
            .on_disabled_hover_text("draw a ROI rectangle first; not while rotated or flipped")
            .clicked()
            && let Some((x, y, w, h)) = rect
        {
            self.crop_to_rect(x, y, w, h);
        }
        let mut mask_path = self.mask_input.clone();
        ui.horizontal(|ui| {
            ui.label("binary mask");
            ui.add(
                egui::TextEdit::singleline(&mut mask_path)
                    .desired_width(180.0)
                    .hint_text("mask image path"),
            );
            if ui.button("Load").clicked() {
                self.load_mask(Path::new(&mask_path));
            }
        });
        self.mask_input = mask_path;
        if (self.pipeline.roi_mask.is_some()
            || self.pipeline.binary_mask.is_some()
            || !t.is_identity())
            && ui.button("Reset masks and transforms").clicked()
        {
            self.change_pipeline("masks and transforms reset", |p| {
                p.roi_mask = None;
                p.binary_mask = None;
                p.transforms = Default::default();
            });
        }
    }

    /// Masks the display to the rectangle (clamped to the current frame), nested in the
    /// mask already active (spec §5).
    pub fn crop_to_rect(&mut self, x: i64, y: i64, w: usize, h: usize) {
        let s = self.stack.shape();
        let (x0, y0) = (x.max(0), y.max(0));
        let x1 = (x + w as i64).min(s.width as i64);
        let y1 = (y + h as i64).min(s.height as i64);
        if x1 <= x0 || y1 <= y0 {
            self.error = Some("crop: the rectangle holds no pixel of the frame".into());
            return;
        }
        // nested masks: the new bounds are relative to the current slice
        let (ox, oy) = self
            .pipeline
            .roi_mask
            .map_or((0, 0), |m| (m.x.max(0), m.y.max(0)));
        self.change_pipeline("cropped to the ROI", |p| {
            p.roi_mask = Some(RoiMask {
                x: ox + x0,
                y: oy + y0,
                w: (x1 - x0) as usize,
                h: (y1 - y0) as usize,
            })
        });
    }

    /// Loads a one-frame binary mask of the processed frame size: zero pixels become NaN.
    pub fn load_mask(&mut self, path: &Path) {
        let s = self.pipeline.processed(&self.base).shape();
        // a mask loads as BLITZ loads it, with the default options; any channel count
        let img = read_reference(path, &LoadOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|img| {
                if (img.height, img.width) == (s.height, s.width) {
                    Ok(img)
                } else {
                    Err(format!(
                        "{}: {} x {} (H x W); the frames are {} x {}",
                        path.display(),
                        img.height,
                        img.width,
                        s.height,
                        s.width
                    ))
                }
            });
        match img {
            Ok(img) => match image_stack(img) {
                Ok(m) => {
                    let m = Arc::new(m);
                    let p = path.to_path_buf();
                    self.change_pipeline(&format!("binary mask {}", path.display()), |pl| {
                        pl.binary_mask = Some((p, m))
                    });
                }
                Err(e) => self.error = Some(format!("mask: {e}")),
            },
            Err(e) => self.error = Some(format!("mask: {e}")),
        }
    }

    /// Opens the export window for `kind` with a default path.
    pub(super) fn begin_export(&mut self, kind: ExportKind) {
        let dir = self
            .path
            .parent()
            .filter(|p| p.is_dir())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
        let name = match kind {
            ExportKind::Frame => format!("frame_{}.png", self.frame),
            ExportKind::Range => "frames".into(),
            ExportKind::Stack => "stack.npy".into(),
            ExportKind::Profiles => "profiles.csv".into(),
            ExportKind::Roi => "roi.csv".into(),
        };
        self.export = Some(ExportDialog {
            kind,
            path: dir.join(name).display().to_string(),
            first: self.selection.first,
            last: self.selection.last,
            ext: "png",
        });
    }

    /// Runs the export the window describes.
    pub fn run_export(&mut self, d: &ExportDialog) -> Result<String, String> {
        let p = PathBuf::from(&d.path);
        match d.kind {
            ExportKind::Frame => self
                .export_frame(&p)
                .map(|_| format!("frame written to {}", p.display())),
            ExportKind::Range => {
                let n = self.export_range(&p, d.ext, d.first, d.last)?;
                Ok(format!("{n} frames written to {}", p.display()))
            }
            ExportKind::Stack => self
                .export_stack(&p)
                .map(|_| format!("stack written to {}", p.display())),
            ExportKind::Profiles => self
                .export_profiles(&p)
                .map(|_| format!("profiles written to {}", p.display())),
            ExportKind::Roi => self
                .export_roi(&p)
                .map(|_| format!("ROI series written to {}", p.display())),
        }
    }

    pub(super) fn export_menu(&mut self, ui: &mut egui::Ui) {
        for (kind, label) in [
            (ExportKind::Frame, "Current frame as shown (png/tif/jpg)…"),
            (ExportKind::Range, "Frame range as numbered image files…"),
            (
                ExportKind::Stack,
                "Displayed stack or aggregate (.npy/.tif)…",
            ),
            (ExportKind::Profiles, "Profiles (CSV)…"),
            (ExportKind::Roi, "ROI time series (CSV)…"),
        ] {
            if ui.button(label).clicked() {
                self.begin_export(kind);
            }
        }
    }

    pub(super) fn export_window(&mut self, ctx: &egui::Context) {
        let Some(mut d) = self.export.take() else {
            return;
        };
        let mut keep = true;
        let mut run = false;
        egui::Window::new("Export")
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label(match d.kind {
                    ExportKind::Frame => "the shown frame through levels and colormap",
                    ExportKind::Range => {
                        "frames of the displayed stack, rendered, into this folder"
                    }
                    ExportKind::Stack => {
                        "the displayed stack (the aggregate image in aggregate mode)"
                    }
                    ExportKind::Profiles => "H and V profiles with envelopes",
                    ExportKind::Roi => "the ROI time series",
                });
                ui.add(egui::TextEdit::singleline(&mut d.path).desired_width(420.0));
                if d.kind == ExportKind::Range {
                    let max = self.stack.shape().frames - 1;
                    ui.add(egui::Slider::new(&mut d.first, 0..=max).text("first"));
                    ui.add(egui::Slider::new(&mut d.last, 0..=max).text("last"));
                    ui.horizontal(|ui| {
                        for ext in ["png", "tif", "jpg", "bmp"] {
                            ui.radio_value(&mut d.ext, ext, ext);
                        }
                    });
                }
                ui.horizontal(|ui| {
                    run = ui.button("Write").clicked();
                    if ui.button("Cancel").clicked() {
                        keep = false;
                    }
                });
            });
        if run {
            match self.run_export(&d) {
                Ok(msg) => {
                    self.status = msg;
                    keep = false;
                }
                // the window stays open so the path can be corrected
                Err(e) => self.error = Some(format!("export: {e}\n\nNothing was overwritten.")),
            }
        }
        if keep {
            self.export = Some(d);
        }
    }

    /// The image, its interactions (per tool) and overlays.
    pub(super) fn image_area(
        &mut self,
        ui: &mut egui::Ui,
        image: &mut dyn FnMut(&mut egui::Ui, Rect, Placement, DisplayParams),
    ) {
        let rect = ui.max_rect();
        let ppp = ui.ctx().pixels_per_point();
        if self.view.zoom < 0.0 {
            self.one_to_one(rect.size(), ppp);
        }
        if !ui.ctx().egui_wants_keyboard_input() {
            let (fit, one) =
                ui.input(|i| (i.key_pressed(egui::Key::F), i.key_pressed(egui::Key::Num1)));
            if fit {
                self.view.fit = true;
            }
            if one {
                self.one_to_one(rect.size(), ppp);
            }
        }
        if self.view.fit {
            self.fit_view(rect.size());
        }
        let resp = ui.allocate_rect(rect, Sense::click_and_drag());
        let (w, h) = {
            let s = self.shown().0.shape();
            (s.width, s.height)
        };
        let to_data = |p: Pos2, v: &super::app::View| (p - rect.min - v.offset) / v.zoom;
        let to_screen =
            |x: f32, y: f32, v: &super::app::View| rect.min + v.offset + Vec2::new(x, y) * v.zoom;
        let inside = |d: Vec2| d.x >= 0.0 && d.y >= 0.0 && (d.x as usize) < w && (d.y as usize) < h;
        match self.tool {
            Tool::Navigate => {
                if resp.dragged() {
                    self.view.offset += resp.drag_delta();
                    self.view.fit = false;
                }
                if resp.double_clicked() {
                    self.view.fit = true;
                }
            }
            Tool::Crosshair => {
                self.crosshair_dragged = resp.dragged();
                if (resp.clicked() || resp.dragged())
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    let d = to_data(p, &self.view);
                    if inside(d) {
                        self.crosshair = Some((d.x as usize, d.y as usize));
                    }
                }
            }
            Tool::Rect => {
                if let (Some(start), Some(p)) = (
                    ui.input(|i| i.pointer.press_origin()),
                    resp.interact_pointer_pos(),
                ) && resp.dragged()
                {
                    let (a, b) = (to_data(start, &self.view), to_data(p, &self.view));
                    if resp.drag_started() {
                        // a drag that starts inside the ROI moves it, elsewhere draws a new one
                        self.roi_drag_from = match &self.roi {
                            Some(r @ Roi::Rect { x, y, w, h })
                                if a.x >= *x as f32
                                    && a.y >= *y as f32
                                    && a.x < (*x + *w as i64) as f32
                                    && a.y < (*y + *h as i64) as f32 =>
                            {
                                Some(r.clone())
                            }
                            _ => None,
                        };
                    }
                    match &self.roi_drag_from {
                        Some(Roi::Rect { x, y, w, h }) => {
                            let d = b - a;
                            self.roi = Some(Roi::Rect {
                                x: x + d.x.round() as i64,
                                y: y + d.y.round() as i64,
                                w: *w,
                                h: *h,
                            });
                        }
                        _ => {
                            let (x0, y0) =
                                (a.x.min(b.x).floor().max(0.0), a.y.min(b.y).floor().max(0.0));
                            let (x1, y1) = (
                                a.x.max(b.x).ceil().min(w as f32),
                                a.y.max(b.y).ceil().min(h as f32),
                            );
                            if x1 > x0 && y1 > y0 {
                                self.roi = Some(Roi::Rect {
                                    x: x0 as i64,
                                    y: y0 as i64,
                                    w: (x1 - x0) as usize,
                                    h: (y1 - y0) as usize,
                                });
                            }
                        }
                    }
                }
                if resp.drag_stopped() {
                    self.roi_drag_from = None;
                    self.compute_roi();
                }
            }
            Tool::Polygon => {
                if resp.double_clicked() && self.polygon_draft.len() >= 3 {
                    self.roi = Some(Roi::Polygon(std::mem::take(&mut self.polygon_draft)));
                    self.compute_roi();
                } else if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    let d = to_data(p, &self.view);
                    self.polygon_draft.push((d.x, d.y));
                }
            }
            Tool::Pin => {
                if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    let d = to_data(p, &self.view);
                    if inside(d) {
                        if self.pins.len() == 4 {
                            self.pins.remove(0);
                        }
                        self.pins.push((d.x as usize, d.y as usize));
                    }
                }
                if resp.secondary_clicked() {
                    self.pins.clear();
                }
            }
        }
        self.probe = None;
        if let Some(pos) = resp.hover_pos() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.zoom_at(pos - rect.min, (scroll / 200.0).exp());
            }
            let d = to_data(pos, &self.view);
            if inside(d) {
                let (x, y) = (d.x as usize, d.y as usize);
                self.probe = Some((x, y, self.probe_text(x, y)));
            }
        }
        image(ui, rect, self.placement(rect.min, ppp), self.display);
        // overlays in screen space
        let painter = ui.painter_at(rect);
        let v = self.view;
        let z = v.zoom;
        if let Some((cx, cy)) = self.crosshair {
            let s = Stroke::new(1.0, Color32::from_rgba_unmultiplied(0, 255, 120, 160));
            let band = self.profile_width as f32;
            let yc = to_screen(0.0, cy as f32 + 0.5, &v).y;
            let xc = to_screen(cx as f32 + 0.5, 0.0, &v).x;
            painter.hline(rect.x_range(), yc, s);
            painter.vline(xc, rect.y_range(), s);
            if band > 0.0 {
                // the edges of the band the profiles average
                let s2 = Stroke::new(1.0, Color32::from_rgba_unmultiplied(0, 255, 120, 70));
                for d in [-band, band + 1.0] {
                    painter.hline(rect.x_range(), to_screen(0.0, cy as f32 + d, &v).y, s2);
                    painter.vline(to_screen(cx as f32 + d, 0.0, &v).x, rect.y_range(), s2);
                }
            }
        }
        let roi_stroke = Stroke::new(1.5, Color32::from_rgb(255, 220, 0));
        match &self.roi {
            Some(Roi::Rect { x, y, w, h }) => {
                let a = to_screen(*x as f32, *y as f32, &v);
                painter.rect_stroke(
                    Rect::from_min_size(a, Vec2::new(*w as f32, *h as f32) * z),
                    0.0,
                    roi_stroke,
                    egui::StrokeKind::Middle,
                );
            }
            Some(Roi::Polygon(pts)) => {
                let mut p: Vec<Pos2> = pts.iter().map(|&(x, y)| to_screen(x, y, &v)).collect();
                p.push(p[0]);
                painter.line(p, roi_stroke);
            }
            None => {}
        }
        if !self.polygon_draft.is_empty() {
            let p: Vec<Pos2> = self
                .polygon_draft
                .iter()
                .map(|&(x, y)| to_screen(x, y, &v))
                .collect();
            painter.line(p, Stroke::new(1.0, Color32::from_rgb(255, 160, 0)));
        }
        for (i, &(x, y)) in self.pins.iter().enumerate() {
            let c = to_screen(x as f32 + 0.5, y as f32 + 0.5, &v);
            painter.circle_stroke(c, 5.0, Stroke::new(2.0, Color32::from_rgb(255, 80, 200)));
            painter.text(
                c + Vec2::new(6.0, -6.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{}", i + 1),
                egui::FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
        if let Some((x, y)) = self.profile_hover {
            let c = to_screen(x as f32 + 0.5, y as f32 + 0.5, &v);
            painter.circle_stroke(c, 6.0, Stroke::new(2.0, Color32::WHITE));
        }
    }
}

/// Curve colours: white for gray data, red/green/blue per channel for colour.
fn channel_colour(c: usize, channels: usize) -> Color32 {
    match (channels, c % 3) {
        (1, _) => Color32::WHITE,
        (_, 0) => Color32::from_rgb(255, 110, 110),
        (_, 1) => Color32::from_rgb(110, 230, 110),
        _ => Color32::from_rgb(120, 160, 255),
    }
}

fn legend() -> egui_plot::Legend {
    egui_plot::Legend::default()
        .position(egui_plot::Corner::LeftTop)
        .background_alpha(0.4)
        .text_style(egui::TextStyle::Small)
}

/// Fill of an envelope in the profile plots.
fn envelope_colour(name: &str) -> Color32 {
    match name {
        "dataset" => Color32::from_rgba_unmultiplied(80, 140, 255, 40),
        "crosshair band" => Color32::from_rgba_unmultiplied(0, 220, 120, 50),
        _ => Color32::from_rgba_unmultiplied(200, 200, 200, 35),
    }
}

/// One ops step: source, op, window/lag or file, amount. Returns an error message when a
/// reference file was refused.
fn step_ui(
    ui: &mut egui::Ui,
    label: &str,
    step: &mut StepSpec,
    shape: crate::Shape,
    opts: &LoadOptions,
) -> Result<(), String> {
    let mut result = Ok(());
    ui.horizontal(|ui| {
        ui.label(label);
        egui::ComboBox::from_id_salt(format!("{label} source"))
            .selected_text(match step.kind {
                SourceKind::Off => "off",
                SourceKind::Range => "range",
                SourceKind::File => "file",
                SourceKind::Sliding => "sliding",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut step.kind, SourceKind::Off, "off");
                ui.selectable_value(&mut step.kind, SourceKind::Range, "range");
                ui.selectable_value(&mut step.kind, SourceKind::File, "file");
                ui.selectable_value(&mut step.kind, SourceKind::Sliding, "sliding");
            });
        if matches!(step.kind, SourceKind::Range | SourceKind::Sliding) {
            egui::ComboBox::from_id_salt(format!("{label} op"))
                .selected_text(step.op.name())
                .show_ui(ui, |ui| {
                    for o in ReduceOp::ALL {
                        ui.selectable_value(&mut step.op, o, o.name());
                    }
                });
        }
    });
    match step.kind {
        SourceKind::Sliding => {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut step.window)
                        .range(1..=shape.frames.max(1))
                        .prefix("window "),
                );
                // the window must fit after the lag: lag + window <= frames
                let max_lag = shape.frames.saturating_sub(step.window.max(1));
                ui.add(
                    egui::DragValue::new(&mut step.lag)
                        .range(0..=max_lag)
                        .prefix("lag "),
                );
            });
        }
        SourceKind::File => {
            ui.horizontal(|ui| {
                let text = &mut step.file_input;
                ui.add(
                    egui::TextEdit::singleline(text)
                        .desired_width(150.0)
                        .hint_text("reference image path"),
                );
                if ui.button("Load").clicked() {
                    match load_reference(Path::new(text.as_str()), opts, shape) {
                        Ok(img) => step.file = Some((PathBuf::from(text.as_str()), img)),
                        Err(e) => result = Err(format!("{label}: {e}")),
                    }
                }
            });
            if let Some((p, _)) = &step.file {
                ui.label(egui::RichText::new(format!("reference: {}", p.display())).small());
            }
        }
        _ => {}
    }
    if step.kind != SourceKind::Off {
        let mut pct = step.amount * 100.0;
        if ui
            .add(
                egui::Slider::new(&mut pct, 0.0..=100.0)
                    .suffix(" %")
                    .text("amount"),
            )
            .changed()
        {
            step.amount = pct / 100.0;
        }
    }
    result
}
