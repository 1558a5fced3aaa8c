//! The CSV files of profiles and ROI time series, one layout shared by `blitz profile`,
//! `blitz roi` and the viewer's exports:
//!
//! ```text
//! position, [P]value[_r,_g,_b], [P]STEM_min, [P]STEM_max, ...   (one block per profile)
//! frame, value[_r], min[_r], max[_r], value[_g], ...
//! ```
//!
//! A profile's position is the pixel centre, `index + 0.5` (spec §4.1); `P` is empty
//! for one profile, `h_` / `v_` for the viewer's two. One channel gives bare names,
//! three `_r`, `_g`, `_b`, any other count `_c0`, `_c1`, ...

use std::io::Write;
use std::path::Path;

use super::{ExportError, write_atomic};
use crate::ops::profile::{Envelope, Profile};
use crate::ops::roi::RoiSeries;
use crate::ops::roi::set::NamedRoi;
use crate::ops::roi::table::RoiTable;

/// Column stem of the per-position dataset envelope (spec §4.2), as `blitz profile
/// --envelope` writes it.
pub const ENV_DATASET: &str = "env";
/// Column stem of the min/max (or percentiles) of the whole image.
pub const ENV_IMAGE: &str = "image_env";
/// Column stem of the envelope over the crosshair band.
pub const ENV_BAND: &str = "band_env";

/// One profile of a profile CSV and the envelopes written beside it.
pub struct ProfileColumns<'a> {
    /// Prefix of its column names: "" for a single profile, "h_" / "v_" for two.
    pub prefix: &'a str,
    pub profile: &'a Profile,
    /// (stem, envelope): the columns `{prefix}{stem}_min` and `{prefix}{stem}_max`.
    pub envelopes: Vec<(&'a str, &'a Envelope)>,
}

/// Column names for one value per channel: `name` for one channel, `name_r`, `name_g`,
/// `name_b` for three, else `name_c0`, `name_c1`, ...
pub fn channel_columns(name: &str, channels: usize) -> Vec<String> {
    match channels {
        1 => vec![name.to_string()],
        3 => ["r", "g", "b"]
            .iter()
            .map(|c| format!("{name}_{c}"))
            .collect(),
        n => (0..n).map(|c| format!("{name}_c{c}")).collect(),
    }
}

