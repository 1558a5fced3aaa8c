//! What is loaded (shape, dtype, memory, source), the adapter and the engine choice.

use egui::{RichText, Ui};

use crate::engine::EngineChoice as E;
use crate::load::human_bytes;
use crate::viewer::state::ViewerState;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    ui.heading("Info");
    let st = &s.pipeline.stack;
    let sh = st.shape();
    let src = st.source.clone();
    egui::Grid::new("info").num_columns(2).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        };
        row(
            "shape",
            format!(
                "{} x {} x {} x {}",
                sh.frames, sh.height, sh.width, sh.channels
            ),
        );
        row("dtype", st.dtype().name().to_string());
        row(
            "memory",
            format!(
                "{}{}",
                human_bytes(st.bytes()),
                if st.is_mapped() { " (mapped)" } else { "" }
            ),
        );
        row("source", format!("{} ({})", src.path, src.kind));
        row("GPU", s.compute.adapter.clone());
        row("engine", s.compute.engine.describe());
    });
    ui.horizontal(|ui| {
        ui.label("compute on");
        let mut c = s.compute.choice;
        ui.radio_value(&mut c, E::Auto, "auto");
        ui.radio_value(&mut c, E::Cpu, "cpu");
        ui.radio_value(&mut c, E::Gpu, "gpu");
        if c != s.compute.choice {
            s.set_engine(c);
        }
    });
    for n in &src.notes {
        ui.label(RichText::new(n).small());
    }
    if let Some(f) = &s.compute.engine.fallback {
        ui.label(RichText::new(f).small());
    }
}
