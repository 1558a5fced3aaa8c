//! The egui interface: one file per panel, each drawing part of the state and calling
//! its methods. Nothing here computes or keeps state of its own beyond what egui keeps.

mod analysis;
mod annotations;
mod calibration;
mod colours;
mod dialogs;
mod image;
mod info;
mod kymograph;
mod levels;
mod load_panel;
mod menu;
mod pca;
mod plots;
mod roiset;
mod timeline;

use std::time::Instant;

use egui::{Color32, Key, Rect};

use super::colormap::DisplayParams;
use super::display::Placement;
use super::state::{Command, Tool, ViewerState};

/// Draws the frame into a rectangle of the image area (the window's paint callback).
pub type ImageFn<'a> = dyn FnMut(&mut egui::Ui, Rect, Placement, DisplayParams) + 'a;

/// Keys and what they do, for the help overlay.
pub const KEYS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("Left / Right", "previous / next frame"),
    ("Home / End", "first / last frame"),
    ("F", "fit the image to the window"),
    ("1", "one screen pixel per data pixel"),
    ("Ctrl+C", "copy the probe (x, y, values)"),
    ("Ctrl+O", "open a file or folder"),
    (
        "Ctrl+Z",
        "undo the last crop, mask, apply to full, turn or flip",
    ),
    ("PgUp / PgDn", "a tenth of the stack back / forward"),
    ("+ / -", "zoom in / out"),
    (
        "N C R E P I M L",
        "tools: navigate, crosshair, ROI rectangle, ROI ellipse, ROI polygon, pin pixel, \
         measure, line",
    ),
    ("Tab", "hide / show the panels"),
    ("A", "aggregate mode on / off"),
    ("Esc", "back to the navigate tool"),
    ("F1", "this help"),
];

/// Draws the whole interface; `image` draws the frame into the given rectangle.
pub fn show(s: &mut ViewerState, ui: &mut egui::Ui, image: &mut ImageFn<'_>) {
    s.poll_jobs();
    s.tick(Instant::now());
    keys(s, ui);
    s.update_shown();
    menu::show(s, ui);
    timeline::show(s, ui);
    if !s.panels_hidden {
        side_panels(s, ui);
    }
    egui::Panel::top("tools").show(ui, |ui| image::tool_bar(s, ui));
    egui::CentralPanel::default()
        .frame(egui::Frame::NONE.fill(Color32::from_gray(24)))
        .show(ui, |ui| image::show(s, ui, image));
    dialogs::show(s, ui);
    kymograph::show(s, ui.ctx());
    // a change made by a panel this frame is computed before the next one
    s.update_shown();
    // redraw only when something will change: the next playback frame, and progress of
    // background work a few times a second; otherwise egui's own requests and input
    if let Some(wait) = s.playback.until_next(Instant::now()) {
        ui.ctx().request_repaint_after(wait);
    }
    if s.jobs.any() {
        ui.ctx().request_repaint_after(PROGRESS_INTERVAL);
    }
}

/// The load and info panel (left), levels and analysis (right) and the plots (bottom).
fn side_panels(s: &mut ViewerState, ui: &mut egui::Ui) {
    // in a small window the panels leave the image at least 40 % of the width (at
    // 600 x 400 they took it all); Tab hides them
    let side = (ui.available_width() * 0.3).max(120.0);
    let bottom = (ui.available_height() * 0.35).max(80.0);
    // the sizes last dragged (from the settings) open the first frame; a reset of the
    // settings starts new panels (new ids) at the default sizes
    let sizes = s.panel_sizes;
    let generation = s.layout_generation;
    let id = |name: &str| egui::Id::unique((name, generation));
    let left = egui::Panel::left(id("load"))
        .resizable(true)
        .default_size(sizes.left.unwrap_or(250.0))
        .max_size(side)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                load_panel::show(s, ui);
                ui.separator();
                info::show(s, ui);
            });
        });
    let right = egui::Panel::right(id("levels"))
        .resizable(true)
        .default_size(sizes.right.unwrap_or(290.0))
        .max_size(side)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                levels::show(s, ui);
                ui.separator();
                analysis::show(s, ui);
            });
        });
    let plots = egui::Panel::bottom(id("plots"))
        .resizable(true)
        .default_size(sizes.bottom.unwrap_or(190.0))
        .max_size(bottom)
        .show(ui, |ui| plots::show(s, ui));
    let now = [
        left.response.rect.width(),
        right.response.rect.width(),
        plots.response.rect.height(),
    ];
    kept_when_dragged(s, ui, now);
}

