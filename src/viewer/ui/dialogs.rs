//! Windows over the interface: an error, the keys, the open dialog, the export window.

use std::path::PathBuf;

use egui::{Color32, Key, RichText, Ui, Vec2};

use crate::viewer::state::{ExportKind, ViewerState};

use super::KEYS;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    let ctx = ui.ctx().clone();
    if let Some(err) = s.error.clone() {
        egui::Window::new("Error")
            .collapsible(false)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(&ctx, |ui| {
                ui.colored_label(Color32::from_rgb(255, 120, 120), err);
                if ui.button("OK").clicked() {
                    s.error = None;
                }
            });
    }
    if s.show_help {
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
                    s.show_help = false;
                }
            });
    }
    open_dialog(s, &ctx);
    export_window(s, &ctx);
}

fn open_dialog(s: &mut ViewerState, ctx: &egui::Context) {
    let mut chosen = None;
    let mut close = false;
    let Some(d) = &mut s.files.open else {
        return;
    };
    egui::Window::new("Open a file or folder")
        .collapsible(false)
        .default_size([520.0, 420.0])
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let r = ui.add(egui::TextEdit::singleline(&mut d.input).desired_width(380.0));
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
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new("A folder opens as an image sequence; double-click enters it.")
                        .small(),
                );
                if ui.small_button("Refresh").clicked() {
                    d.refresh();
                }
            });
            egui::ScrollArea::vertical()
                .max_height(320.0)
                .show(ui, |ui| {
                    if let Some(parent) = d.dir.parent().map(|p| p.to_path_buf())
                        && ui.selectable_label(false, "[..]").double_clicked()
                    {
                        d.enter(parent);
                    }
                    let mut enter = None;
                    let mut pick = None;
                    d.update();
                    match d.entries() {
                        None => {
                            ui.spinner();
                        }
                        Some(Err(e)) => {
                            ui.label(RichText::new(e.as_str()).small());
                        }
                        Some(Ok(entries)) => {
                            for e in entries {
                                let label = if e.is_dir {
                                    format!("[{}]", e.name)
                                } else {
                                    e.name.clone()
                                };
                                let shown = e.path.display().to_string();
                                let r = ui.selectable_label(d.input == shown, label);
                                if r.clicked() {
                                    pick = Some(shown);
                                }
                                if r.double_clicked() {
                                    if e.is_dir {
                                        enter = Some(e.path.clone());
                                    } else {
                                        chosen = Some(e.path.clone());
                                    }
                                }
                            }
                        }
                    }
                    if let Some(p) = pick {
                        d.input = p;
                    }
                    if let Some(dir) = enter {
                        d.enter(dir);
                    }
                });
        });
    if d.listing_busy() {
        ctx.request_repaint_after(super::PROGRESS_INTERVAL);
    }
    if let Some(p) = chosen {
        s.files.open = None;
        s.open(&p);
    } else if close {
        s.files.open = None;
    }
}

fn export_window(s: &mut ViewerState, ctx: &egui::Context) {
    let Some(mut d) = s.exports.dialog.take() else {
        return;
    };
    let mut keep = true;
    let mut run = false;
    let frames = s.pipeline.stack.shape().frames;
    egui::Window::new("Export")
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(match d.kind {
                ExportKind::Frame => "the shown frame through levels and colormap",
                ExportKind::Range => "frames of the displayed stack, rendered, into this folder",
                ExportKind::Stack => "the displayed stack (the aggregate image in aggregate mode)",
                ExportKind::Profiles => "H and V profiles with envelopes",
                ExportKind::Roi => "the ROI time series",
                ExportKind::RoiTable => {
                    "the ROI set's table: mean, std, min, max, area per ROI and frame"
                }
                ExportKind::Kymograph => {
                    "the kymograph: f32 .npy/.tif (frames x positions) or .png"
                }
            });
            ui.add(egui::TextEdit::singleline(&mut d.path).desired_width(420.0));
            if matches!(d.kind, ExportKind::Frame | ExportKind::Range) {
                ui.checkbox(
                    &mut s.exports.stamps,
                    "scale bar and time burnt in (where calibrated and known)",
                );
            }
            if d.kind == ExportKind::Range {
                let max = frames - 1;
                ui.add(egui::Slider::new(&mut d.first, 0..=max).text("first"));
                ui.add(egui::Slider::new(&mut d.last, 0..=max).text("last"));
                ui.horizontal(|ui| {
                    for ext in ["png", "tif", "jpg", "bmp"] {
                        ui.radio_value(&mut d.ext, ext, ext);
                    }
                });
            }
            let existing = d.existing();
            if existing.is_empty() {
                d.replace = false;
            } else {
                let what = match existing.len() {
                    1 => format!("{} exists", existing[0].display()),
                    n => format!("{n} of the files exist"),
                };
                ui.colored_label(Color32::from_rgb(255, 190, 90), what);
                ui.checkbox(&mut d.replace, "replace existing");
            }
            ui.horizontal(|ui| {
                let ready = s.jobs.export.is_none() && (existing.is_empty() || d.replace);
                run = ui.add_enabled(ready, egui::Button::new("Write")).clicked();
                if ui.button("Cancel").clicked() {
                    keep = false;
                }
            });
        });
    if run {
        match s.start_export(&d) {
            Ok(msg) => {
                if let Some(m) = msg {
                    s.status = m;
                }
                keep = false;
            }
            // the window stays open so the path can be corrected
            Err(e) => s.error = Some(format!("export: {e}\n\nNothing was overwritten.")),
        }
    }
    if keep {
        s.exports.dialog = Some(d);
    }
}
