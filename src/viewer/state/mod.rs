//! The viewer's state: what is loaded and shown, the derived data and the background
//! jobs computing it, with the methods the UI calls. No widget lives here (the UI in
//! `viewer::ui` draws this state and calls its methods), so tests drive it directly.
//!
//! Sub-structs: [`PipelineState`] (stacks and set-up), [`DisplayState`] (levels and
//! histograms), [`View`] (zoom and pan), [`Playback`], [`ProfileState`], [`RoiState`],
//! [`Jobs`], [`Exports`], [`Files`] (open dialog and load plan). Changes of inputs go
//! through [`ViewerState::invalidate`] (`invalidate.rs`), the one place derived data is
//! dropped.

pub mod apply;
pub mod caption;
pub mod display;
pub mod edit;
pub mod exports;
pub mod files;
pub mod histogram;
pub mod interact;
pub mod invalidate;
pub mod job;
pub mod jobs;
pub mod kymo;
pub mod loader;
pub mod measure;
pub mod pca;
pub mod pipeline;
pub mod playback;
pub mod profiles;
pub mod provenance;
pub mod rebuild;
pub mod roi;
pub mod roiset;
pub mod settings;
pub mod setup;
pub mod shown;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use egui::Vec2;

use crate::engine::{Engine, EngineChoice};
use crate::gpu::{GpuDevice, GpuError};
use crate::load::{LoadOptions, human_bytes};
use crate::stack::Stack;
use crate::viewer::display::Placement;

pub use display::{DisplayState, HistScope, Trim};
pub use edit::SelectionEnd;
pub use exports::{ExportDialog, ExportKind, Exports};
pub use interact::{Command, Tool};
pub use invalidate::{Change, Generations};
pub use job::{Job, JobCtx, JobStatus};
pub use jobs::{JobKind, Jobs};
pub use loader::{LoadJob, Loaded};
pub use pipeline::PipelineState;
pub use playback::Playback;
pub use profiles::{ProfileState, Profiles};
pub use roi::RoiState;
pub use setup::ViewSetup;
pub use view::View;

/// The engine the viewer computes with, and the window's GPU device it may use.
pub struct Compute {
    pub engine: Arc<Engine>,
    /// "name (backend, type)" of the window's adapter.
    pub adapter: String,
    /// The device the window draws with, for switching the engine to it.
    pub gpu: Option<GpuDevice>,
    pub choice: EngineChoice,
}

/// The open dialog and the load panel's plan.
#[derive(Default)]
pub struct Files {
    pub open: Option<files::OpenDialog>,
    pub plan: files::LoadPlan,
    /// The cache directory typed in the load panel (empty: the default one).
    pub cache_dir_input: String,
    /// The load crop typed in the load panel, `X,Y,W,H` (empty: none).
    pub crop_input: String,
}

/// State of the viewer window.
pub struct ViewerState {
    pub pipeline: PipelineState,
    pub display: DisplayState,
    pub view: View,
    pub playback: Playback,
    pub profile: ProfileState,
    pub roi: RoiState,
    pub roi_set: roiset::RoiSet,
    pub pca: pca::PcaState,
    pub lines: kymo::LineState,
    pub jobs: Jobs,
    pub exports: Exports,
    pub files: Files,
    pub compute: Compute,
    pub gens: Generations,
    /// The path of the stack shown.
    pub path: PathBuf,
    /// The load panel's options (used by the next load).
    pub load_opts: LoadOptions,
    pub tool: Tool,
    /// Data pixel under the cursor and its values.
    pub probe: Option<(usize, usize, String)>,
    /// Path typed for a binary mask.
    pub mask_input: String,
    /// An error to show until dismissed.
    pub error: Option<String>,
    /// The status bar's message.
    pub status: String,
    /// Engine and time of the last computation, for the status bar.
    pub last_compute: String,
    pub show_help: bool,
    /// The side and bottom panels are hidden (Tab): the image takes the window.
    pub panels_hidden: bool,
    /// The panels' sizes as last dragged (kept in the settings; the next start opens
    /// them so).
    pub panel_sizes: settings::PanelSizes,
    /// Increases at each reset of the settings: the panels start again at their
    /// default sizes.
    pub layout_generation: u64,
    /// Frame and view set-up for the first stack, once it has loaded in the background.
    pub pending_setup: Option<(usize, ViewSetup)>,
    /// The changes Ctrl+Z takes back, oldest first.
    pub undo: Vec<rebuild::UndoStep>,
    /// Pixel size and frame interval of the dataset.
    pub calibration: crate::calibration::Calibration,
    /// The measure tool's segment.
    pub measure: Option<measure::Measure>,
    /// The calibration as typed in its panel.
    pub calibration_input: measure::CalibrationInput,
    /// The settings file and what it held at the last save (None: not kept, as in
    /// scripted runs and tests).
    pub settings: Option<(PathBuf, settings::Settings)>,
}

