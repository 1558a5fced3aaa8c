//! The menu bar: file, edit (undo), view, transforms and masks, export, help.

use std::path::Path;

use egui::Ui;

use crate::ops::roi::Roi;
use crate::viewer::state::{Command, ExportKind, ViewerState};

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file or folder…  (Ctrl+O)").clicked() {
                    s.command(Command::OpenDialog);
                }
                if ui.button("Reload with the load options").clicked() {
                    s.command(Command::Reload);
                }
                if ui.button("Open the demo stack").clicked() {
                    s.open(Path::new("demo"));
                }
                if ui
                    .add_enabled(s.settings.is_some(), egui::Button::new("Reset settings"))
                    .on_hover_text(
                        "forget the kept load options, colormap, panels and calibrations",
                    )
                    .clicked()
                {
                    s.reset_settings();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Edit", |ui| {
                let label = match s.undo.last() {
                    Some(u) => format!("Undo {}  (Ctrl+Z)", u.what),
                    None => "Undo  (Ctrl+Z)".into(),
                };
                if ui
                    .add_enabled(!s.undo.is_empty(), egui::Button::new(label))
                    .on_disabled_hover_text("nothing to undo")
                    .clicked()
                {
                    s.command(Command::Undo);
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Fit to window  (F)").clicked() {
                    s.command(Command::Fit);
                }
                if ui.button("1:1  (1)").clicked() {
                    s.command(Command::OneToOne);
                }
            });
            ui.menu_button("Transforms", |ui| transforms(s, ui));
            ui.menu_button("Export", |ui| export(s, ui));
            if ui.button("Help (F1)").clicked() {
                s.command(Command::ToggleHelp);
            }
        });
    });
}

/// Transforms and masks.
fn transforms(s: &mut ViewerState, ui: &mut Ui) {
    let t = s.pipeline.steps.transforms;
    if ui.checkbox(&mut t.flip_x.clone(), "Flip x").clicked() {
        s.toggle_flip_x();
    }
    if ui.checkbox(&mut t.flip_y.clone(), "Flip y").clicked() {
        s.toggle_flip_y();
    }
    if ui
        .button(format!(
            "Rotate 90° clockwise (now {}°)",
            t.rot90 as u32 * 90
        ))
        .clicked()
    {
        s.rotate90();
    }
    ui.separator();
    let rect = match &s.roi.region {
        Some(Roi::Rect { x, y, w, h }) => Some((*x, *y, *w, *h)),
        _ => None,
    };
    if ui
        .add_enabled(
            rect.is_some(),
            egui::Button::new("Crop to the ROI rectangle (mask)"),
        )
        .on_disabled_hover_text("draw a ROI rectangle first")
        .clicked()
        && let Some((x, y, w, h)) = rect
    {
        s.crop_to_rect(x, y, w, h);
    }
    let mut mask_path = s.mask_input.clone();
    ui.horizontal(|ui| {
        ui.label("binary mask");
        ui.add(
            egui::TextEdit::singleline(&mut mask_path)
                .desired_width(180.0)
                .hint_text("mask image path"),
        );
        if ui.button("Load").clicked() {
            s.load_mask(Path::new(&mask_path));
        }
    });
    s.mask_input = mask_path;
    let p = &s.pipeline.steps;
    if (p.roi_mask.is_some() || p.binary_mask.is_some() || !t.is_identity())
        && ui.button("Reset masks and transforms").clicked()
    {
        s.reset_masks_and_transforms();
    }
}

fn export(s: &mut ViewerState, ui: &mut Ui) {
    for (kind, label) in [
        (ExportKind::Frame, "Current frame as shown (png/tif/jpg)…"),
        (ExportKind::Range, "Frame range as numbered image files…"),
        (
            ExportKind::Stack,
            "Displayed stack or aggregate (.npy/.tif)…",
        ),
        (ExportKind::Profiles, "Profiles (CSV)…"),
        (ExportKind::Roi, "ROI time series (CSV)…"),
        (ExportKind::RoiTable, "ROI set table (CSV)…"),
        (
            ExportKind::Kymograph,
            "Kymograph of the line (.npy/.tif/.png)…",
        ),
    ] {
        if ui.button(label).clicked() {
            s.begin_export(kind);
        }
    }
}
