//! Profile, ROI and pixel time-series plots (bottom panel).

use egui::{Color32, Stroke, Ui};
use egui_plot::{FilledArea, Line, Plot, PlotPoints, VLine};

use crate::viewer::state::ViewerState;

use super::colours;
use crate::calibration::{FrameTime, fmt_seconds, short};
use crate::ops::roi::table::Stats;

/// A legend in a plot of `size` (points), or none where it would cover the curves: a
/// small plot shows its names on hover instead.
fn legend(size: egui::Vec2) -> Option<egui_plot::Legend> {
    (size.x >= 320.0 && size.y >= 150.0).then(|| {
        egui_plot::Legend::default()
            .position(egui_plot::Corner::LeftTop)
            .background_alpha(0.25)
            .text_style(egui::TextStyle::Small)
    })
}

/// A plot named `name` with a legend where it fits.
fn plot(name: &str, ui: &Ui, h: f32) -> Plot<'static> {
    let p = Plot::new(name.to_string()).height(h);
    match legend(egui::vec2(ui.available_width(), h)) {
        Some(l) => p.legend(l),
        None => p,
    }
}

/// Fill of an envelope in the profile plots.
fn envelope_colour(name: &str) -> Color32 {
    match name {
        "dataset" => Color32::from_rgba_unmultiplied(80, 140, 255, 40),
        "crosshair band" => Color32::from_rgba_unmultiplied(0, 220, 120, 50),
        _ => Color32::from_rgba_unmultiplied(200, 200, 200, 35),
    }
}

