//! What is drawn over the image to say what it is: the caption ("std of frames
//! 105..=255", "frame 250 raw: the sliding window does not fit") at the top left, a
//! colorbar with the levels at the right, and once calibrated a scale bar with the
//! frame's time at the bottom left.

use egui::{Align2, Color32, FontId, Painter, Rect, Stroke, Vec2};

use crate::viewer::colormap::{DisplayParams, level, lut_index};
use crate::viewer::state::ViewerState;

/// Draws the caption and (when on) the colorbar into the image area `rect`.
pub fn show(s: &ViewerState, painter: &Painter, rect: Rect) {
    let warn = s.preview_is_raw();
    let colour = if warn {
        Color32::from_rgb(255, 190, 80)
    } else {
        Color32::from_gray(225)
    };
    boxed_text(
        painter,
        rect.min + Vec2::new(6.0, 6.0),
        Align2::LEFT_TOP,
        &s.caption(),
        colour,
    );
    scale_bar(s, painter, rect);
    let gray_or_map = s.shown().0.shape().channels < 3;
    if s.display.colorbar && rect.height() > 120.0 && rect.width() > 160.0 {
        colorbar(painter, rect, &s.display.params, gray_or_map);
    }
}

/// The scale bar (a round length in units, about a fifth of the area's width) and the
/// time of the frame shown, at the bottom left of the image area.
fn scale_bar(s: &ViewerState, painter: &Painter, rect: Rect) {
    let zoom = s.view.zoom;
    let mut y = rect.max.y - 10.0;
    let x = rect.min.x + 14.0;
    if let Some((px, label)) = s.calibration.scale_bar((rect.width() / zoom) as f64) {
        let len = px as f32 * zoom;
        let bar = Rect::from_min_size(egui::pos2(x, y - 6.0), Vec2::new(len, 6.0));
        painter.rect_filled(bar.expand(2.0), 1.0, Color32::from_black_alpha(170));
        painter.rect_filled(bar, 0.0, Color32::WHITE);
        y -= 12.0;
        boxed_text(
            painter,
            egui::pos2(x + len / 2.0, y),
            Align2::CENTER_BOTTOM,
            &label,
            Color32::WHITE,
        );
        y -= 22.0;
    }
    if let Some(t) = s.frame_time(s.playback.frame).filter(|_| s.shows_a_frame()) {
        boxed_text(
            painter,
            egui::pos2(x, y),
            Align2::LEFT_BOTTOM,
            &format!("t = {}", crate::calibration::fmt_seconds(t)),
            Color32::WHITE,
        );
    }
}

/// `text` on a dark box, anchored at `at`.
fn boxed_text(painter: &Painter, at: egui::Pos2, align: Align2, text: &str, colour: Color32) {
    let galley = painter.layout_no_wrap(text.to_string(), FontId::proportional(13.0), colour);
    let r = align.anchor_size(at, galley.size()).expand(3.0);
    painter.rect_filled(r, 3.0, Color32::from_black_alpha(150));
    painter.galley(r.min + Vec2::splat(3.0), galley, colour);
}

/// A level value as a short label: integers as they are, others to 4 significant
/// digits, very large or small ones in exponent form.
pub fn short_value(v: f32) -> String {
    let a = v.abs();
    if v == v.trunc() && a < 1e7 {
        format!("{v:.0}")
    } else if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v as f64 * 1e4).round() / 1e4)
    }
}

/// A vertical bar at the right of `rect`: the colour of each value between the levels
/// (through gamma and the colormap; gray for colour data, whose channels are levelled
/// alike), the levels at its ends and the middle value.
fn colorbar(painter: &Painter, rect: Rect, p: &DisplayParams, mapped: bool) {
    let h = (rect.height() * 0.5).clamp(80.0, 320.0);
    let bar = Rect::from_min_size(
        egui::pos2(rect.max.x - 74.0, rect.center().y - h / 2.0),
        Vec2::new(14.0, h),
    );
    let back = Rect::from_x_y_ranges(
        bar.min.x - 6.0..=rect.max.x - 2.0,
        bar.min.y - 10.0..=bar.max.y + 10.0,
    );
    painter.rect_filled(back, 3.0, Color32::from_black_alpha(120));
    let lut = p.colormap.lut();
    let (lo, hi) = (p.levels.min, p.levels.max);
    let steps = 64;
    for i in 0..steps {
        // top is the high level
        let f = (i as f32 + 0.5) / steps as f32;
        let v = hi - f * (hi - lo);
        let t = level(v, p).unwrap_or(0.0);
        let c = if mapped {
            let [r, g, b, _] = lut[lut_index(t)];
            Color32::from_rgb(r, g, b)
        } else {
            let g = (t * 255.0 + 0.5) as u8;
            Color32::from_gray(g)
        };
        let y0 = bar.min.y + bar.height() * i as f32 / steps as f32;
        let y1 = bar.min.y + bar.height() * (i + 1) as f32 / steps as f32;
        painter.rect_filled(Rect::from_x_y_ranges(bar.x_range(), y0..=y1 + 0.5), 0.0, c);
    }
    painter.rect_stroke(
        bar,
        0.0,
        Stroke::new(1.0, Color32::from_gray(160)),
        egui::StrokeKind::Outside,
    );
    let label = |y: f32, v: f32| {
        painter.text(
            egui::pos2(bar.max.x + 4.0, y),
            Align2::LEFT_CENTER,
            short_value(v),
            FontId::proportional(11.0),
            Color32::from_gray(230),
        );
    };
    label(bar.min.y, hi);
    label(bar.center().y, (lo + hi) / 2.0);
    label(bar.max.y, lo);
}
