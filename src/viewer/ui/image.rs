//! The image area: the frame, pointer input per tool (turned into state calls in data
//! coordinates) and the overlays (crosshair, ROI, polygon draft, pins, profile hover).

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::ops::roi::Roi;
use crate::viewer::state::{Command, Tool, ViewerState};

use super::ImageFn;
use super::{annotations, colours};

/// The tool picker above the image.
pub fn tool_bar(s: &mut ViewerState, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.label("tool:");
        for (t, name, tip) in [
            (Tool::Navigate, "navigate", "drag pans, wheel zooms (N)"),
            (
                Tool::Crosshair,
                "crosshair",
                "click sets the profile crosshair (C)",
            ),
            (Tool::Rect, "ROI rectangle", "drag draws the ROI (R)"),
            (
                Tool::Ellipse,
                "ROI ellipse",
                "drag draws an elliptic ROI in the box it spans (E)",
            ),
            (
                Tool::Polygon,
                "ROI polygon",
                "click adds a vertex, double-click closes (P)",
            ),
            (
                Tool::Pin,
                "pin pixel",
                "click pins a pixel (up to 4); its time series is plotted (I)",
            ),
            (
                Tool::Line,
                "line",
                "drag draws a line: its profile (any angle, band of the profile width) and \
                 its kymograph (L)",
            ),
            (
                Tool::Measure,
                "measure",
                "drag measures a distance (in units once calibrated) and an angle; Ctrl+C \
                 copies it (M)",
            ),
        ] {
            ui.selectable_value(&mut s.tool, t, name).on_hover_text(tip);
        }
        ui.separator();
        // the zoom in screen pixels per data pixel: 100 % is one for one (key 1)
        let percent = s.view.zoom * ui.ctx().pixels_per_point() * 100.0;
        ui.label(format!("zoom {percent:.0} %"))
            .on_hover_text("screen pixels per data pixel: + / - zoom, F fits, 1 is 100 %");
        let panels = if s.panels_hidden {
            "show panels"
        } else {
            "hide panels"
        };
        if ui.button(panels).on_hover_text("Tab").clicked() {
            s.command(Command::TogglePanels);
        }
    });
}

pub fn show(s: &mut ViewerState, ui: &mut Ui, image: &mut ImageFn<'_>) {
    let rect = ui.max_rect();
    if s.pending_setup.is_some() {
        // the first stack is still loading: say so instead of drawing the placeholder
        loading(s, ui, rect);
        return;
    }
    let ppp = ui.ctx().pixels_per_point();
    s.layout_view(rect.size(), ppp);
    let resp = ui.allocate_rect(rect, Sense::click_and_drag());
    let data = |p: Pos2, s: &ViewerState| s.area_to_data(p - rect.min);
    match s.tool {
        Tool::Navigate => {
            if resp.dragged() {
                s.view.pan(resp.drag_delta());
            }
            if resp.double_clicked() {
                s.command(Command::Fit);
            }
        }
        Tool::Crosshair => {
            s.profile.dragged = resp.dragged();
            if (resp.clicked() || resp.dragged())
                && let Some(p) = resp.interact_pointer_pos()
            {
                let d = data(p, s);
                s.set_crosshair_at(d.x, d.y);
            }
        }
        Tool::Rect => {
            if resp.dragged()
                && let Some((a, b)) = drag_segment(ui, s, rect, resp.interact_pointer_pos())
            {
                s.roi_drag(a, b, resp.drag_started());
            }
            if resp.drag_stopped() {
                let at = release_at(ui).or(resp.interact_pointer_pos()).map(|p| {
                    let d = data(p, s);
                    (d.x, d.y)
                });
                s.roi_drag_release(at);
            }
        }
        Tool::Polygon => {
            if resp.double_clicked() && s.roi.polygon_draft.len() >= 3 {
                s.polygon_close();
            } else if resp.clicked()
                && let Some(p) = resp.interact_pointer_pos()
            {
                let d = data(p, s);
                s.polygon_click(d.x, d.y);
            }
        }
        Tool::Ellipse => {
            if resp.dragged()
                && let Some((a, b)) = drag_segment(ui, s, rect, resp.interact_pointer_pos())
            {
                s.ellipse_drag(a, b);
            }
            if resp.drag_stopped() {
                let end = release_at(ui).or(resp.interact_pointer_pos());
                if let Some((a, b)) = drag_segment(ui, s, rect, end) {
                    s.ellipse_drag(a, b);
                }
                s.roi_drag_end();
            }
        }
        Tool::Measure | Tool::Line => {
            if resp.dragged()
                && let Some((a, b)) = drag_segment(ui, s, rect, resp.interact_pointer_pos())
            {
                if s.tool == Tool::Measure {
                    s.measure_drag(a, b);
                } else if (b.0 - a.0).hypot(b.1 - a.1) >= 1.0 {
                    // a long press that has not moved a pixel keeps the line there is
                    s.line_drag(a, b);
                }
            }
            if s.tool == Tool::Line {
                // a click adds a vertex (a polyline), a right click takes the last back
                if resp.clicked()
                    && let Some(p) = resp.interact_pointer_pos()
                {
                    let d = data(p, s);
                    s.line_extend((d.x, d.y));
                }
                if resp.secondary_clicked() {
                    s.line_undo_vertex();
                }
            }
        }
        Tool::Pin => {
            if resp.clicked()
                && let Some(p) = resp.interact_pointer_pos()
            {
                let d = data(p, s);
                s.pin_at(d.x, d.y);
            }
            if resp.secondary_clicked() {
                s.roi.pins.clear();
            }
        }
    }
    let hover = resp.hover_pos();
    if let Some(pos) = hover {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            s.zoom_at(pos - rect.min, (scroll / 200.0).exp());
        }
    }
    let at = hover.map(|p| data(p, s)).map(|d| (d.x, d.y));
    s.hover_at(at);
    image(
        ui,
        rect,
        s.placement(rect.min.to_vec2(), ppp),
        s.display.params,
    );
    overlays(s, ui, rect);
    annotations::show(s, &ui.painter_at(rect), rect);
}

