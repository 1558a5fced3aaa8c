//! The ROI set in the right panel: add the ROI drawn, each kept ROI in its colour with
//! its name (editable), area and statistics in the frame shown (in units once
//! calibrated), remove; save and load the set file.

use std::path::PathBuf;

use egui::{RichText, Ui};

use crate::calibration::short;
use crate::viewer::state::ViewerState;

use super::colours;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                s.roi.region.is_some(),
                egui::Button::new("Add the ROI to the set"),
            )
            .on_disabled_hover_text("draw a ROI first (R, P)")
            .clicked()
        {
            s.add_roi_to_set();
        }
    });
    ui.horizontal(|ui| {
        // rectangles (also turned), polygons and ellipses: a drawn ROI turns about its
        // centre
        let turn = ui
            .add_enabled(s.roi.region.is_some(), egui::Button::new("Turn the ROI by"))
            .on_hover_text("turns the ROI drawn about its centre (a rectangle stays one)");
        ui.add(
            egui::DragValue::new(&mut s.roi_set.turn_by)
                .range(-180.0..=180.0)
                .speed(1.0)
                .suffix("°"),
        );
        if turn.clicked() {
            s.turn_roi(s.roi_set.turn_by);
        }
    });
    let frame = s.playback.frame;
    let pixel = s.calibration.pixel;
    let mut remove = None;
    let mut renamed = false;
    egui::Grid::new("roi set").striped(true).show(ui, |ui| {
        if !s.roi_set.rois.is_empty() {
            for h in ["name", "area", "mean", "std", "min", "max", ""] {
                ui.label(RichText::new(h).small());
            }
            ui.end_row();
        }
        let table = s.roi_set.table.as_ref();
        // the table's row of the frame shown
        let at = table.and_then(|t| t.frames.iter().position(|&f| f == frame));
        for i in 0..s.roi_set.rois.len() {
            let colour = colours::set_roi(i);
            let mut name = s.roi_set.rois[i].name.clone();
            let r = ui.add(
                egui::TextEdit::singleline(&mut name)
                    .desired_width(64.0)
                    .text_color(colour),
            );
            if r.changed() && !name.is_empty() && s.roi_set.rois.iter().all(|o| o.name != name) {
                s.roi_set.rois[i].name = name;
                renamed = true;
            }
            let row = table.zip(at).map(|(t, at)| (t.areas[i], t.get(at, i, 0)));
            match row {
                Some((area, st)) => {
                    let area = match pixel {
                        Some(p) => format!("{} {}²", short(p.area(area as f64)), p.unit.symbol()),
                        None => format!("{area} px"),
                    };
                    ui.label(area);
                    for v in [st.mean, st.std, st.min, st.max] {
                        ui.label(short(v as f64));
                    }
                }
                None => {
                    for _ in 0..5 {
                        ui.label("…");
                    }
                }
            }
            if ui
                .small_button("x")
                .on_hover_text("remove from the set")
                .clicked()
            {
                remove = Some(i);
            }
            ui.end_row();
        }
    });
    if renamed {
        s.roi_set_changed();
    }
    if let Some(i) = remove {
        s.remove_roi_from_set(i);
    }
    if let Some(e) = &s.roi_set.failed {
        ui.colored_label(egui::Color32::from_rgb(255, 190, 80), format!("table: {e}"));
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut s.roi_set.path_input)
                .desired_width(150.0)
                .hint_text("set.json"),
        );
        let path = PathBuf::from(s.roi_set.path_input.trim());
        let typed = !s.roi_set.path_input.trim().is_empty();
        if ui.add_enabled(typed, egui::Button::new("Save")).clicked() {
            s.save_roi_set(&path);
        }
        if ui.add_enabled(typed, egui::Button::new("Load")).clicked() {
            s.load_roi_set(&path);
        }
    });
}
