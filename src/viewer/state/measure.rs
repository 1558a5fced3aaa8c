//! Units in the viewer: the dataset's calibration (pixel size, frame interval) and the
//! measure tool, a segment dragged on the image whose length (pixels and units) and
//! angle are shown on it and copied with Ctrl+C.

use crate::calibration::{Calibration, FrameTime, PixelSize, parse_seconds, short};

use super::ViewerState;

/// A measured segment in data coordinates (pixels of the shown frame, fractional).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    pub a: (f32, f32),
    pub b: (f32, f32),
}

impl Measure {
    /// Length in pixels.
    pub fn length_px(&self) -> f64 {
        let (dx, dy) = (self.b.0 - self.a.0, self.b.1 - self.a.1);
        ((dx as f64).powi(2) + (dy as f64).powi(2)).sqrt()
    }
}

/// The calibration fields as typed: a pixel size (`2.5um`; empty: none) and a frame
/// interval (`10us`; empty: the source's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalibrationInput {
    pub pixel: String,
    pub interval: String,
}

impl CalibrationInput {
    /// The text fields that give `c`.
    pub fn of(c: &Calibration) -> CalibrationInput {
        CalibrationInput {
            pixel: c
                .pixel
                .map(|p| format!("{}{}", p.value, p.unit.ascii()))
                .unwrap_or_default(),
            interval: match c.time {
                FrameTime::Interval(dt) => format!("{dt}"),
                FrameTime::Source => String::new(),
            },
        }
    }
}

impl ViewerState {
    /// Applies the typed calibration; a bad value is an error naming it, and nothing
    /// changes.
    pub fn apply_calibration_input(&mut self) {
        let i = self.calibration_input.clone();
        let pixel = match i.pixel.trim() {
            "" => Ok(None),
            t => t.parse::<PixelSize>().map(Some),
        };
        let time = match i.interval.trim() {
            "" => Ok(FrameTime::Source),
            t => parse_seconds(t).map(FrameTime::Interval),
        };
        match (pixel, time) {
            (Ok(pixel), Ok(time)) => self.set_calibration(Calibration { pixel, time }),
            (Err(e), _) => {
                self.error = Some(format!("pixel size: {}\n\nNothing was changed.", e.0))
            }
            (_, Err(e)) => {
                self.error = Some(format!("frame interval: {}\n\nNothing was changed.", e.0))
            }
        }
    }

    /// A drag of the measure tool from `from` to `to` (data coordinates).
    pub fn measure_drag(&mut self, from: (f32, f32), to: (f32, f32)) {
        self.measure = Some(Measure { a: from, b: to });
    }

    /// The angle of the measured segment as seen on screen (through the orientation), in
    /// degrees counter-clockwise from the right, -180..=180.
    pub fn measure_angle(&self, m: &Measure) -> f64 {
        let (w, h) = self.shown_size();
        let o = self.pipeline.steps.transforms;
        let a = o.to_display(m.a.0, m.a.1, w, h);
        let b = o.to_display(m.b.0, m.b.1, w, h);
        // y grows downwards on screen
        (-(b.1 - a.1) as f64).atan2((b.0 - a.0) as f64).to_degrees()
    }

    /// The measurement in words: "12.5 px = 31.25 µm, 30.0°" (None without one).
    pub fn measure_text(&self) -> Option<String> {
        let m = self.measure?;
        Some(format!(
            "{}, {:.1}°",
            self.calibration.describe_length(m.length_px()),
            self.measure_angle(&m)
        ))
    }

    /// Sets the pixel size (None: pixels only) and the frame time; the scale bar, the
    /// probe, the measure tool and the plots follow.
    pub fn set_calibration(&mut self, c: Calibration) {
        if c != self.calibration {
            self.calibration = c;
            self.save_settings();
            self.status = match (c.pixel, c.time) {
                (Some(p), FrameTime::Interval(dt)) => {
                    format!("calibrated: {p} a pixel, {} s between frames", short(dt))
                }
                (Some(p), FrameTime::Source) => format!("calibrated: {p} a pixel"),
                (None, FrameTime::Interval(dt)) => {
                    format!("calibrated: {} s between frames", short(dt))
                }
                (None, FrameTime::Source) => "calibration off: pixels and frames".into(),
            };
        }
    }

    /// Pixel (x, y) of the loaded frame in units, as a probe suffix ("" uncalibrated).
    pub fn units_of(&self, x: i64, y: i64) -> String {
        match self.calibration.pixel {
            Some(p) => format!(
                " = ({}, {}) {}",
                short(p.length(x as f64)),
                short(p.length(y as f64)),
                p.unit.symbol()
            ),
            None => String::new(),
        }
    }
}