/// The segment a drag spans, in data coordinates: from where the press began to `end`
/// (the pointer now, or where it was released).
fn drag_segment(
    ui: &Ui,
    s: &ViewerState,
    rect: Rect,
    end: Option<Pos2>,
) -> Option<((f32, f32), (f32, f32))> {
    let start = ui.input(|i| i.pointer.press_origin())?;
    let (a, b) = (
        s.area_to_data(start - rect.min),
        s.area_to_data(end? - rect.min),
    );
    Some(((a.x, a.y), (b.x, b.y)))
}

fn overlays(s: &ViewerState, ui: &Ui, rect: Rect) {
    let painter = ui.painter_at(rect);
    // overlays are kept in data coordinates and drawn through zoom, pan and orientation,
    // so they turn and flip with the picture
    let at = |x: f32, y: f32| rect.min + s.data_to_area(x, y);
    if let Some((cx, cy)) = s.profile.crosshair {
        let (w, h) = s.shown_size();
        let (w, h) = (w as f32, h as f32);
        let st = Stroke::new(1.0, Color32::from_rgba_unmultiplied(0, 255, 120, 160));
        let band = s.profile.width as f32;
        // the row and the column through the crosshair, across the image
        let row = |y: f32, st: Stroke| painter.line_segment([at(0.0, y), at(w, y)], st);
        let col = |x: f32, st: Stroke| painter.line_segment([at(x, 0.0), at(x, h)], st);
        row(cy as f32 + 0.5, st);
        col(cx as f32 + 0.5, st);
        if band > 0.0 {
            // the edges of the band the profiles average
            let s2 = Stroke::new(1.0, Color32::from_rgba_unmultiplied(0, 255, 120, 70));
            for d in [-band, band + 1.0] {
                row(cy as f32 + d, s2);
                col(cx as f32 + d, s2);
            }
        }
    }
    let roi_stroke = Stroke::new(1.5, colours::ROI);
    match &s.roi.region {
        Some(Roi::Rect { x, y, w, h }) => {
            let (x0, y0) = (*x as f32, *y as f32);
            painter.rect_stroke(
                Rect::from_two_pos(at(x0, y0), at(x0 + *w as f32, y0 + *h as f32)),
                0.0,
                roi_stroke,
                egui::StrokeKind::Middle,
            );
        }
        Some(r @ (Roi::Polygon(_) | Roi::Ellipse { .. })) => {
            let mut p: Vec<Pos2> = r.outline().iter().map(|&(x, y)| at(x, y)).collect();
            p.push(p[0]);
            painter.line(p, roi_stroke);
        }
        None => {}
    }
    for (i, r) in s.roi_set.rois.iter().enumerate() {
        let colour = colours::set_roi(i);
        let mut p: Vec<Pos2> = r.roi.outline().iter().map(|&(x, y)| at(x, y)).collect();
        p.push(p[0]);
        let top = p
            .iter()
            .copied()
            .min_by(|a, b| a.y.total_cmp(&b.y))
            .unwrap_or(p[0]);
        painter.line(p, Stroke::new(1.5, colour));
        painter.text(
            top - Vec2::new(0.0, 3.0),
            egui::Align2::CENTER_BOTTOM,
            &r.name,
            egui::FontId::proportional(12.0),
            colour,
        );
    }
    if !s.roi.polygon_draft.is_empty() {
        let p: Vec<Pos2> = s.roi.polygon_draft.iter().map(|&(x, y)| at(x, y)).collect();
        painter.line(p, Stroke::new(1.0, Color32::from_rgb(255, 160, 0)));
    }
    for (i, &(x, y)) in s.roi.pins.iter().enumerate() {
        let c = at(x as f32 + 0.5, y as f32 + 0.5);
        // the colour and name of its curve in the time-series plot
        painter.circle_stroke(c, 5.0, Stroke::new(2.0, colours::pin(i)));
        painter.text(
            c + Vec2::new(6.0, -6.0),
            egui::Align2::LEFT_BOTTOM,
            format!("pin {}", i + 1),
            egui::FontId::proportional(12.0),
            colours::pin(i),
        );
    }
    if s.lines.points.len() >= 2 {
        let st = Stroke::new(2.0, colours::LINE);
        let pts: Vec<Pos2> = s.lines.points.iter().map(|&(x, y)| at(x, y)).collect();
        for p in &pts[1..pts.len() - 1] {
            // the polyline's inner vertices
            painter.circle_stroke(*p, 3.0, st);
        }
        painter.line(pts, st);
        if let Some(p) = s.lines.mark.and_then(|i| s.kymograph_point(i)) {
            painter.circle_stroke(at(p.0, p.1), 5.0, Stroke::new(2.0, Color32::WHITE));
        }
    }
    if let (Some(m), Some(text)) = (s.measure, s.measure_text()) {
        let (a, b) = (at(m.a.0, m.a.1), at(m.b.0, m.b.1));
        let st = Stroke::new(2.0, colours::MEASURE);
        painter.line_segment([a, b], st);
        for p in [a, b] {
            painter.circle_stroke(p, 3.0, st);
        }
        painter.text(
            b + Vec2::new(8.0, -8.0),
            egui::Align2::LEFT_BOTTOM,
            text,
            egui::FontId::proportional(13.0),
            colours::MEASURE,
        );
    }
    if let Some((x, y)) = s.profile.hover {
        let c = at(x as f32 + 0.5, y as f32 + 0.5);
        painter.circle_stroke(c, 6.0, Stroke::new(2.0, Color32::WHITE));
    }
}

/// The image area while the first stack loads: what loads, and how far it got.
fn loading(s: &ViewerState, ui: &mut Ui, rect: Rect) {
    let text = match &s.jobs.load {
        Some(j) => {
            let st = j.status();
            let far = if st.total > 0 {
                format!(
                    "{} of {} ({:.0} %)",
                    st.done,
                    st.total,
                    100.0 * st.done as f64 / st.total as f64
                )
            } else {
                "reading headers".to_string()
            };
            format!("{}\n{far}, {:.1} s", st.what, st.seconds)
        }
        None => "nothing loaded".to_string(),
    };
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(18.0),
        Color32::from_gray(190),
    );
}

/// The position of this frame's release of the primary button: the release event's own,
/// as the pointer may have moved on since the last redraw.
fn release_at(ui: &Ui) -> Option<Pos2> {
    ui.input(|i| {
        i.events.iter().rev().find_map(|e| match e {
            egui::Event::PointerButton {
                pos,
                pressed: false,
                button: egui::PointerButton::Primary,
                ..
            } => Some(*pos),
            _ => None,
        })
    })
}