/// A pixel series: its name ("pin 1 (x, y)"), colour and value in every frame.
type PixelCurve = (String, Color32, std::sync::Arc<Vec<f32>>);

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
    let named: Vec<(String, Color32, (usize, usize))> = s
        .roi
        .pins
        .clone()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("pin {}", i + 1), colours::pin(i), p))
        .chain(probe.map(|p| ("cursor".to_string(), colours::CURSOR, p)))
        .collect();
    let values = s.stack_values();
    // a pixel's series of colour data is the mean of its channels
    let of = if s.pipeline.stack.shape().channels > 1 {
        ", mean of the channels"
    } else {
        ""
    };
    let pixels: Vec<PixelCurve> = named
        .into_iter()
        .filter_map(|(name, colour, (x, y))| {
            let (lx, ly) = s.loaded_xy(x, y);
            let label = format!("{name} ({lx}, {ly}) {values}{of}");
            s.pixel_series_at(x, y).map(|v| (label, colour, v))
        })
        .collect();
    let pca_scores = s.pca_scores();
    let h = ui.available_height().max(80.0);
    // profile positions in the loaded frame's pixels (a crop to the ROI keeps its offset)
    let (ox, oy) = s.loaded_xy(0, 0);
    let mut hover = None;
    let mut clicked_frame = None;
    ui.columns(3, |cols| {
        let (c0, rest) = cols.split_at_mut(1);
        let (c1, c2) = rest.split_at_mut(1);
        let line = match s.line_profile() {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                c0[0].label(format!("line profile: {e}"));
                None
            }
            None => None,
        };
        if let Some((prof, arc)) = &line {
            let mut envs = Vec::new();
            if let Some(e) = s.line_band_envelope() {
                envs.push(("crosshair band", "line band".to_string(), e));
            }
            if let Some((range, e)) = s.line_envelope() {
                let name = format!("dataset, frames {}..={}", range.first, range.last);
                envs.push(("dataset", name, e));
            }
            line_plot(&mut c0[0], h, (prof, arc), &envs, s.calibration.pixel);
        }
        if let Some(p) = &profiles {
            for (k, (ui, prof, name)) in [
                (&mut c0[0], &p.h, "H profile"),
                (&mut c1[0], &p.v, "V profile"),
            ]
            .into_iter()
            .enumerate()
            {
                if k == 0 && line.is_some() {
                    // the line tool's profile takes the H profile's place
                    continue;
                }
                let off = if k == 0 { ox } else { oy } as f64;
                let axis = if k == 0 { "x" } else { "y" };
                let mut pl = plot(name, ui, h).x_axis_label(axis);
                if let Some(p) = s.calibration.pixel {
                    // ticks in units; the data stay in pixels
                    pl = pl
                        .x_axis_label(format!("{axis} ({})", p.unit.symbol()))
                        .x_axis_formatter(move |m, _| short(p.length(m.value)));
                }
                let resp = pl.show(ui, |pui| {
                    for (ename, eh, ev) in &p.envelopes {
                        let e = if k == 0 { eh } else { ev };
                        let xs: Vec<f64> = (0..e.lo.len()).map(|i| off + i as f64 + 0.5).collect();
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
                            .map(|i| [off + i as f64 + 0.5, prof.get(i, c) as f64])
                            .collect();
                        pui.line(
                            Line::new(
                                format!("{name}{}", colours::channel_name(c, prof.channels)),
                                pts,
                            )
                            .color(colours::channel(c, prof.channels, Color32::WHITE))
                            .width(1.8),
                        );
                    }
                    if let Some((px, py)) = probe {
                        // unnamed: markers stay out of the legend
                        let at = if k == 0 { px } else { py } as f64;
                        pui.vline(VLine::new("", off + at + 0.5));
                    }
                    pui.pointer_coordinate()
                });
                if let Some(pt) = resp.inner
                    && resp.response.hovered()
                    && pt.x >= off
                {
                    let i = (pt.x - off) as usize;
                    hover = Some(if k == 0 { (i, cy) } else { (cx, i) });
                }
            }
        }
        let ui = &mut c2[0];
        let frame = s.playback.frame as f64;
        let mut pl = plot("time series", ui, h).x_axis_label("frame");
        if let FrameTime::Interval(dt) = s.calibration.time {
            // ticks in seconds from the loaded frame the displayed ones start at
            let first = s.loaded_frame(0) as f64;
            pl = pl
                .x_axis_label("time")
                .x_axis_formatter(move |m, _| fmt_seconds((first + m.value) * dt));
        }
        let resp = pl.show(ui, |pui| {
            if let Some(r) = &s.roi.series {
                for c in 0..r.channels {
                    let colour = colours::channel(c, r.channels, colours::ROI);
                    let ch = colours::channel_name(c, r.channels);
                    let xs: Vec<f64> = r.frames.iter().map(|&f| f as f64).collect();
                    let val: Vec<f64> = (0..xs.len()).map(|i| r.value[r.at(i, c)] as f64).collect();
                    if s.roi.bands {
                        let lo: Vec<f64> =
                            (0..xs.len()).map(|i| r.min[r.at(i, c)] as f64).collect();
                        let hi: Vec<f64> =
                            (0..xs.len()).map(|i| r.max[r.at(i, c)] as f64).collect();
                        pui.add(
                            FilledArea::new(format!("ROI min/max{ch}"), &xs, &lo, &hi)
                                .fill_color(colours::band(colour)),
                        );
                    }
                    let pts: PlotPoints = xs.iter().zip(&val).map(|(x, y)| [*x, *y]).collect();
                    pui.line(
                        Line::new(format!("ROI {}{ch} {values}", s.roi.stat), pts)
                            .color(colour)
                            .width(2.0),
                    );
                }
            }
            if let Some(t) = &s.roi_set.table {
                // the set's ROIs in their colours: the median where the table has it,
                // else the mean (of the first channel), with min/max bands when on
                let (stat, of): (&str, fn(Stats) -> f32) = if t.medians {
                    ("median", |st| st.median.unwrap_or(f32::NAN))
                } else {
                    ("mean", |st| st.mean)
                };
                let ch = colours::channel_name(0, t.channels);
                let xs: Vec<f64> = t.frames.iter().map(|&f| f as f64).collect();
                for (r, name) in t.names.iter().enumerate() {
                    let colour = colours::set_roi(r);
                    let at = |i: usize| t.get(i, r, 0);
                    if s.roi.bands {
                        let lo: Vec<f64> = (0..xs.len()).map(|i| at(i).min as f64).collect();
                        let hi: Vec<f64> = (0..xs.len()).map(|i| at(i).max as f64).collect();
                        pui.add(
                            FilledArea::new(format!("{name} min/max{ch}"), &xs, &lo, &hi)
                                .fill_color(colours::band(colour)),
                        );
                    }
                    let pts: PlotPoints =
                        (0..xs.len()).map(|i| [xs[i], of(at(i)) as f64]).collect();
                    pui.line(
                        Line::new(format!("{name} {stat}{ch}"), pts)
                            .color(colour)
                            .width(1.5),
                    );
                }
            }
            if let Some((j, pts)) = &pca_scores {
                let pts: PlotPoints = pts.iter().map(|&(t, v)| [t as f64, v as f64]).collect();
                pui.line(
                    Line::new(format!("PC {} score", j + 1), pts)
                        .color(colours::PCA)
                        .width(1.8),
                );
            }
            for (label, colour, series) in &pixels {
                let pts: PlotPoints = series
                    .iter()
                    .enumerate()
                    .map(|(t, &v)| [t as f64, v as f64])
                    .collect();
                pui.line(Line::new(label.as_str(), pts).color(*colour).width(1.2));
            }
            pui.vline(VLine::new("", frame));
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

/// The profile along the line tool's line against the arc length from its first point
/// (pixels, ticks in units once calibrated).
fn line_plot(
    ui: &mut Ui,
    h: f32,
    (prof, arc): (&crate::ops::profile::Profile, &[f32]),
    envs: &[(&str, String, crate::ops::profile::Envelope)],
    pixel: Option<crate::calibration::PixelSize>,
) {
    let mut pl = plot("line profile", ui, h).x_axis_label("along the line (px)");
    if let Some(p) = pixel {
        pl = pl
            .x_axis_label(format!("along the line ({})", p.unit.symbol()))
            .x_axis_formatter(move |m, _| short(p.length(m.value)));
    }
    let xs: Vec<f64> = arc.iter().map(|&a| a as f64).collect();
    pl.show(ui, |pui| {
        for (kind, name, e) in envs {
            let lo: Vec<f64> = e.lo.iter().map(|&v| v as f64).collect();
            let hi: Vec<f64> = e.hi.iter().map(|&v| v as f64).collect();
            let colour = envelope_colour(kind);
            pui.add(
                FilledArea::new(name, &xs, &lo, &hi)
                    .fill_color(colour)
                    .stroke(Stroke::new(1.0, colour.gamma_multiply(2.5))),
            );
        }
        for c in 0..prof.channels {
            let pts: PlotPoints = (0..prof.len())
                .map(|i| [xs[i], prof.get(i, c) as f64])
                .collect();
            pui.line(
                Line::new(
                    format!("line profile{}", colours::channel_name(c, prof.channels)),
                    pts,
                )
                .color(colours::channel(c, prof.channels, colours::LINE))
                .width(1.8),
            );
        }
    });
}
