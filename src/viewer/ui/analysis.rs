//! The right panel's analysis settings: aggregate mode and the timeline selection, the
//! ops (subtract, divide) with apply-to-full, profile envelopes, PCA (`pca.rs`), ROI
//! statistics.

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use crate::load::LoadOptions;
use crate::ops::normalize::load_reference;
use crate::ops::reduce::ReduceOp;
use crate::ops::roi::Stat;
use crate::viewer::state::pipeline::{SourceKind, StepSpec};
use crate::viewer::state::{JobKind, SelectionEnd, ViewerState};

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    egui::CollapsingHeader::new("Aggregate")
        .default_open(true)
        .show(ui, |ui| aggregate(s, ui));
    egui::CollapsingHeader::new("Ops: subtract, divide")
        .default_open(true)
        .show(ui, |ui| ops(s, ui));
    egui::CollapsingHeader::new("Calibration")
        .default_open(false)
        .show(ui, |ui| super::calibration::show(s, ui));
    egui::CollapsingHeader::new("Profiles")
        .default_open(false)
        .show(ui, |ui| {
            let (w, h) = s.shown_size();
            let p = &mut s.profile;
            ui.add(egui::Slider::new(&mut p.width, 0..=(h.min(w) / 2).max(1)).text("line width"));
            ui.checkbox(&mut p.env_image, "min/max per image");
            ui.checkbox(&mut p.env_band, "per crosshair (band)");
            ui.checkbox(&mut p.env_dataset, "per position over the dataset")
                .on_hover_text("over every frame shown; with ops previewed, after apply to full");
            ui.add(egui::Slider::new(&mut p.env_q, 0..=49).text("envelope percentile"));
        });
    // open while a PCA image replaces the frame: its controls are there
    let pca_shown = s.pca_shown();
    egui::CollapsingHeader::new("PCA")
        .default_open(false)
        .open(pca_shown.then_some(true))
        .show(ui, |ui| super::pca::show(s, ui));
    egui::CollapsingHeader::new("ROI and pixel series")
        .default_open(!s.roi_set.rois.is_empty())
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let mut stat = s.roi.stat;
                ui.radio_value(&mut stat, Stat::Mean, "mean");
                ui.radio_value(&mut stat, Stat::Median, "median");
                s.set_roi_stat(stat);
                ui.checkbox(&mut s.roi.bands, "min/max bands");
            });
            if ui.button("Clear ROI and pins").clicked() {
                s.clear_roi_and_pins();
            }
            ui.separator();
            ui.label("ROI set (results table: Export > ROI set table)");
            super::roiset::show(s, ui);
        });
}

fn aggregate(s: &mut ViewerState, ui: &mut Ui) {
    let n = s.pipeline.stack.shape().frames;
    let mut on = s.pipeline.aggregate.is_some();
    if ui
        .checkbox(&mut on, "show the reduce of the selection (A)")
        .changed()
    {
        s.set_aggregate(on);
    }
    ui.horizontal(|ui| {
        let mut op = s.pipeline.agg_op;
        egui::ComboBox::from_id_salt("agg op")
            .selected_text(op.name())
            .show_ui(ui, |ui| {
                for o in ReduceOp::ALL {
                    ui.selectable_value(&mut op, o, o.name());
                }
            });
        s.set_agg_op(op);
        if let Some(a) = &mut s.pipeline.aggregate {
            ui.checkbox(&mut a.fixed_width, "fixed width");
        }
    });
    let (mut a, mut b) = (s.pipeline.selection.first, s.pipeline.selection.last);
    let max = n.saturating_sub(1);
    if ui
        .add(egui::Slider::new(&mut a, 0..=max).text("start"))
        .changed()
    {
        s.move_selection(SelectionEnd::Start, a);
    }
    if ui
        .add(egui::Slider::new(&mut b, 0..=max).text("end"))
        .changed()
    {
        s.move_selection(SelectionEnd::End, b);
    }
    ui.horizontal(|ui| {
        if ui.button("Full range").clicked() {
            s.set_selection(0, max);
        }
        if ui.button("Crop the timeline to it").clicked() {
            let r = s.pipeline.selection;
            s.crop_timeline(r);
        }
    });
    if let Some(c) = s.pipeline.steps.timeline_crop
        && ui
            .button(format!("Undo the timeline crop ({}..={})", c.first, c.last))
            .clicked()
    {
        s.undo_timeline_crop();
    }
}

fn ops(s: &mut ViewerState, ui: &mut Ui) {
    let shape = s.pipeline.base.shape();
    let opts = s.load_opts.clone();
    let before = s.pipeline.ops.clone();
    let mut errors = Vec::new();
    let o = &mut s.pipeline.ops;
    for (label, step) in [("subtract", &mut o.subtract), ("divide", &mut o.divide)] {
        if let Some(e) = step_ui(ui, label, step, shape, &opts) {
            errors.push(e);
        }
    }
    if let Some(e) = errors.pop() {
        s.error = Some(e);
    }
    if s.pipeline.ops != before {
        s.ops_changed();
    }
    ui.label(
        RichText::new("Range reduces the timeline selection; the shown frame is previewed.")
            .small(),
    );
    ui.horizontal(|ui| {
        let busy = s.jobs.apply.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("Apply to full"))
            .clicked()
        {
            s.start_apply();
        }
        if let Some(j) = &s.jobs.apply {
            let st = j.job.status();
            match st.fraction() {
                Some(f) => ui.add(egui::ProgressBar::new(f).desired_width(80.0)),
                None => ui.spinner(),
            };
            ui.label(format!("{:.1} s", st.seconds));
            if ui.button("Cancel").clicked() {
                s.cancel_job(JobKind::Apply);
            }
        }
        if s.pipeline.steps.applied.is_some() && ui.button("Undo (raw stack)").clicked() {
            s.undo_apply();
        }
    });
}

/// One ops step: source, op, window/lag or file, amount. Returns a message when a
/// reference file was refused.
fn step_ui(
    ui: &mut Ui,
    label: &str,
    step: &mut StepSpec,
    shape: crate::Shape,
    opts: &LoadOptions,
) -> Option<String> {
    let mut result = None;
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
                    // the data's load options, one frame of the data's shape (spec §3.2)
                    match load_reference(Path::new(text.as_str()), opts, shape) {
                        Ok(img) => step.file = Some((PathBuf::from(text.as_str()), img)),
                        Err(e) => result = Some(format!("{label}: {e}")),
                    }
                }
            });
            if let Some((p, _)) = &step.file {
                ui.label(RichText::new(format!("reference: {}", p.display())).small());
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