/// Writes profiles side by side: one row per position of the longest, NaN where a
/// shorter one has none.
pub fn write_profiles_csv(path: &Path, curves: &[ProfileColumns<'_>]) -> Result<(), ExportError> {
    write_profiles_csv_described(path, curves, &[], None)
}

/// [`write_profiles_csv`] after `# ` comment lines saying what produced it, with the
/// position in units too (`position_um`, ...) when `pixel` calibrates it.
pub fn write_profiles_csv_described(
    path: &Path,
    curves: &[ProfileColumns<'_>],
    comments: &[String],
    pixel: Option<crate::calibration::PixelSize>,
) -> Result<(), ExportError> {
    let mut header = vec!["position".to_string()];
    if let Some(p) = pixel {
        header.push(format!("position_{}", p.unit.ascii()));
    }
    for c in curves {
        header.extend(channel_columns(
            &format!("{}value", c.prefix),
            c.profile.channels,
        ));
        for (stem, _) in &c.envelopes {
            header.push(format!("{}{stem}_min", c.prefix));
            header.push(format!("{}{stem}_max", c.prefix));
        }
    }
    let n = curves.iter().map(|c| c.profile.len()).max().unwrap_or(0);
    let rows = (0..n).map(|i| {
        let mut row = vec![i as f32 + 0.5];
        if let Some(p) = pixel {
            row.push(p.length(i as f64 + 0.5) as f32);
        }
        for c in curves {
            let p = c.profile;
            row.extend((0..p.channels).map(|ch| if i < p.len() { p.get(i, ch) } else { f32::NAN }));
            for (_, e) in &c.envelopes {
                let at = |v: &[f32]| v.get(i).copied().unwrap_or(f32::NAN);
                row.extend([at(&e.lo), at(&e.hi)]);
            }
        }
        row
    });
    write_csv_commented(path, comments, &header, rows)
}

/// Writes a ROI time series: the frame, then the statistic (mean or median), min and
/// max of each channel.
pub fn write_roi_csv(path: &Path, s: &RoiSeries) -> Result<(), ExportError> {
    write_roi_csv_described(path, s, &[], None)
}

/// Where each row of a ROI series sits in the source: its frame number there and its
/// time in seconds (NaN where the source does not say), one per row.
pub struct FrameClock<'a> {
    pub index: &'a [usize],
    pub time: &'a [f64],
}

impl FrameClock<'_> {
    /// The columns a clock adds after `frame`.
    pub const COLUMNS: [&'static str; 2] = ["source_frame", "time_s"];

    /// The header of a CSV with a row per frame: `frame`, then [`Self::COLUMNS`].
    pub fn header() -> Vec<String> {
        std::iter::once("frame")
            .chain(Self::COLUMNS)
            .map(String::from)
            .collect()
    }

    /// The start of row `i`: `frame`, then its source frame and time (NaN where
    /// unknown).
    pub fn row(&self, i: usize, frame: usize) -> Vec<f32> {
        let index = self.index.get(i).map_or(f32::NAN, |&x| x as f32);
        let time = self.time.get(i).map_or(f32::NAN, |&x| x as f32);
        vec![frame as f32, index, time]
    }
}

/// A ROI series as [`write_roi_csv`] writes it, after `# ` comment lines saying what
/// produced it, and with the columns `source_frame` and `time_s` after `frame` when a
/// clock is given.
pub fn write_roi_csv_described(
    path: &Path,
    s: &RoiSeries,
    comments: &[String],
    clock: Option<FrameClock<'_>>,
) -> Result<(), ExportError> {
    let mut header = match clock {
        Some(_) => FrameClock::header(),
        None => vec!["frame".to_string()],
    };
    let names: Vec<Vec<String>> = ["value", "min", "max"]
        .iter()
        .map(|n| channel_columns(n, s.channels))
        .collect();
    for c in 0..s.channels {
        header.extend(names.iter().map(|n| n[c].clone()));
    }
    let rows = s.frames.iter().enumerate().map(|(i, &t)| {
        let mut row = match &clock {
            Some(c) => c.row(i, t),
            None => vec![t as f32],
        };
        for c in 0..s.channels {
            let k = s.at(i, c);
            row.extend([s.value[k], s.min[k], s.max[k]]);
        }
        row
    });
    write_csv_commented(path, comments, &header, rows)
}

/// Writes a CSV: one header line, then one line per row, numbers as Rust's `{}` prints an
/// f32 (integers without a fraction, NaN as `NaN`). Every row must have one value per
/// header name.
pub fn write_csv(
    path: &Path,
    header: &[String],
    rows: impl Iterator<Item = Vec<f32>>,
) -> Result<(), ExportError> {
    write_csv_commented(path, &[], header, rows)
}

/// [`write_csv`] after one `# ` line per comment (numpy's `loadtxt` and pandas'
/// `read_csv(comment="#")` skip them). Line breaks in a comment become spaces.
pub fn write_csv_commented(
    path: &Path,
    comments: &[String],
    header: &[String],
    rows: impl Iterator<Item = Vec<f32>>,
) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        for c in comments {
            writeln!(w, "# {}", c.replace(['\n', '\r'], " ")).map_err(io)?;
        }
        writeln!(w, "{}", header.join(",")).map_err(io)?;
        let mut line = String::new();
        for (i, row) in rows.enumerate() {
            if row.len() != header.len() {
                return Err(ExportError::Encode {
                    path: path.to_path_buf(),
                    msg: format!(
                        "CSV row {i} has {} values for {} columns",
                        row.len(),
                        header.len()
                    ),
                });
            }
            line.clear();
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    line.push(',');
                }
                use std::fmt::Write as _;
                let _ = write!(line, "{v}");
            }
            line.push('\n');
            w.write_all(line.as_bytes()).map_err(io)?;
        }
        Ok(())
    })
}

