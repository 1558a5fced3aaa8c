//! The viewer's state and its egui interface: everything but the window and the GPU
//! objects, so tests can drive it directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use egui::{Color32, Key, Pos2, Rect, Sense, Stroke, Vec2};

use crate::engine::Engine;
use crate::load::human_bytes;
use crate::load::{self, LoadOptions};
use crate::ops::FrameRange;
use crate::ops::histogram::{Histogram, Levels, auto_levels, symmetric};
use crate::stack::Stack;

use crate::ops::reduce::ReduceOp;
use crate::ops::roi::{Roi, RoiSeries, Stat};

use super::analysis::{Aggregate, OpsSpec, Pipeline};
use super::colormap::{Colormap, DisplayParams};
use super::display::Placement;
use super::loader::{LoadJob, Loaded};

/// Trim of the automatic levels fit (spec §6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    None,
    One,
    Two,
    Custom(f32),
}

impl Trim {
    pub fn percent(self) -> f32 {
        match self {
            Trim::None => 0.0,
            Trim::One => 1.0,
            Trim::Two => 2.0,
            Trim::Custom(q) => q.clamp(0.0, 49.0),
        }
    }
}

/// Which histogram the levels panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistScope {
    Frame,
    Stack,
}

/// Zoom and pan of the image: `offset` is where data pixel (0, 0) lies relative to the
/// top-left corner of the image area, in points; `zoom` is points per data pixel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub offset: Vec2,
    pub zoom: f32,
    /// Refit to the area on every frame until the user zooms or pans.
    pub fit: bool,
}

/// The open-file dialog: a folder listing and a path field.
pub struct OpenDialog {
    pub dir: PathBuf,
    pub input: String,
}

/// Dataset envelopes kept between frames: key (stack, x, y, width, q), row and column.
pub type EnvelopeCache = (
    (usize, usize, usize, usize, u32),
    crate::ops::profile::Envelope,
    crate::ops::profile::Envelope,
);

/// What a click or drag on the image does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Drag pans, wheel zooms.
    Navigate,
    /// Click sets the crosshair of the profiles.
    Crosshair,
    /// Drag draws the ROI rectangle.
    Rect,
    /// Clicks add polygon vertices; double-click closes it.
    Polygon,
    /// Click pins a pixel whose time series is plotted.
    Pin,
}

/// State of the viewer window.
pub struct ViewerState {
    /// The stack as loaded.
    pub raw: Arc<Stack>,
    /// `raw` after the timeline crop: what ops and reduce work on.
    pub base: Arc<Stack>,
    /// The loaded stack and crop `base` was cut from.
    pub base_key: Option<(usize, Option<FrameRange>)>,
    /// The displayed stack: base, ops applied to full, masks and transforms.
    pub stack: Arc<Stack>,
    pub pipeline: Pipeline,
    /// The ops panel; previewed on the shown frame until applied to full.
    pub ops: OpsSpec,
    /// Aggregate mode when set: a reduced image replaces the frame.
    pub aggregate: Option<Aggregate>,
    /// The timeline selection (aggregate range and Range reference), kept across modes.
    pub selection: FrameRange,
    pub agg_op: ReduceOp,
    /// The aggregate or previewed image (one frame, masks and transforms applied).
    pub shown: Option<Arc<Stack>>,
    /// `shown` must be recomputed (frame, ops or aggregate changed).
    pub shown_dirty: bool,
    /// The last Range reference reduced for the ops preview.
    pub range_cache: Option<((ReduceOp, FrameRange), crate::ops::Image)>,
    /// Engine and time of the last computation, for the status bar.
    pub last_compute: String,
    pub apply_job: Option<super::panels::ApplyJob>,
    /// An aggregate being computed in the background.
    pub shown_job: Option<super::panels::ShownJob>,
    /// Aggregates of stacks over this many bytes are computed off the UI thread.
    pub background_above: u64,
    pub tool: Tool,
    /// Crosshair of the profiles (x, y) in the shown image.
    pub crosshair: Option<(usize, usize)>,
    pub profile_width: usize,
    pub env_image: bool,
    pub env_band: bool,
    pub env_dataset: bool,
    pub env_q: u32,
    /// The last dataset envelopes: (stack, x, y, width, q) and the row and column ones.
    pub env_cache: Option<EnvelopeCache>,
    /// The crosshair is being dragged (the dataset envelope waits).
    pub crosshair_dragged: bool,
    /// Position hovered in a profile plot, marked on the image.
    pub profile_hover: Option<(usize, usize)>,
    pub roi: Option<Roi>,
    pub polygon_draft: Vec<(f32, f32)>,
    /// The ROI as it was when a drag that moves it began.
    pub roi_drag_from: Option<Roi>,
    pub roi_stat: Stat,
    pub roi_bands: bool,
    pub roi_series: Option<RoiSeries>,
    pub pins: Vec<(usize, usize)>,
    pub export: Option<super::panels::ExportDialog>,
    /// What the levels were last fitted to (the stack, an aggregate, a preview); None
    /// refits at the next recomputation while keep-fitting is on.
    pub fitted_for: Option<String>,
    /// Counts changes of the ops panel (a new preview gets its own levels).
    pub ops_generation: u64,
    /// Path typed for a binary mask.
    pub mask_input: String,
    pub path: PathBuf,
    pub frame: usize,
    /// The frame on the GPU differs from `frame` (or the stack changed).
    pub upload_needed: bool,
    pub display: DisplayParams,
    pub auto_colormap: bool,
    pub keep_fitting: bool,
    pub trim: Trim,
    pub scope: HistScope,
    pub log_hist: bool,
    stack_hist: Option<Histogram>,
    frame_hist: Option<(usize, Histogram)>,
    pub playing: bool,
    pub fps: f32,
    pub looping: bool,
    play_clock: Option<(Instant, usize)>,
    pub view: View,
    /// Data pixel under the cursor and its values.
    pub probe: Option<(usize, usize, String)>,
    pub load_opts: LoadOptions,
    /// Path the load-options panel plans for, and its plan or the reason it fails.
    plan_for: Option<(PathBuf, String)>,
    plan_text: String,
    pub job: Option<LoadJob>,
    pub error: Option<String>,
    pub status: String,
    pub open_dialog: Option<OpenDialog>,
    pub show_help: bool,
    pub engine: Arc<Engine>,
    pub adapter: String,
    /// The device the window draws with, for switching the engine to it.
    pub gpu: Option<crate::gpu::GpuDevice>,
    pub engine_choice: crate::engine::EngineChoice,
    /// Frame and view set-up for the first stack, once it has loaded in the background.
    pub pending_setup: Option<(usize, super::analysis::ViewSetup)>,
}

