//! Profile, ROI and pixel time-series plots (bottom panel).

use egui::{Color32, Stroke, Ui};
use egui_plot::{FilledArea, Line, Plot, PlotPoints, VLine};

use crate::viewer::state::ViewerState;

/// Curve colours: white for gray data, red/green/blue per channel for colour.
fn channel_colour(c: usize, channels: usize) -> Color32 {
    match (channels, c % 3) {
        (1, _) => Color32::WHITE,
        (_, 0) => Color32::from_rgb(255, 110, 110),
        (_, 1) => Color32::from_rgb(110, 230, 110),
        _ => Color32::from_rgb(120, 160, 255),
    }
}

fn legend() -> egui_plot::Legend {
    egui_plot::Legend::default()
        .position(egui_plot::Corner::LeftTop)
        .background_alpha(0.4)
        .text_style(egui::TextStyle::Small)
}

/// Fill of an envelope in the profile plots.
fn envelope_colour(name: &str) -> Color32 {
    match name {
        "dataset" => Color32::from_rgba_unmultiplied(80, 140, 255, 40),
        "crosshair band" => Color32::from_rgba_unmultiplied(0, 220, 120, 50),
        _ => Color32::from_rgba_unmultiplied(200, 200, 200, 35),
    }
}

/// A pixel (pinned or under the cursor) and its value in every frame.
type PixelCurve = ((usize, usize), std::sync::Arc<Vec<f32>>);

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    s.profile.hover = None;
    let profiles = match s.profiles() {
        Ok(p) => p,
        Err(e) => {
            ui.label(format!("profiles: {e}"));
            None
        }
    };
    let probe = s.probe.as_ref().map(|p| (p.0, p.1));
    let (cx, cy) = s.profile.crosshair.unwrap_or((0, 0));
    // pixel series first: they may come from the cache or a background job
    let pixels: Vec<PixelCurve> = s
        .roi
        .pins
        .clone()
        .into_iter()
        .chain(probe)
        .filter_map(|(x, y)| s.pixel_series_at(x, y).map(|v| ((x, y), v)))
        .collect();
    let h = ui.available_height().max(80.0);
    let mut hover = None;
    let mut clicked_frame = None;
    ui.columns(3, |cols| {
        let (c0, rest) = cols.split_at_mut(1);
        let (c1, c2) = rest.split_at_mut(1);
        if let Some(p) = &profiles {
            for (k, (ui, prof, name)) in [
                (&mut c0[0], &p.h, "H profile"),
                (&mut c1[0], &p.v, "V profile"),
            ]
            .into_iter()
            .enumerate()
            {
                let resp = Plot::new(name)
                    .height(h)
                    .legend(legend())
                    .x_axis_label(if k == 0 { "x" } else { "y" })
                    .show(ui, |pui| {
                        for (ename, eh, ev) in &p.envelopes {
                            let e = if k == 0 { eh } else { ev };
                            let xs: Vec<f64> = (0..e.lo.len()).map(|i| i as f64 + 0.5).collect();
                            let lo: Vec<f64> = e.lo.iter().map(|&v| v as f64).collect();
                            let hi: Vec<f64> = e.hi.iter().map(|&v| v as f64).collect();
                            pui.add(
                                FilledArea::new(*ename, &xs, &lo, &hi)
                                    .fill_color(envelope_colour(ename))
                                    .stroke(Stroke::new(
                                        1.0,
                                        envelope_colour(ename).gamma_multiply(2.5),
                                    )),
                            );
                        }
                        for c in 0..prof.channels {
                            let pts: PlotPoints = (0..prof.len())
                                .map(|i| [i as f64 + 0.5, prof.get(i, c) as f64])
                                .collect();
                            pui.line(
                                Line::new(format!("{name} c{c}"), pts)
                                    .color(channel_colour(c, prof.channels))
                                    .width(1.8),
                            );
                        }
                        if let Some((px, py)) = probe {
                            pui.vline(VLine::new(
                                "cursor",
                                if k == 0 { px } else { py } as f64 + 0.5,
                            ));
                        }
                        pui.pointer_coordinate()
                    });
                if let Some(pt) = resp.inner
                    && resp.response.hovered()
                    && pt.x >= 0.0
                {
                    let i = pt.x as usize;
                    hover = Some(if k == 0 { (i, cy) } else { (cx, i) });
                }
            }
        }
        let ui = &mut c2[0];
        let frame = s.playback.frame as f64;
        let resp = Plot::new("time series")
            .height(h)
            .legend(legend())
            .x_axis_label("frame")
            .show(ui, |pui| {
                if let Some(r) = &s.roi.series {
                    for c in 0..r.channels {
                        let xs: Vec<f64> = r.frames.iter().map(|&f| f as f64).collect();
                        let val: Vec<f64> =
                            (0..xs.len()).map(|i| r.value[r.at(i, c)] as f64).collect();
                        if s.roi.bands {
                            let lo: Vec<f64> =
                                (0..xs.len()).map(|i| r.min[r.at(i, c)] as f64).collect();
                            let hi: Vec<f64> =
                                (0..xs.len()).map(|i| r.max[r.at(i, c)] as f64).collect();
                            pui.add(
                                FilledArea::new(format!("ROI min/max c{c}"), &xs, &lo, &hi)
                                    .fill_color(Color32::from_rgba_unmultiplied(255, 220, 0, 50)),
                            );
                        }
                        let pts: PlotPoints = xs.iter().zip(&val).map(|(x, y)| [*x, *y]).collect();
                        pui.line(
                            Line::new(format!("ROI {} c{c}", s.roi.stat), pts)
                                .color(Color32::from_rgb(255, 220, 0)),
                        );
                    }
                }
                for ((x, y), series) in &pixels {
                    let pts: PlotPoints = series
                        .iter()
                        .enumerate()
                        .map(|(t, &v)| [t as f64, v as f64])
                        .collect();
                    pui.line(Line::new(format!("pixel ({x}, {y})"), pts));
                }
                pui.vline(VLine::new("frame", frame));
                pui.pointer_coordinate()
            });
        if resp.response.clicked()
            && let Some(pt) = resp.inner
        {
            // clicking the time series jumps to that frame
            clicked_frame = Some(pt.x.round().max(0.0) as usize);
        }
    });
    s.profile.hover = hover;
    if let Some(t) = clicked_frame {
        s.jump_to_frame(t);
    }
}
