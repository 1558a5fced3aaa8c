//! Physical units of a dataset: the size of a pixel (with its unit: nm, µm, mm, m) and
//! the time between frames (from the source's rate or timestamps where known, else set
//! by the user). One rule for the viewer (probe, measure tool, scale bar, plots) and the
//! CSV exports, which keep their pixel and frame columns and add the unit ones.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ops::SpecError;

/// A length unit for the pixel size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    Nm,
    Um,
    Mm,
    M,
}

impl Unit {
    /// The unit's symbol: nm, µm, mm, m.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Nm => "nm",
            Unit::Um => "µm",
            Unit::Mm => "mm",
            Unit::M => "m",
        }
    }

    /// ASCII name for CSV column names: nm, um, mm, m.
    pub fn ascii(self) -> &'static str {
        match self {
            Unit::Um => "um",
            u => u.symbol(),
        }
    }
}

impl FromStr for Unit {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Unit, SpecError> {
        match s.trim() {
            "nm" => Ok(Unit::Nm),
            "um" | "µm" | "μm" | "micron" => Ok(Unit::Um),
            "mm" => Ok(Unit::Mm),
            "m" => Ok(Unit::M),
            u => Err(SpecError(format!(
                "unknown length unit '{u}' (nm, um, mm, m)"
            ))),
        }
    }
}

/// The size of one pixel: `value` `unit`s, positive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PixelSize {
    pub value: f64,
    pub unit: Unit,
}

impl PixelSize {
    /// A pixel size, or an error for zero, a negative or a non-finite value.
    pub fn new(value: f64, unit: Unit) -> Result<PixelSize, SpecError> {
        if !(value.is_finite() && value > 0.0) {
            return Err(SpecError(format!(
                "a pixel size must be a positive number, got {value}"
            )));
        }
        Ok(PixelSize { value, unit })
    }
}

/// `t` split where its leading number ends: `2.5um` -> (`2.5`, `um`); the unit is
/// empty when nothing follows the number.
fn number_and_unit(t: &str) -> (&str, &str) {
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(t.len());
    t.split_at(end)
}

/// `2.5um`, `2.5 µm`, `0.1mm`: a number and a unit.
impl FromStr for PixelSize {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<PixelSize, SpecError> {
        let s = s.trim();
        let (num, unit) = number_and_unit(s);
        if unit.is_empty() {
            return Err(SpecError(format!(
                "'{s}': expected a number and a unit, e.g. 2.5um"
            )));
        }
        let value: f64 = num
            .parse()
            .map_err(|_| SpecError(format!("'{s}': '{num}' is not a number")))?;
        PixelSize::new(value, unit.parse()?)
    }
}

impl PixelSize {
    /// `px` pixels in the unit.
    pub fn length(self, px: f64) -> f64 {
        px * self.value
    }

    /// An area of `px` pixels in the unit squared.
    pub fn area(self, px: f64) -> f64 {
        px * self.value * self.value
    }
}

impl fmt::Display for PixelSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit.symbol())
    }
}

/// A time in seconds from `10us`, `0.5 ms`, `2e-5` (seconds), `1 s`: positive.
pub fn parse_seconds(s: &str) -> Result<f64, SpecError> {
    let t = s.trim();
    let (num, unit) = number_and_unit(t);
    let v: f64 = num
        .parse()
        .map_err(|_| SpecError(format!("'{t}': expected a time such as 10us or 0.5ms")))?;
    // divided, not multiplied by 1e-6: 10us is exactly the f64 nearest 1e-5
    let per_second = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e3,
        "us" | "µs" | "μs" => 1e6,
        "ns" => 1e9,
        u => {
            return Err(SpecError(format!(
                "'{t}': unknown time unit '{u}' (s, ms, us, ns)"
            )));
        }
    };
    let secs = v / per_second;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(SpecError(format!(
            "a frame interval must be a positive time, got '{t}'"
        )));
    }
    Ok(secs)
}

/// Where the time between frames comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum FrameTime {
    /// The source's rate or timestamps.
    Source,
    /// Seconds between frames, set by the user.
    Interval(f64),
}