/// Keys and what they do, for the help overlay.
pub const KEYS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("Left / Right", "previous / next frame"),
    ("Home / End", "first / last frame"),
    ("F", "fit the image to the window"),
    ("1", "one screen pixel per data pixel"),
    ("Ctrl+C", "copy the probe (x, y, values)"),
    ("Ctrl+O", "open a file or folder"),
    ("A", "aggregate mode on / off"),
    ("Esc", "back to the navigate tool"),
    ("F1", "this help"),
];

impl ViewerState {
    /// A viewer showing `loaded`, computing with `engine` on adapter `adapter`.
    pub fn new(
        loaded: Loaded,
        load_opts: LoadOptions,
        engine: Arc<Engine>,
        adapter: String,
    ) -> Self {
        let empty = Arc::new(Stack::from_vec(crate::Shape::new(1, 1, 1, 1), vec![0u8]).unwrap());
        let mut s = ViewerState {
            raw: empty.clone(),
            base: empty.clone(),
            base_key: None,
            stack: empty,
            pipeline: Pipeline::default(),
            ops: OpsSpec::default(),
            aggregate: None,
            selection: FrameRange::new(0, 0),
            agg_op: ReduceOp::Mean,
            shown: None,
            shown_dirty: false,
            range_cache: None,
            last_compute: String::new(),
            apply_job: None,
            shown_job: None,
            background_above: 256 << 20,
            tool: Tool::Navigate,
            crosshair: None,
            profile_width: 0,
            env_image: false,
            env_band: false,
            env_dataset: false,
            env_q: 0,
            env_cache: None,
            crosshair_dragged: false,
            profile_hover: None,
            roi: None,
            polygon_draft: Vec::new(),
            roi_drag_from: None,
            roi_stat: Stat::Mean,
            roi_bands: true,
            roi_series: None,
            pins: Vec::new(),
            export: None,
            fitted_for: None,
            ops_generation: 0,
            mask_input: String::new(),
            path: PathBuf::new(),
            frame: 0,
            upload_needed: true,
            display: DisplayParams {
                levels: Levels { min: 0.0, max: 1.0 },
                gamma: 1.0,
                colormap: Colormap::Plasma,
            },
            auto_colormap: true,
            keep_fitting: true,
            trim: Trim::None,
            scope: HistScope::Stack,
            log_hist: true,
            stack_hist: None,
            frame_hist: None,
            playing: false,
            fps: 25.0,
            looping: true,
            play_clock: None,
            view: View {
                offset: Vec2::ZERO,
                zoom: 1.0,
                fit: true,
            },
            probe: None,
            load_opts,
            plan_for: None,
            plan_text: String::new(),
            job: None,
            error: None,
            status: String::new(),
            open_dialog: None,
            show_help: false,
            engine,
            adapter,
            gpu: None,
            engine_choice: crate::engine::EngineChoice::Auto,
            pending_setup: None,
        };
        s.set_loaded(loaded);
        s
    }

