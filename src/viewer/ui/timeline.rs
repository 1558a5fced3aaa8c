//! The timeline: playback buttons, the frame slider, rate and loop; below it the probe
//! and status, and the progress of each job running with its Cancel.

use egui::Ui;

use crate::viewer::state::{Command, ViewerState};

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    egui::Panel::bottom("timeline").show(ui, |ui| {
        ui.add_space(4.0);
        let n = s.pipeline.stack.shape().frames;
        ui.horizontal(|ui| {
            let label = if s.playback.playing { "Pause" } else { "Play" };
            if ui.button(label).clicked() {
                s.command(Command::TogglePlay);
            }
            for (text, tip, c) in [
                ("|<", "first frame (Home)", Command::FirstFrame),
                ("<", "previous frame (Left)", Command::PreviousFrame),
                (">", "next frame (Right)", Command::NextFrame),
                (">|", "last frame (End)", Command::LastFrame),
            ] {
                if ui.button(text).on_hover_text(tip).clicked() {
                    s.command(c);
                }
            }
            let mut t = s.playback.frame;
            let w = (ui.available_width() - 500.0).max(100.0);
            ui.spacing_mut().slider_width = w;
            if ui
                .add(egui::Slider::new(&mut t, 0..=n.saturating_sub(1)).text("frame"))
                .changed()
            {
                s.jump_to_frame(t);
            }
            ui.label(frame_label(s, s.playback.frame))
                .on_hover_text("frame number and time in the source");
            let mut fps = s.playback.fps;
            let r = ui.add(
                egui::DragValue::new(&mut fps)
                    .range(0.1..=1000.0)
                    .suffix(" fps"),
            );
            if r.changed() {
                s.playback.set_fps(fps);
            }
            if let Some(rate) = s.playback.source_rate {
                r.on_hover_text(format!(
                    "the source runs at {} frames/s here; {}",
                    fmt_rate(rate),
                    speed_text(s.playback.speed)
                ));
                ui.label(speed_text(s.playback.speed));
            }
            ui.checkbox(&mut s.playback.looping, "loop");
            ui.checkbox(&mut s.playback.skip_frames, "skip frames")
                .on_hover_text(
                    "keep the rate by skipping frames the machine cannot draw in time \
                     (off: every frame is shown, slower if need be)",
                );
            if let Some(got) = s.playback.achieved_fps().filter(|_| s.playback.playing) {
                match s.playback.shortfall() {
                    Some(text) => {
                        ui.colored_label(egui::Color32::from_rgb(255, 190, 80), text);
                    }
                    None => {
                        ui.label(format!("drawn {got:.1} fps"))
                            .on_hover_text("frames a second the window achieves");
                    }
                }
            }
        });
        ui.horizontal(|ui| {
            let probe = s.probe.as_ref().map_or("", |p| p.2.as_str());
            ui.monospace(format!("{probe:<48}"));
            ui.separator();
            ui.label(&s.status);
            if !s.last_compute.is_empty() {
                // the last computation, its engine and its time
                ui.separator();
                ui.label(&s.last_compute)
                    .on_hover_text("the last computation: what, which engine, how long");
            }
        });
        for (kind, st) in s.jobs.running() {
            ui.horizontal(|ui| {
                let bar = match st.fraction() {
                    Some(f) => egui::ProgressBar::new(f),
                    None => egui::ProgressBar::new(0.0).animate(true),
                };
                ui.add(
                    bar.text(st.text())
                        .desired_width(ui.available_width() - 90.0),
                );
                if s.jobs.cancellable(kind) && ui.button("Cancel").clicked() {
                    s.cancel_job(kind);
                }
            });
        }
        ui.add_space(2.0);
    });
}

/// `#120 · 12.0 ms`: the source's frame number and time of displayed frame `t`.
fn frame_label(s: &ViewerState, t: usize) -> String {
    let n = s.source_frame(t);
    match s.frame_time(t) {
        Some(sec) => format!("#{n} · {}", crate::calibration::fmt_seconds(sec)),
        None => format!("#{n}"),
    }
}

fn fmt_rate(r: f64) -> String {
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

/// `real time`, `x0.25 of real time`, `1/1500 of real time`.
fn speed_text(speed: f64) -> String {
    if (speed - 1.0).abs() < 1e-6 {
        "real time".into()
    } else if speed >= 0.1 {
        format!("x{speed:.2} of real time")
    } else {
        format!("1/{:.0} of real time", 1.0 / speed)
    }
}