/// Writes the results table of several ROIs: `frame, source_frame, time_s`, then per
/// ROI `NAME_mean[, NAME_median], NAME_std, NAME_min, NAME_max` (per channel for colour) and
/// `NAME_area_px`, and `NAME_area_UNIT2` when `pixel` calibrates it; after `# ` lines
/// with `comments` and each ROI's shape.
pub fn write_roi_table_csv(
    path: &Path,
    t: &RoiTable,
    rois: &[NamedRoi],
    comments: &[String],
    clock: FrameClock<'_>,
    pixel: Option<crate::calibration::PixelSize>,
) -> Result<(), ExportError> {
    let c = t.channels;
    let mut header = FrameClock::header();
    let whats: &[&str] = if t.medians {
        &["mean", "median", "std", "min", "max"]
    } else {
        &["mean", "std", "min", "max"]
    };
    for name in &t.names {
        for what in whats {
            header.extend(channel_columns(&format!("{name}_{what}"), c));
        }
        header.push(format!("{name}_area_px"));
        if let Some(p) = pixel {
            header.push(format!("{name}_area_{}2", p.unit.ascii()));
        }
    }
    let mut lines = comments.to_vec();
    lines.extend(
        rois.iter()
            .zip(&t.areas)
            .map(|(r, px)| format!("roi {}: {} ({px} px)", r.name, r.roi)),
    );
    if let Some(p) = pixel {
        lines.push(format!("pixel size {p}"));
    }
    let rows = (0..t.frames.len()).map(|i| {
        let mut row = clock.row(i, t.frames[i]);
        for r in 0..t.names.len() {
            let s: Vec<_> = (0..c).map(|ch| t.get(i, r, ch)).collect();
            row.extend(s.iter().map(|s| s.mean));
            if t.medians {
                row.extend(s.iter().map(|s| s.median.unwrap_or(f32::NAN)));
            }
            row.extend(s.iter().map(|s| s.std));
            row.extend(s.iter().map(|s| s.min));
            row.extend(s.iter().map(|s| s.max));
            row.push(t.areas[r] as f32);
            if let Some(p) = pixel {
                row.push(p.area(t.areas[r] as f64) as f32);
            }
        }
        row
    });
    write_csv_commented(path, &lines, &header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn one_profile_with_its_dataset_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.csv");
        let p = Profile {
            channels: 1,
            values: vec![1.0, 2.5, 4.0],
        };
        let e = Envelope {
            lo: vec![0.0, 1.0, 2.0],
            hi: vec![3.0, 4.0, 5.0],
        };
        let curve = ProfileColumns {
            prefix: "",
            profile: &p,
            envelopes: vec![(ENV_DATASET, &e)],
        };
        write_profiles_csv(&out, &[curve]).unwrap();
        // positions are pixel centres (spec §4.1)
        assert_eq!(
            read(&out),
            [
                "position,value,env_min,env_max",
                "0.5,1,0,3",
                "1.5,2.5,1,4",
                "2.5,4,2,5"
            ]
        );
    }

    #[test]
    fn two_rgb_profiles_of_different_lengths_fill_with_nan() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.csv");
        let h = Profile {
            channels: 3,
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let v = Profile {
            channels: 3,
            values: vec![7.0, 8.0, 9.0],
        };
        let e = Envelope {
            lo: vec![0.0],
            hi: vec![9.0],
        };
        let curves = [
            ProfileColumns {
                prefix: "h_",
                profile: &h,
                envelopes: vec![],
            },
            ProfileColumns {
                prefix: "v_",
                profile: &v,
                envelopes: vec![(ENV_BAND, &e)],
            },
        ];
        write_profiles_csv(&out, &curves).unwrap();
        assert_eq!(
            read(&out),
            [
                "position,h_value_r,h_value_g,h_value_b,v_value_r,v_value_g,v_value_b,v_band_env_min,v_band_env_max",
                "0.5,1,2,3,7,8,9,0,9",
                "1.5,4,5,6,NaN,NaN,NaN,NaN,NaN"
            ]
        );
    }

    #[test]
    fn roi_series_per_channel() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.csv");
        let mono = RoiSeries {
            channels: 1,
            frames: vec![3, 4],
            value: vec![1.5, 2.0],
            min: vec![1.0, 1.0],
            max: vec![2.0, 3.0],
            pixels: 4,
        };
        write_roi_csv(&out, &mono).unwrap();
        assert_eq!(read(&out), ["frame,value,min,max", "3,1.5,1,2", "4,2,1,3"]);
        let two = RoiSeries {
            channels: 2,
            frames: vec![0],
            value: vec![1.0, 2.0],
            min: vec![0.0, 1.0],
            max: vec![3.0, 4.0],
            pixels: 1,
        };
        write_roi_csv(&out, &two).unwrap();
        assert_eq!(
            read(&out),
            [
                "frame,value_c0,min_c0,max_c0,value_c1,min_c1,max_c1",
                "0,1,0,3,2,1,4"
            ]
        );
    }
}
