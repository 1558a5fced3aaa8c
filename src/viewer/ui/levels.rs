//! The histogram with draggable level lines, min/max, trim, colormap and gamma.

use egui::{Color32, Pos2, RichText, Sense, Stroke, Ui, Vec2};

use crate::ops::histogram::{Histogram, Levels};
use crate::viewer::colormap::Colormap;
use crate::viewer::state::{HistScope, Trim, ViewerState};

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    ui.heading("Histogram and levels");
    let d = &mut s.display;
    ui.horizontal(|ui| {
        ui.radio_value(&mut d.scope, HistScope::Stack, "stack");
        ui.radio_value(&mut d.scope, HistScope::Frame, "frame / image");
        ui.checkbox(&mut d.log_hist, "log");
    });
    let levels = s.display.params.levels;
    let log = s.display.log_hist;
    if let Some(h) = s.panel_histogram()
        && let Some(v) = histogram_plot(ui, &h, log, levels)
    {
        s.display.drag_level(v);
    }
    if s.display.scope == HistScope::Stack
        && s.pipeline.shown.is_none()
        && let Some(h) = s.display.stack_histogram_known()
        && !h.is_complete()
    {
        ui.label(
            RichText::new(format!(
                "from {} of {} frames; all frames are being counted",
                h.counted, h.frames
            ))
            .small(),
        );
    }
    let now = s.display.params.levels;
    let (mut lo, mut hi) = (now.min, now.max);
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut lo)
                .speed(drag_speed(now))
                .prefix("min "),
        );
        ui.add(
            egui::DragValue::new(&mut hi)
                .speed(drag_speed(now))
                .prefix("max "),
        );
    });
    if (lo, hi) != (now.min, now.max) {
        s.display.set_levels(lo, hi);
    }
    ui.horizontal(|ui| {
        ui.label("auto-fit trim");
        let mut trim = s.display.trim;
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
        s.set_trim(trim);
    });
    ui.horizontal(|ui| {
        if ui.button("Fit now").clicked() {
            s.fit_levels();
        }
        ui.checkbox(&mut s.display.keep_fitting, "keep fitting");
        ui.checkbox(&mut s.display.colorbar, "colorbar");
    });
    ui.separator();
    ui.horizontal(|ui| {
        let mut cm = s.display.params.colormap;
        egui::ComboBox::from_label("colormap")
            .selected_text(cm.name())
            .show_ui(ui, |ui| {
                for c in Colormap::ALL {
                    ui.selectable_value(&mut cm, c, c.name());
                }
            });
        s.display.choose_colormap(cm);
    });
    let mut auto = s.display.auto_colormap;
    if ui.checkbox(&mut auto, "auto colormap").changed() {
        s.set_auto_colormap(auto);
    }
    ui.add(
        egui::Slider::new(&mut s.display.params.gamma, 0.1..=5.0)
            .logarithmic(true)
            .text("gamma"),
    );
    if s.pipeline.stack.shape().channels > 1 {
        ui.label(
            RichText::new("colour stack: the levels apply to every channel, no colormap").small(),
        );
    }
}

fn drag_speed(l: Levels) -> f64 {
    ((l.max - l.min).abs() as f64 / 500.0).max(1e-6)
}

/// The histogram as bars, with the min/max levels as lines; returns the value a line is
/// dragged to.
fn histogram_plot(ui: &mut Ui, h: &Histogram, log: bool, levels: Levels) -> Option<f32> {
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
    let line = |x: f32, c: Color32| {
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(2.0, c),
        )
    };
    line(to_x(levels.min), Color32::from_rgb(90, 160, 255));
    line(to_x(levels.max), Color32::from_rgb(255, 170, 60));
    let range = match h.data_range() {
        Some((a, b)) if h.exact => format!("data {a} … {b}"),
        Some((a, b)) => format!("data {a:.4} … {b:.4}"),
        None => "no finite sample".to_string(),
    };
    ui.label(RichText::new(format!("{range}, {} samples", h.total)).small());
    resp.interact_pointer_pos()
        .filter(|_| resp.dragged())
        .map(|p| from_x(p.x))
}