    /// Replaces the stack with a newly loaded one; its levels are fitted (spec §6: once
    /// per loaded dataset, and again on every change while keep-fitting is on).
    pub fn set_loaded(&mut self, loaded: Loaded) {
        let shape = loaded.stack.shape();
        self.status = format!(
            "loaded {} ({} frames, {}) in {:.2} s",
            loaded.path.display(),
            shape.frames,
            human_bytes(loaded.stack.bytes()),
            loaded.seconds
        );
        let raw = Arc::new(loaded.stack);
        self.raw = raw.clone();
        self.base_key = None;
        // an apply-to-full or aggregate of the old stack is of no use any more
        self.apply_job = None;
        self.shown_job = None;
        self.range_cache = None;
        self.env_cache = None;
        self.base = raw.clone();
        self.stack = raw;
        self.pipeline = Pipeline::default();
        self.aggregate = None;
        self.shown = None;
        self.shown_dirty = true;
        self.selection = FrameRange::new(0, shape.frames - 1);
        self.crosshair = Some((shape.width / 2, shape.height / 2));
        self.roi = None;
        self.roi_series = None;
        self.pins.clear();
        self.ops.subtract.file = None;
        self.ops.divide.file = None;
        self.path = loaded.path;
        self.stack_hist = loaded.histogram;
        self.frame_hist = None;
        self.frame = 0;
        self.upload_needed = true;
        self.view.fit = true;
        self.probe = None;
        self.playing = false;
        // every newly loaded dataset is fitted once, keep-fitting or not (spec §6)
        self.fit_levels();
    }

    /// The histogram of all frames, computed once per stack.
    pub fn stack_histogram(&mut self) -> Option<&Histogram> {
        if self.stack_hist.is_none() {
            let all = FrameRange::all(self.stack.shape().frames);
            self.stack_hist = self
                .engine
                .histogram(&self.stack, all, None)
                .ok()
                .map(|(h, _)| h);
        }
        self.stack_hist.as_ref()
    }

    /// Forgets the cached histograms (the displayed stack or the shown image changed).
    pub fn forget_histograms(&mut self, stack_too: bool) {
        self.frame_hist = None;
        if stack_too {
            self.stack_hist = None;
        }
    }

    fn frame_histogram(&mut self) -> Option<&Histogram> {
        let t = self.frame;
        if self.frame_hist.as_ref().is_none_or(|(f, _)| *f != t) {
            let (s, i) = self.shown();
            let h = self.engine.histogram(s, FrameRange::new(i, i), None).ok();
            self.frame_hist = h.map(|(h, _)| (t, h));
        }
        self.frame_hist.as_ref().map(|(_, h)| h)
    }

    /// Fits the levels to the whole stack with the current trim; with auto colormap on, a
    /// gray stack straddling zero gets symmetric levels and the diverging map, any other
    /// gray stack plasma (spec §6).
    pub fn fit_levels(&mut self) {
        let trim = self.trim.percent();
        // an aggregate or previewed image has its own range (a std, a difference)
        let hist = if self.shown.is_some() {
            self.frame_histogram()
        } else {
            self.stack_histogram()
        };
        let Some(levels) = hist.map(|h| auto_levels(h, trim)) else {
            return;
        };
        self.display.levels = levels;
        if self.auto_colormap && self.stack.shape().channels == 1 {
            match symmetric(levels) {
                Some(sym) => {
                    self.display.levels = sym;
                    self.display.colormap = Colormap::Diverging;
                }
                None => self.display.colormap = Colormap::Plasma,
            }
        }
    }

    /// Switches the engine (the window's GPU device, or the CPU) and recomputes.
    pub fn set_engine(&mut self, choice: crate::engine::EngineChoice) {
        let device = self
            .gpu
            .clone()
            .ok_or_else(|| crate::gpu::GpuError::NoAdapter("the window has no GPU device".into()));
        self.engine = Arc::new(Engine::with_device(device, choice));
        self.engine_choice = choice;
        self.shown_dirty = true;
        self.status = format!("engine: {}", self.engine.describe());
    }

    /// Shows frame `t` (clamped).
    pub fn set_frame(&mut self, t: usize) {
        let t = t.min(self.stack.shape().frames - 1);
        if t != self.frame {
            self.frame = t;
            // an aggregate image does not depend on the frame; a frame or preview does
            if self.aggregate.is_none() {
                self.upload_needed = true;
                self.shown_dirty = true;
            }
        }
    }

    /// Starts loading `path` in the background with the panel's options.
    pub fn open(&mut self, path: &Path) {
        if let Some(job) = &self.job {
            job.progress.cancel();
        }
        self.error = None;
        // a set-up from the command line was for the first path, not this one
        self.pending_setup = None;
        self.job = Some(LoadJob::start(
            path,
            self.load_opts.clone(),
            self.engine.clone(),
        ));
    }

