//! The PCA section of the right panel: how many components, the computation over the
//! timeline selection, what is shown in place of the frame (a component, or the frame
//! rebuilt from the first k) and the variance each component explains.

use egui::{Button, DragValue, Ui};

use crate::viewer::state::ViewerState;
use crate::viewer::state::pca::PcaView;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    let sel = s.pipeline.selection;
    let frames = sel.len();
    let max_k = frames.saturating_sub(1).clamp(1, 50);
    s.pca.k = s.pca.k.clamp(1, max_k);
    ui.horizontal(|ui| {
        ui.label("components");
        ui.add(DragValue::new(&mut s.pca.k).range(1..=max_k));
    });
    let running = s.jobs.pca.is_some();
    if ui
        .add_enabled(
            !running && frames >= 2,
            Button::new(format!("Compute over frames {}..={}", sel.first, sel.last)),
        )
        .on_hover_text(
            "the timeline selection of the stack (after ops applied to full); exact up to \
             200 frames, randomized beyond; the same as blitz pca",
        )
        .on_disabled_hover_text("select at least two frames; one computation at a time")
        .clicked()
    {
        s.start_pca();
    }
    let Some(p) = s.pca.result.clone() else {
        return;
    };
    ui.small(format!(
        "{} of frames {}..={}",
        p.method, p.range.first, p.range.last
    ));
    let mut view = s.pca.view;
    let (mut j, mut k) = match view {
        PcaView::Component(j) => (j + 1, p.k()),
        PcaView::Rebuilt(k) => (1, k),
        PcaView::Off => (1, p.k()),
    };
    ui.radio_value(&mut view, PcaView::Off, "frames");
    ui.horizontal(|ui| {
        if ui
            .radio(matches!(view, PcaView::Component(_)), "component")
            .clicked()
            | ui.add(DragValue::new(&mut j).range(1..=p.k())).changed()
        {
            view = PcaView::Component(j - 1);
        }
    });
    ui.horizontal(|ui| {
        if ui
            .radio(matches!(view, PcaView::Rebuilt(_)), "frame rebuilt from")
            .clicked()
            | ui.add(DragValue::new(&mut k).range(1..=p.k())).changed()
        {
            view = PcaView::Rebuilt(k);
        }
        ui.label("components");
    });
    s.set_pca_view(view);
    egui::Grid::new("pca variance")
        .striped(true)
        .show(ui, |ui| {
            ui.label("pc");
            ui.label("variance");
            ui.label("cumulative");
            ui.end_row();
            let mut cum = 0.0;
            for (i, r) in p.ratio.iter().enumerate() {
                cum += r;
                ui.label(format!("{}", i + 1));
                ui.label(format!("{:.2} %", r * 100.0));
                ui.label(format!("{:.2} %", cum * 100.0));
                ui.end_row();
            }
        });
}