impl ViewerState {
    /// A viewer showing `loaded`, computing with `engine` on adapter `adapter`.
    pub fn new(
        loaded: Loaded,
        load_opts: LoadOptions,
        engine: Arc<Engine>,
        adapter: String,
    ) -> Self {
        let empty = Arc::new(
            Stack::from_vec(crate::Shape::new(1, 1, 1, 1), vec![0u8]).expect("one sample"),
        );
        let mut s = ViewerState {
            pipeline: PipelineState::new(empty),
            display: DisplayState::default(),
            view: View::default(),
            playback: Playback::default(),
            profile: ProfileState::default(),
            roi: RoiState::default(),
            roi_set: roiset::RoiSet::default(),
            pca: pca::PcaState::default(),
            lines: kymo::LineState::default(),
            jobs: Jobs::default(),
            exports: Exports::default(),
            files: Files::default(),
            compute: Compute {
                engine,
                adapter,
                gpu: None,
                choice: EngineChoice::Auto,
            },
            gens: Generations::default(),
            path: PathBuf::new(),
            load_opts,
            tool: Tool::Navigate,
            probe: None,
            mask_input: String::new(),
            error: None,
            status: String::new(),
            last_compute: String::new(),
            show_help: false,
            panels_hidden: false,
            panel_sizes: Default::default(),
            layout_generation: 0,
            pending_setup: None,
            undo: Vec::new(),
            calibration: Default::default(),
            measure: None,
            calibration_input: Default::default(),
            settings: None,
        };
        if let Some(d) = &s.load_opts.cache_dir {
            s.files.cache_dir_input = d.display().to_string();
        }
        if let Some(c) = &s.load_opts.crop {
            s.files.crop_input = c.to_string();
        }
        s.set_loaded(loaded);
        s
    }

    /// Replaces the stack with a newly loaded one; its levels are fitted (spec §6: once
    /// per loaded dataset, and again on every change while keep-fitting is on).
    pub fn set_loaded(&mut self, loaded: Loaded) {
        let shape = loaded.stack.shape();
        let status = format!(
            "loaded {} ({} frames, {}{}) in {:.2} s",
            loaded.path.display(),
            shape.frames,
            human_bytes(loaded.stack.bytes()),
            if loaded.stack.is_mapped() {
                ", mapped"
            } else {
                ""
            },
            loaded.seconds
        );
        self.gens.loaded += 1;
        // the ops and the aggregate op stay; references of the old stack's shape do not
        let mut ops = std::mem::take(&mut self.pipeline.ops);
        ops.subtract.file = None;
        ops.divide.file = None;
        let agg_op = self.pipeline.agg_op;
        self.pipeline = PipelineState::new(Arc::new(loaded.stack));
        self.pipeline.ops = ops;
        self.pipeline.agg_op = agg_op;
        self.invalidate(Change::Stack);
        self.status = status;
        self.profile.crosshair = Some((shape.width / 2, shape.height / 2));
        self.roi.region = None;
        self.roi.pins.clear();
        self.measure = None;
        // the steps taken on the old stack do not apply to the new one, nor does a
        // rebuild of it still running
        self.undo.clear();
        if let Some(j) = self.jobs.rebuild.take() {
            j.job.cancel();
        }
        self.path = loaded.path;
        if let Some(h) = loaded.histogram {
            self.set_stack_histogram(h);
        }
        self.playback.frame = 0;
        self.playback.playing = false;
        self.playback.set_source_rate(self.source_rate());
        self.view.fit = true;
        self.probe = None;
        // every newly loaded dataset is fitted once, keep-fitting or not (spec §6)
        self.fit_levels();
        self.display.fitted_for = Some(self.fit_key());
        // its own calibration, if one was kept
        self.settings_after_load();
    }

    /// Switches the engine (the window's GPU device, or the CPU) and recomputes.
    pub fn set_engine(&mut self, choice: EngineChoice) {
        let device = self
            .compute
            .gpu
            .clone()
            .ok_or_else(|| GpuError::NoAdapter("the window has no GPU device".into()));
        self.compute.engine = Arc::new(Engine::with_device(device, choice));
        self.compute.choice = choice;
        self.invalidate(Change::Engine);
        self.status = format!("engine: {}", self.compute.engine.describe());
    }

    /// Shows frame `t` (clamped).
    pub fn set_frame(&mut self, t: usize) {
        let t = t.min(self.pipeline.stack.shape().frames - 1);
        if t != self.playback.frame {
            self.playback.frame = t;
            self.invalidate(Change::Frame);
        }
    }

    /// Advances the frame while playing, at `fps`, looping or stopping at the end.
    pub fn tick(&mut self, now: Instant) {
        let n = self.pipeline.stack.shape().frames;
        if let Some(t) = self.playback.advance(now, n) {
            self.set_frame(t);
        }
    }