    /// Takes the finished background load, if any: a new stack, or an error shown in the
    /// window while the stack that was loaded stays.
    pub fn poll_job(&mut self) {
        let Some(result) = self.job.as_mut().and_then(|j| j.poll()) else {
            return;
        };
        let path = self.job.take().map(|j| j.path).unwrap_or_default();
        if result.is_err() {
            self.pending_setup = None;
        }
        match result {
            Ok(loaded) => {
                self.set_loaded(loaded);
                if let Some((frame, setup)) = self.pending_setup.take() {
                    self.set_frame(frame);
                    self.apply_setup(&setup);
                }
            }
            Err(e) if e == "cancelled" || e.contains("cancelled") => {
                self.status = format!(
                    "loading {} cancelled; the stack shown stays",
                    path.display()
                )
            }
            Err(e) => {
                // the loader's message names the file; the terminal gets it too
                eprintln!("blitz: could not load: {e}");
                self.error = Some(format!(
                    "Could not load:\n{e}\n\nThe stack shown stays loaded."
                ))
            }
        }
    }

    /// Advances the frame while playing, at `fps`, looping or stopping at the end.
    pub fn tick(&mut self, now: Instant) {
        if !self.playing {
            self.play_clock = None;
            return;
        }
        let (start, first) = *self.play_clock.get_or_insert((now, self.frame));
        let n = self.stack.shape().frames;
        let steps = ((now - start).as_secs_f32() * self.fps.max(0.1)) as usize;
        let mut t = first + steps;
        if t >= n {
            if self.looping {
                t %= n;
            } else {
                t = n - 1;
                self.playing = false;
            }
        }
        self.set_frame(t);
    }

    /// The raw value(s) at data pixel (x, y) of the shown frame, with the dtype.
    pub fn probe_text(&self, x: usize, y: usize) -> String {
        let (stack, t) = self.shown();
        let vals: Vec<String> = (0..stack.shape().channels)
            .map(|c| {
                let v = stack.value(t, y, x, c);
                match stack.dtype() {
                    crate::Dtype::F32 => format!("{v}"),
                    _ => format!("{}", v as i64),
                }
            })
            .collect();
        format!(
            "x {x}  y {y}  {} ({})",
            vals.join(", "),
            stack.dtype().name()
        )
    }

    /// Zoom and pan that fit the frame into `area` (points), centred.
    pub fn fit_view(&mut self, area: Vec2) {
        let s = self.shown().0.shape();
        let zoom = (area.x / s.width as f32)
            .min(area.y / s.height as f32)
            .max(1e-3);
        let size = Vec2::new(s.width as f32, s.height as f32) * zoom;
        self.view = View {
            offset: (area - size) / 2.0,
            zoom,
            fit: true,
        };
    }

    /// One data pixel per physical screen pixel, centred on the area's centre.
    pub fn one_to_one(&mut self, area: Vec2, pixels_per_point: f32) {
        let s = self.shown().0.shape();
        let zoom = 1.0 / pixels_per_point;
        let size = Vec2::new(s.width as f32, s.height as f32) * zoom;
        self.view = View {
            offset: ((area - size) / 2.0).round(),
            zoom,
            fit: false,
        };
    }

    /// Zooms by `factor` keeping the data under `at` (relative to the area) in place.
    pub fn zoom_at(&mut self, at: Vec2, factor: f32) {
        let zoom = (self.view.zoom * factor).clamp(1e-3, 256.0);
        let f = zoom / self.view.zoom;
        self.view.offset = at - (at - self.view.offset) * f;
        self.view.zoom = zoom;
        self.view.fit = false;
    }

    /// Placement of the frame in physical pixels for an image area at `area_min`.
    pub fn placement(&self, area_min: Pos2, pixels_per_point: f32) -> Placement {
        let o = (area_min.to_vec2() + self.view.offset) * pixels_per_point;
        Placement {
            origin: [o.x, o.y],
            zoom: self.view.zoom * pixels_per_point,
        }
    }

    /// Re-plans the load-options estimate when the path or options changed.
    fn update_plan(&mut self, path: &Path) {
        let key = (path.to_path_buf(), format!("{:?}", self.load_opts));
        if self.plan_for.as_ref() == Some(&key) {
            return;
        }
        self.plan_text = match load::plan(path, &self.load_opts) {
            Ok(p) => {
                let s = p.shape;
                let mut t = format!(
                    "{} x {} x {} x {} {} = {} of {} available",
                    s.frames,
                    s.height,
                    s.width,
                    s.channels,
                    p.dtype.name(),
                    human_bytes(p.bytes()),
                    human_bytes(load::available_ram_bytes()),
                );
                if p.mapped {
                    t.push_str("\nmapped from the file, not copied");
                }
                match p.guard.describe() {
                    Some(g) => t.push_str(&format!("\nmemory guard: {g}")),
                    None => t.push_str(&format!(
                        "\nwithin the budget of {}",
                        human_bytes(p.guard.budget_bytes)
                    )),
                }
                t
            }
            Err(e) => format!("cannot load: {e}"),
        };
        self.plan_for = Some(key);
    }

