//! The calibration section of the right panel: the pixel size with its unit and the
//! time between frames (the source's, or set), as typed text read by the library's
//! grammar (`blitz::calibration`).

use egui::Ui;

use crate::calibration::FrameTime;
use crate::viewer::state::ViewerState;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    let mut apply = false;
    egui::Grid::new("calibration")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("pixel size");
            let r = ui.add(
                egui::TextEdit::singleline(&mut s.calibration_input.pixel)
                    .desired_width(110.0)
                    .hint_text("2.5um (none: px)"),
            );
            apply |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.end_row();
            ui.label("frame interval");
            let source = match s.source_rate() {
                Some(fps) => format!("source: {fps} fps"),
                None => "source: none".to_string(),
            };
            let r = ui.add(
                egui::TextEdit::singleline(&mut s.calibration_input.interval)
                    .desired_width(110.0)
                    .hint_text(source),
            );
            apply |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.end_row();
        });
    ui.horizontal(|ui| {
        apply |= ui.button("Apply").clicked();
        if ui.button("Clear").clicked() {
            s.calibration_input = Default::default();
            apply = true;
        }
    });
    if apply {
        s.apply_calibration_input();
    }
    let c = s.calibration;
    let now = match (c.pixel, c.time) {
        (None, FrameTime::Source) => "pixels and the source's time".to_string(),
        (p, t) => format!(
            "{}; {}",
            p.map_or("pixels".to_string(), |p| format!("{p} a pixel")),
            match t {
                FrameTime::Source => "the source's time".to_string(),
                FrameTime::Interval(dt) => format!("{} s a frame", crate::calibration::short(dt)),
            }
        ),
    };
    ui.small(now);
}