/// Keeps the panels' sizes `now` (left, right, bottom) for the next start once a drag
/// that changed them ends; sizes a smaller window clamps are not kept.
fn kept_when_dragged(s: &mut ViewerState, ui: &egui::Ui, now: [f32; 3]) {
    let key = egui::Id::unique("panel sizes seen");
    let (seen, mut dragged): ([f32; 3], bool) =
        ui.ctx().data(|d| d.get_temp(key)).unwrap_or((now, false));
    let down = ui.input(|i| i.pointer.primary_down());
    dragged |= down && seen != now;
    if dragged && !down {
        let [left, right, bottom] = now.map(Some);
        s.panel_sizes = crate::viewer::state::settings::PanelSizes {
            left,
            right,
            bottom,
        };
        dragged = false;
    }
    ui.ctx().data_mut(|d| d.insert_temp(key, (now, dragged)));
}

/// How often the window redraws to show the progress of background work.
pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// Keys to commands (not while a text field has the keyboard).
fn keys(s: &mut ViewerState, ui: &mut egui::Ui) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    for c in ui.input(|i| key_commands(&i.events)) {
        s.command(c);
    }
    let copy = ui.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy)));
    // the measure tool copies its measurement, every other tool the probe
    let measured = s.measure_text().filter(|_| s.tool == Tool::Measure);
    if copy && let Some(text) = measured {
        ui.ctx().copy_text(text.clone());
        s.status = format!("copied: {text}");
    } else if copy && let Some((_, _, text)) = &s.probe {
        ui.ctx().copy_text(text.clone());
        s.status = format!("copied: {text}");
    }
}

/// The commands of the key presses in `events`, in order: every press counts (key
/// repeats within one frame included), and each carries the modifiers it was pressed
/// with (a quick Ctrl+O released before the frame still opens; Ctrl+F is not F).
pub fn key_commands(events: &[egui::Event]) -> Vec<Command> {
    let plain = [
        (Key::A, Command::ToggleAggregate),
        (Key::Escape, Command::Escape),
        (Key::Space, Command::TogglePlay),
        (Key::ArrowLeft, Command::PreviousFrame),
        (Key::ArrowRight, Command::NextFrame),
        (Key::Home, Command::FirstFrame),
        (Key::End, Command::LastFrame),
        (Key::F1, Command::ToggleHelp),
        (Key::F, Command::Fit),
        (Key::Num1, Command::OneToOne),
        (Key::PageUp, Command::PageBack),
        (Key::PageDown, Command::PageForward),
        (Key::Plus, Command::ZoomIn),
        (Key::Equals, Command::ZoomIn),
        (Key::Minus, Command::ZoomOut),
        (Key::N, Command::Use(Tool::Navigate)),
        (Key::C, Command::Use(Tool::Crosshair)),
        (Key::R, Command::Use(Tool::Rect)),
        (Key::E, Command::Use(Tool::Ellipse)),
        (Key::P, Command::Use(Tool::Polygon)),
        (Key::I, Command::Use(Tool::Pin)),
        (Key::M, Command::Use(Tool::Measure)),
        (Key::L, Command::Use(Tool::Line)),
        (Key::Tab, Command::TogglePanels),
    ];
    let mut out = Vec::new();
    for e in events {
        let egui::Event::Key {
            key,
            pressed: true,
            modifiers,
            ..
        } = e
        else {
            continue;
        };
        if modifiers.command {
            if !modifiers.shift && !modifiers.alt {
                match key {
                    Key::O => out.push(Command::OpenDialog),
                    Key::Z => out.push(Command::Undo),
                    _ => {}
                }
            }
            continue;
        }
        if modifiers.alt {
            continue;
        }
        if let Some((_, c)) = plain.iter().find(|(k, _)| k == key) {
            out.push(*c);
        }
    }
    out
}