    /// Draws the whole interface; `image` draws the frame into the given rectangle.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        image: &mut dyn FnMut(&mut egui::Ui, Rect, Placement, DisplayParams),
    ) {
        self.poll_job();
        self.poll_apply();
        self.tick(Instant::now());
        self.keys(ui);
        self.update_shown();
        self.menu(ui);
        self.timeline(ui);
        egui::Panel::left("load")
            .resizable(true)
            .default_size(250.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.load_panel(ui);
                    ui.separator();
                    self.info_panel(ui);
                });
            });
        egui::Panel::right("levels")
            .resizable(true)
            .default_size(290.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.levels_panel(ui);
                    ui.separator();
                    self.analysis_panel(ui);
                });
            });
        egui::Panel::bottom("plots")
            .resizable(true)
            .default_size(190.0)
            .show(ui, |ui| self.plots(ui));
        egui::Panel::top("tools").show(ui, |ui| self.tool_bar(ui));
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE.fill(Color32::from_gray(24)))
            .show(ui, |ui| self.image_area(ui, image));
        self.dialogs(ui);
        let ctx = ui.ctx().clone();
        self.export_window(&ctx);
        // a change made by a panel this frame is computed before the next one
        self.update_shown();
        if self.playing
            || self.job.is_some()
            || self.apply_job.is_some()
            || self.shown_job.is_some()
        {
            ui.ctx().request_repaint();
        }
    }

    fn keys(&mut self, ui: &mut egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let n = self.stack.shape().frames;
        let (agg, esc) = ui.input(|i| (i.key_pressed(Key::A), i.key_pressed(Key::Escape)));
        if agg {
            self.set_aggregate(self.aggregate.is_none());
        }
        if esc {
            self.tool = Tool::Navigate;
            self.polygon_draft.clear();
        }
        let (space, left, right, home, end, copy, open, help) = ui.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::Home),
                i.key_pressed(Key::End),
                i.events.iter().any(|e| matches!(e, egui::Event::Copy)),
                i.modifiers.command && i.key_pressed(Key::O),
                i.key_pressed(Key::F1),
            )
        });
        if space {
            self.playing = !self.playing;
        }
        if left {
            self.set_frame(self.frame.saturating_sub(1));
        }
        if right {
            self.set_frame((self.frame + 1).min(n - 1));
        }
        if home {
            self.set_frame(0);
        }
        if end {
            self.set_frame(n - 1);
        }
        if copy && let Some((_, _, text)) = &self.probe {
            ui.ctx().copy_text(text.clone());
            self.status = format!("copied: {text}");
        }
        if open {
            self.open_dialog_at(&self.path.clone());
        }
        if help {
            self.show_help = !self.show_help;
        }
    }

    fn open_dialog_at(&mut self, path: &Path) {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent()
                .filter(|p| p.is_dir())
                .map(Path::to_path_buf)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_else(|| PathBuf::from("/"))
        };
        self.open_dialog = Some(OpenDialog {
            input: dir.display().to_string(),
            dir,
        });
    }

    fn menu(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    if ui.button("Open file or folder…  (Ctrl+O)").clicked() {
                        self.open_dialog_at(&self.path.clone());
                    }
                    if ui.button("Reload with the load options").clicked() {
                        let p = self.path.clone();
                        self.open(&p);
                    }
                    if ui.button("Open the demo stack").clicked() {
                        self.open(Path::new("demo"));
                    }
                    ui.separator();
                    if ui.button("Quit").clicked() {
                        ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                });
                ui.menu_button("View", |ui| {
                    if ui.button("Fit to window  (F)").clicked() {
                        self.view.fit = true;
                    }
                    if ui.button("1:1  (1)").clicked() {
                        self.view.zoom = -1.0; // resolved in image_area
                        self.view.fit = false;
                    }
                });
                ui.menu_button("Transforms", |ui| self.transforms_menu(ui));
                ui.menu_button("Export", |ui| self.export_menu(ui));
                if ui.button("Help (F1)").clicked() {
                    self.show_help = !self.show_help;
                }
            });
        });
    }

    fn timeline(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("timeline").show(ui, |ui| {
            ui.add_space(4.0);
            let n = self.stack.shape().frames;
            ui.horizontal(|ui| {
                let label = if self.playing { "Pause" } else { "Play" };
                if ui.button(label).clicked() {
                    self.playing = !self.playing;
                }
                if ui
                    .button("|<")
                    .on_hover_text("first frame (Home)")
                    .clicked()
                {
                    self.set_frame(0);
                }
                if ui
                    .button("<")
                    .on_hover_text("previous frame (Left)")
                    .clicked()
                {
                    self.set_frame(self.frame.saturating_sub(1));
                }
                if ui.button(">").on_hover_text("next frame (Right)").clicked() {
                    self.set_frame(self.frame + 1);
                }
                if ui.button(">|").on_hover_text("last frame (End)").clicked() {
                    self.set_frame(n - 1);
                }
                let mut t = self.frame;
                let w = (ui.available_width() - 260.0).max(100.0);
                ui.spacing_mut().slider_width = w;
                if ui
                    .add(egui::Slider::new(&mut t, 0..=n.saturating_sub(1)).text("frame"))
                    .changed()
                {
                    self.playing = false;
                    self.set_frame(t);
                }
                ui.add(
                    egui::DragValue::new(&mut self.fps)
                        .range(0.1..=1000.0)
                        .suffix(" fps"),
                );
                ui.checkbox(&mut self.looping, "loop");
            });
            ui.horizontal(|ui| match &self.job {
                Some(job) => {
                    let (text, frac) = job.progress.status();
                    let bar = egui::ProgressBar::new(frac.unwrap_or(0.0))
                        .text(format!("loading {}: {text}", job.path.display()))
                        .desired_width(ui.available_width() - 90.0);
                    ui.add(bar);
                    if ui.button("Cancel").clicked() {
                        job.progress.cancel();
                    }
                }
                None => {
                    let probe = self.probe.as_ref().map_or("", |p| p.2.as_str());
                    ui.monospace(format!("{probe:<48}"));
                    ui.separator();
                    ui.label(&self.status);
                }
            });
            ui.add_space(2.0);
        });
    }

    fn load_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Load options");
        let o = &mut self.load_opts;
        ui.checkbox(&mut o.grayscale, "grayscale");
        ui.checkbox(&mut o.to_8bit, "8-bit");
        ui.checkbox(&mut o.normalize, "normalize each image");
        ui.add(egui::Slider::new(&mut o.size_ratio, 0.05..=1.0).text("size ratio"));
        let mut step = o.step.unwrap_or(1);
        if ui
            .add(egui::Slider::new(&mut step, 1..=100).text("step"))
            .changed()
        {
            o.step = (step > 1).then_some(step);
        }
        ui.add(egui::Slider::new(&mut o.subset_ratio, 0.01..=1.0).text("subset ratio"));
        ui.horizontal(|ui| {
            let mut first = o.first.unwrap_or(0);
            ui.label("frames");
            if ui
                .add(egui::DragValue::new(&mut first).prefix("from "))
                .changed()
            {
                o.first = (first > 0).then_some(first);
            }
            let mut last = o.last.map_or(-1, |v| v as i64);
            if ui
                .add(
                    egui::DragValue::new(&mut last)
                        .range(-1..=i64::MAX)
                        .prefix("to "),
                )
                .on_hover_text("-1: to the end")
                .changed()
            {
                o.last = (last >= 0).then_some(last as usize);
            }
        });
        let mut ram = o.max_ram_gib.unwrap_or(0.0);
        if ui
            .add(
                egui::DragValue::new(&mut ram)
                    .range(0.0..=4096.0)
                    .speed(0.1)
                    .prefix("max RAM ")
                    .custom_formatter(|v, _| {
                        if v == 0.0 {
                            "auto".into()
                        } else {
                            format!("{v:.1} GiB")
                        }
                    }),
            )
            .on_hover_text("0: half of the available RAM")
            .changed()
        {
            o.max_ram_gib = (ram > 0.0).then_some(ram);
        }
        let path = self
            .open_dialog
            .as_ref()
            .map(|d| PathBuf::from(&d.input))
            .unwrap_or_else(|| self.path.clone());
        self.update_plan(&path);
        ui.label(egui::RichText::new(format!("{}:", path.display())).small());
        ui.label(egui::RichText::new(&self.plan_text).small());
        if ui.button("Reload with these options").clicked() {
            self.open(&path);
        }
    }

    fn info_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Info");
        let s = self.stack.shape();
        let src = self.stack.source.clone();
        egui::Grid::new("info").num_columns(2).show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.label(k);
                ui.label(v);
                ui.end_row();
            };
            row(
                "shape",
                format!("{} x {} x {} x {}", s.frames, s.height, s.width, s.channels),
            );
            row("dtype", self.stack.dtype().name().to_string());
            row(
                "memory",
                format!(
                    "{}{}",
                    human_bytes(self.stack.bytes()),
                    if self.stack.is_mapped() {
                        " (mapped)"
                    } else {
                        ""
                    }
                ),
            );
            row("source", format!("{} ({})", src.path, src.kind));
            row("GPU", self.adapter.clone());
            row("engine", self.engine.describe());
        });
        ui.horizontal(|ui| {
            use crate::engine::EngineChoice as E;
            ui.label("compute on");
            let mut c = self.engine_choice;
            ui.radio_value(&mut c, E::Auto, "auto");
            ui.radio_value(&mut c, E::Cpu, "cpu");
            ui.radio_value(&mut c, E::Gpu, "gpu");
            if c != self.engine_choice {
                self.set_engine(c);
            }
        });
        for n in &src.notes {
            ui.label(egui::RichText::new(n).small());
        }
        if let Some(f) = &self.engine.fallback {
            ui.label(egui::RichText::new(f).small());
        }
    }

    fn levels_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Histogram and levels");
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.scope, HistScope::Stack, "stack");
            ui.radio_value(&mut self.scope, HistScope::Frame, "frame / image");
            ui.checkbox(&mut self.log_hist, "log");
        });
        let levels = self.display.levels;
        let log = self.log_hist;
        // an aggregate or previewed image is what the levels apply to: its histogram
        let hist = match self.scope {
            HistScope::Stack if self.shown.is_none() => self.stack_histogram().cloned(),
            _ => self.frame_histogram().cloned(),
        };
        let mut new_levels = levels;
        if let Some(h) = &hist {
            histogram_plot(ui, h, log, &mut new_levels);
        }
        let (mut lo, mut hi) = (new_levels.min, new_levels.max);
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut lo)
                    .speed(drag_speed(levels))
                    .prefix("min "),
            );
            ui.add(
                egui::DragValue::new(&mut hi)
                    .speed(drag_speed(levels))
                    .prefix("max "),
            );
        });
        if (lo, hi) != (levels.min, levels.max) {
            // swapped if min > max (spec §6)
            let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
            self.display.levels = Levels::fitted(a, b);
        }
        ui.horizontal(|ui| {
            ui.label("auto-fit trim");
            let mut trim = self.trim;
            egui::ComboBox::from_id_salt("trim")
                .selected_text(match trim {
                    Trim::Custom(_) => "custom".to_string(),
                    t => format!("{} %", t.percent()),
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut trim, Trim::None, "0 %");
                    ui.selectable_value(&mut trim, Trim::One, "1 %");
                    ui.selectable_value(&mut trim, Trim::Two, "2 %");
                    ui.selectable_value(&mut trim, Trim::Custom(5.0), "custom");
                });
            if let Trim::Custom(q) = &mut trim {
                ui.add(egui::DragValue::new(q).range(0.0..=49.0).suffix(" %"));
            }
            if trim != self.trim {
                self.trim = trim;
                if self.keep_fitting {
                    self.fit_levels();
                }
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Fit now").clicked() {
                self.fit_levels();
            }
            ui.checkbox(&mut self.keep_fitting, "keep fitting");
        });
        ui.separator();
        ui.horizontal(|ui| {
            let mut cm = self.display.colormap;
            egui::ComboBox::from_label("colormap")
                .selected_text(cm.name())
                .show_ui(ui, |ui| {
                    for c in Colormap::ALL {
                        ui.selectable_value(&mut cm, c, c.name());
                    }
                });
            if cm != self.display.colormap {
                self.display.colormap = cm;
                // choosing a colormap turns the automatic one off (spec §6)
                self.auto_colormap = false;
            }
        });
        if ui
            .checkbox(&mut self.auto_colormap, "auto colormap")
            .changed()
            && self.auto_colormap
        {
            self.fit_levels();
        }
        ui.add(
            egui::Slider::new(&mut self.display.gamma, 0.1..=5.0)
                .logarithmic(true)
                .text("gamma"),
        );
        if self.stack.shape().channels > 1 {
            ui.label(
                egui::RichText::new("colour stack: the levels apply to every channel, no colormap")
                    .small(),
            );
        }
    }

    fn dialogs(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if let Some(err) = self.error.clone() {
            egui::Window::new("Error")
                .collapsible(false)
                .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
                .show(&ctx, |ui| {
                    ui.colored_label(Color32::from_rgb(255, 120, 120), err);
                    if ui.button("OK").clicked() {
                        self.error = None;
                    }
                });
        }
        if self.show_help {
            egui::Window::new("Keys")
                .collapsible(false)
                .show(&ctx, |ui| {
                    egui::Grid::new("keys").show(ui, |ui| {
                        for (k, what) in KEYS {
                            ui.monospace(*k);
                            ui.label(*what);
                            ui.end_row();
                        }
                    });
                    ui.label("Wheel: zoom at the cursor. Drag: pan. Double-click: fit.");
                    ui.label("Drop a file or folder on the window to open it.");
                    if ui.button("Close").clicked() {
                        self.show_help = false;
                    }
                });
        }
        let mut chosen = None;
        let mut close = false;
        if let Some(d) = &mut self.open_dialog {
            egui::Window::new("Open a file or folder")
                .collapsible(false)
                .default_size([520.0, 420.0])
                .show(&ctx, |ui| {
                    ui.horizontal(|ui| {
                        let r =
                            ui.add(egui::TextEdit::singleline(&mut d.input).desired_width(380.0));
                        if r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                            let p = PathBuf::from(&d.input);
                            if p.is_dir() {
                                d.dir = p;
                            } else {
                                chosen = Some(p);
                            }
                        }
                        if ui.button("Open").clicked() {
                            chosen = Some(PathBuf::from(&d.input));
                        }
                        if ui.button("Cancel").clicked() {
                            close = true;
                        }
                    });
                    ui.label(
                        egui::RichText::new(
                            "A folder opens as an image sequence; double-click enters it.",
                        )
                        .small(),
                    );
                    egui::ScrollArea::vertical()
                        .max_height(320.0)
                        .show(ui, |ui| {
                            if let Some(parent) = d.dir.parent()
                                && ui.selectable_label(false, "[..]").double_clicked()
                            {
                                d.dir = parent.to_path_buf();
                                d.input = d.dir.display().to_string();
                            }
                            let mut entries: Vec<_> = std::fs::read_dir(&d.dir)
                                .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                                .unwrap_or_default();
                            entries.sort_by(|a: &PathBuf, b| {
                                natord::compare(&a.display().to_string(), &b.display().to_string())
                            });
                            for p in entries {
                                let name = p
                                    .file_name()
                                    .map(|n| n.to_string_lossy().to_string())
                                    .unwrap_or_default();
                                let is_dir = p.is_dir();
                                let label = if is_dir { format!("[{name}]") } else { name };
                                let selected = d.input == p.display().to_string();
                                let r = ui.selectable_label(selected, label);
                                if r.clicked() {
                                    d.input = p.display().to_string();
                                }
                                if r.double_clicked() {
                                    if is_dir {
                                        d.dir = p.clone();
                                        d.input = p.display().to_string();
                                    } else {
                                        chosen = Some(p.clone());
                                    }
                                }
                            }
                        });
                });
        }
        if let Some(p) = chosen {
            self.open_dialog = None;
            self.open(&p);
        } else if close {
            self.open_dialog = None;
        }
    }
}

