//! What keys, menus and clicks ask for, as commands and tools the state carries out; the
//! UI only translates egui input into these.

use super::ViewerState;

/// What a click or drag on the image does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Drag pans, wheel zooms.
    Navigate,
    /// Click sets the crosshair of the profiles.
    Crosshair,
    /// Drag draws the ROI rectangle.
    Rect,
    /// Drag draws an elliptic ROI in the box it spans.
    Ellipse,
    /// Clicks add polygon vertices; double-click closes it.
    Polygon,
    /// Click pins a pixel whose time series is plotted.
    Pin,
    /// Drag measures a distance and an angle.
    Measure,
    /// Drag draws a line: its profile at any angle and its kymograph.
    Line,
}

/// A command from a key or a menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    TogglePlay,
    PreviousFrame,
    NextFrame,
    FirstFrame,
    LastFrame,
    ToggleAggregate,
    /// Back to the navigate tool, dropping a polygon being drawn.
    Escape,
    ToggleHelp,
    /// Fit the image to the window.
    Fit,
    /// One data pixel per screen pixel.
    OneToOne,
    /// Open the file dialog at the current path.
    OpenDialog,
    /// Load the current path again with the load options.
    Reload,
    /// Zoom in or out by one step about the centre of the image area.
    ZoomIn,
    ZoomOut,
    /// A tenth of the stack back or forward (at least one frame).
    PageBack,
    PageForward,
    /// Choose the tool clicks and drags on the image use.
    Use(Tool),
    /// Hide or show the side and bottom panels (the image takes the window).
    TogglePanels,
    /// Take back the last change of the pipeline (crop, mask, apply, turn, flip).
    Undo,
}

/// The factor of one zoom step (`+` / `-`).
pub const ZOOM_STEP: f32 = 1.25;

/// Frames one PgUp / PgDn moves in a stack of `n`: a tenth, at least one.
fn page(n: usize) -> usize {
    (n / 10).max(1)
}

impl ViewerState {
    /// Carries out `c`.
    pub fn command(&mut self, c: Command) {
        let n = self.pipeline.stack.shape().frames;
        let t = self.playback.frame;
        match c {
            Command::TogglePlay => self.playback.toggle(),
            Command::PreviousFrame => self.set_frame(t.saturating_sub(1)),
            Command::NextFrame => self.set_frame((t + 1).min(n - 1)),
            Command::FirstFrame => self.set_frame(0),
            Command::LastFrame => self.set_frame(n - 1),
            Command::ToggleAggregate => self.set_aggregate(self.pipeline.aggregate.is_none()),
            Command::Escape => {
                self.tool = Tool::Navigate;
                self.roi.polygon_draft.clear();
            }
            Command::ToggleHelp => self.show_help = !self.show_help,
            Command::Fit => self.view.fit = true,
            Command::OneToOne => {
                self.view.fit = false;
                self.view.one_to_one_pending = true;
            }
            Command::OpenDialog => self.open_dialog(),
            Command::Reload => {
                let p = self.path.clone();
                self.open(&p);
            }
            Command::ZoomIn => self.view.pending_zoom *= ZOOM_STEP,
            Command::ZoomOut => self.view.pending_zoom /= ZOOM_STEP,
            Command::PageBack => self.set_frame(t.saturating_sub(page(n))),
            Command::PageForward => self.set_frame((t + page(n)).min(n - 1)),
            Command::Use(tool) => {
                if tool != Tool::Polygon {
                    self.roi.polygon_draft.clear();
                }
                self.tool = tool;
            }
            Command::TogglePanels => self.panels_hidden = !self.panels_hidden,
            Command::Undo => self.undo(),
        }
    }

    /// Opens the file dialog in the folder of the current path.
    pub fn open_dialog(&mut self) {
        // the folder of the stack shown, else the last one used (the demo has none)
        let start = match self.last_folder() {
            Some(f) if !self.path.exists() => f.to_path_buf(),
            _ => self.path.clone(),
        };
        self.files.open = Some(super::files::OpenDialog::at(&start));
    }

    /// The user clicked frame `t` (timeline, time series): playback pauses there.
    pub fn jump_to_frame(&mut self, t: usize) {
        self.playback.playing = false;
        self.set_frame(t);
    }
}