/// The units of one dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// None: distances in pixels only.
    pub pixel: Option<PixelSize>,
    pub time: FrameTime,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            pixel: None,
            time: FrameTime::Source,
        }
    }
}

impl Calibration {
    /// `px` pixels in words: "12.5 px" or "12.5 px = 31.25 µm".
    pub fn describe_length(&self, px: f64) -> String {
        match self.pixel {
            Some(p) => format!(
                "{} px = {} {}",
                short(px),
                short(p.length(px)),
                p.unit.symbol()
            ),
            None => format!("{} px", short(px)),
        }
    }

    /// The time of frame `k` given the source's time of it (None: the source does not
    /// say): the user's interval wins when set.
    pub fn time(&self, k: usize, source: Option<f64>) -> Option<f64> {
        match self.time {
            FrameTime::Interval(dt) => Some(k as f64 * dt),
            FrameTime::Source => source,
        }
    }

    /// A length of about a fifth of `view_px` pixels with a round value in units (1, 2
    /// or 5 times a power of ten): the scale bar's length in pixels and its label.
    pub fn scale_bar(&self, view_px: f64) -> Option<(f64, String)> {
        let p = self.pixel?;
        let want = view_px / 5.0 * p.value;
        if !(want.is_finite() && want > 0.0) {
            return None;
        }
        let exp = want.log10().floor();
        let base = 10f64.powf(exp);
        let nice = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * base)
            .rfind(|v| *v <= want)
            .unwrap_or(base);
        Some((
            nice / p.value,
            format!("{} {}", short(nice), p.unit.symbol()),
        ))
    }
}

/// A time in ms below a second, in s from there: `12.000 ms`, `1.5000 s`.
pub fn fmt_seconds(sec: f64) -> String {
    if sec.abs() < 1.0 {
        format!("{:.3} ms", sec * 1e3)
    } else {
        format!("{sec:.4} s")
    }
}

/// A number to 4 significant digits, without trailing zeros.
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_sizes_read_with_their_unit_and_refuse_zero() {
        let p: PixelSize = "2.5um".parse().unwrap();
        assert_eq!((p.value, p.unit), (2.5, Unit::Um));
        let p: PixelSize = " 0.1 mm".parse().unwrap();
        assert_eq!((p.value, p.unit), (0.1, Unit::Mm));
        assert_eq!("3µm".parse::<PixelSize>().unwrap().unit, Unit::Um);
        for bad in ["0um", "-1mm", "um", "2.5", "2.5 furlong", "nanum"] {
            assert!(bad.parse::<PixelSize>().is_err(), "{bad}");
        }
        assert_eq!(parse_seconds("10us").unwrap(), 1e-5);
        assert_eq!(parse_seconds(" 0.5 ms").unwrap(), 5e-4);
        assert_eq!(parse_seconds("2").unwrap(), 2.0);
        for bad in ["0", "-1ms", "fast", "3 h"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_times_and_scale_bars() {
        let c = Calibration {
            pixel: Some(PixelSize::new(2.5, Unit::Um).unwrap()),
            time: FrameTime::Interval(1e-5),
        };
        let p = c.pixel.unwrap();
        assert_eq!((p.length(4.0), p.area(4.0)), (10.0, 25.0));
        assert_eq!(c.describe_length(12.5), "12.5 px = 31.25 µm");
        assert!((c.time(3, Some(99.0)).unwrap() - 3e-5).abs() < 1e-18);
        let (px, label) = c.scale_bar(1000.0).unwrap();
        // a fifth of 1000 px is 500 µm: the bar is 500 µm = 200 px
        assert_eq!((px, label.as_str()), (200.0, "500 µm"));
        let (px, label) = c.scale_bar(300.0).unwrap();
        // 150 µm wanted: 100 µm
        assert_eq!((px, label.as_str()), (40.0, "100 µm"));
        assert_eq!(Calibration::default().scale_bar(100.0), None);
        assert_eq!(Calibration::default().time(3, Some(0.5)), Some(0.5));
        assert_eq!(short(0.000123456), "0.0001235");
        assert_eq!(short(31.25), "31.25");
        assert_eq!(short(1200.0), "1200");
    }
}