fn drag_speed(l: Levels) -> f64 {
    ((l.max - l.min).abs() as f64 / 500.0).max(1e-6)
}

/// The histogram as bars, with the min/max levels as lines that can be dragged.
fn histogram_plot(ui: &mut egui::Ui, h: &Histogram, log: bool, levels: &mut Levels) {
    let (rect, resp) = ui.allocate_exact_size(
        Vec2::new(ui.available_width(), 140.0),
        Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(20));
    let n = h.counts.len().max(1);
    let f = |c: u64| if log { (c as f32 + 1.0).ln() } else { c as f32 };
    let top = h
        .counts
        .iter()
        .map(|&c| f(c))
        .fold(0.0f32, f32::max)
        .max(1e-6);
    let (lo, hi) = (h.lo as f32, h.hi as f32);
    let span = (hi - lo).max(1e-12);
    // the x axis covers the data and the levels
    let x0 = lo.min(levels.min);
    let x1 = (lo + span).max(levels.max);
    let to_x = |v: f32| rect.left() + (v - x0) / (x1 - x0).max(1e-12) * rect.width();
    let from_x = |x: f32| x0 + (x - rect.left()) / rect.width() * (x1 - x0);
    // one line per screen column: the largest bin under it
    let bin_at = |x: f32| ((from_x(x) - lo) / span * n as f32).floor();
    for k in 0..rect.width().max(1.0) as usize {
        let x = rect.left() + k as f32;
        let (a, b) = (bin_at(x), bin_at(x + 1.0));
        if b < 0.0 || a >= n as f32 {
            continue;
        }
        let (a, b) = (a.max(0.0) as usize, (b.max(a + 1.0) as usize).min(n));
        let v = h.counts[a.min(n - 1)..b.max(a + 1).min(n)]
            .iter()
            .map(|&c| f(c))
            .fold(0.0, f32::max);
        if v > 0.0 {
            let y = rect.bottom() - v / top * (rect.height() - 4.0);
            painter.line_segment(
                [Pos2::new(x + 0.5, rect.bottom()), Pos2::new(x + 0.5, y)],
                Stroke::new(1.0, Color32::from_gray(170)),
            );
        }
    }
    let (xmin, xmax) = (to_x(levels.min), to_x(levels.max));
    let line = |x: f32, c: Color32| {
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(2.0, c),
        )
    };
    line(xmin, Color32::from_rgb(90, 160, 255));
    line(xmax, Color32::from_rgb(255, 170, 60));
    if let Some(p) = resp.interact_pointer_pos()
        && resp.dragged()
    {
        // drag the nearer of the two lines
        let v = from_x(p.x);
        if (p.x - xmin).abs() <= (p.x - xmax).abs() {
            levels.min = v.min(levels.max);
        } else {
            levels.max = v.max(levels.min);
        }
    }
    ui.label(
        egui::RichText::new(format!(
            "data {:.4} … {:.4}, {} samples",
            h.lo, h.hi, h.total
        ))
        .small(),
    );
}