    /// Starts loading `path` in the background with the panel's options.
    pub fn open(&mut self, path: &Path) {
        if let Some(job) = &self.jobs.load {
            job.cancel();
        }
        self.error = None;
        // a set-up from the command line was for the first path, not this one
        self.pending_setup = None;
        let engine = self.compute.engine.clone();
        self.jobs.load = Some(LoadJob::start(path, self.load_opts.clone(), engine));
    }

    /// Takes the finished background load, if any: a new stack, or an error shown in the
    /// window while the stack that was loaded stays.
    pub fn poll_load(&mut self) {
        let Some(result) = self.jobs.load.as_mut().and_then(|j| j.poll()) else {
            return;
        };
        let path = self.jobs.load.take().map(|j| j.path).unwrap_or_default();
        match result {
            Ok(loaded) => {
                self.set_loaded(loaded);
                if let Some((frame, setup)) = self.pending_setup.take() {
                    self.set_frame(frame);
                    self.apply_setup(&setup);
                }
            }
            Err(e) => {
                self.pending_setup = None;
                if e.is_cancelled() {
                    self.status = format!(
                        "loading {} cancelled; the stack shown stays",
                        path.display()
                    );
                } else {
                    // the loader's message names the file; the terminal gets it too
                    let e = crate::report::report(&e);
                    eprintln!("blitz: could not load: {e}");
                    self.error = Some(format!(
                        "Could not load:\n{e}\n\nThe stack shown stays loaded."
                    ));
                }
            }
        }
    }

    /// The image shown and its frame index: the aggregate or previewed image, else the
    /// current frame of the displayed stack.
    pub fn shown(&self) -> (&Stack, usize) {
        self.pipeline.shown_at(self.playback.frame)
    }

    /// Width and height of the shown image.
    pub fn shown_size(&self) -> (usize, usize) {
        let s = self.shown().0.shape();
        (s.width, s.height)
    }

    /// Width and height of the shown image as it is shown (turned by the orientation).
    pub fn display_size(&self) -> (usize, usize) {
        let (w, h) = self.shown_size();
        self.pipeline.steps.transforms.display_size(w, h)
    }

    /// Data position (pixels of the shown image, fractional) under the point `at` of the
    /// image area (points, from its top-left): through zoom and pan, then the orientation.
    pub fn area_to_data(&self, at: Vec2) -> Vec2 {
        let d = self.view.to_data(at);
        let (w, h) = self.shown_size();
        let (x, y) = self.pipeline.steps.transforms.to_data(d.x, d.y, w, h);
        Vec2::new(x, y)
    }

    /// The point of the image area (points, from its top-left) where data position (x, y)
    /// is shown.
    pub fn data_to_area(&self, x: f32, y: f32) -> Vec2 {
        let (w, h) = self.shown_size();
        let (dx, dy) = self.pipeline.steps.transforms.to_display(x, y, w, h);
        self.view.to_area(dx, dy)
    }

    /// The data pixel at data position (x, y), None outside the shown image.
    pub fn pixel_at(&self, x: f32, y: f32) -> Option<(usize, usize)> {
        let (w, h) = self.shown_size();
        (x >= 0.0 && y >= 0.0 && (x as usize) < w && (y as usize) < h)
            .then_some((x as usize, y as usize))
    }

    /// The pointer is over data position (x, y) (None: off the image): the probe reads
    /// the values there.
    pub fn hover_at(&mut self, at: Option<(f32, f32)>) {
        self.probe = at
            .and_then(|(x, y)| self.pixel_at(x, y))
            .map(|(x, y)| (x, y, self.probe_text(x, y)));
    }

    /// Zoom and pan that fit the shown image into `area` (points), centred.
    pub fn fit_view(&mut self, area: Vec2) {
        let (w, h) = self.display_size();
        self.view.fit_to(area, w, h);
    }

    /// One data pixel per physical screen pixel, centred on the area's centre.
    pub fn one_to_one(&mut self, area: Vec2, pixels_per_point: f32) {
        let (w, h) = self.display_size();
        self.view.one_to_one(area, w, h, pixels_per_point);
    }

    /// Zooms by `factor` keeping the data under `at` (relative to the area) in place.
    pub fn zoom_at(&mut self, at: Vec2, factor: f32) {
        self.view.zoom_at(at, factor);
    }

    /// Placement of the frame in physical pixels for an image area at `area_min`.
    pub fn placement(&self, area_min: Vec2, pixels_per_point: f32) -> Placement {
        self.view
            .placement(area_min, pixels_per_point, self.pipeline.steps.transforms)
    }

    /// Lays the image out in an area of `area` points: the pending fit or 1:1 zoom.
    pub fn layout_view(&mut self, area: Vec2, pixels_per_point: f32) {
        if self.view.one_to_one_pending {
            self.one_to_one(area, pixels_per_point);
        }
        if self.view.fit {
            self.fit_view(area);
        }
        let z = std::mem::replace(&mut self.view.pending_zoom, 1.0);
        if z != 1.0 {
            self.view.zoom_at(area / 2.0, z);
        }
    }
}
