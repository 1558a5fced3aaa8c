//! A set of named ROIs and its file: a small JSON object that `blitz roi --rois` reads
//! and the viewer saves and loads, so a set drawn once is used again headless.
//!
//! ```json
//! {"rois": [
//!   {"name": "left",   "rect": [10, 20, 30, 40]},
//!   {"name": "tilted", "rect": [60, 20, 30, 10], "angle": 30},
//!   {"name": "cell",   "polygon": [[5, 5], [20, 8], [12, 25]]},
//!   {"name": "spot",   "ellipse": [50, 60, 10, 5], "angle": 0}
//! ]}
//! ```
//!
//! Each entry has one of `rect` (x, y, w, h), `polygon` ([x, y] vertices) or `ellipse`
//! (cx, cy, rx, ry); `angle` (degrees, clockwise on screen) turns a rectangle about its
//! centre or an ellipse's axes; `name` defaults to `roi1`, `roi2`, ... A turned
//! rectangle is written back as its polygon.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Roi;
use crate::ops::OpError;

/// A ROI with the name its columns and its legend carry.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedRoi {
    pub name: String,
    pub roi: Roi,
}

#[derive(Deserialize, Serialize)]
struct File {
    rois: Vec<Entry>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rect: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    polygon: Option<Vec<[f32; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ellipse: Option<[f32; 4]>,
    #[serde(default, skip_serializing_if = "is_zero")]
    angle: f32,
}

fn is_zero(a: &f32) -> bool {
    *a == 0.0
}

fn bad(path: &Path, msg: String) -> OpError {
    OpError::Invalid(format!("{}: {msg}", path.display()))
}

/// A rectangle entry: integers, positive size.
fn rect(r: [f64; 4], angle: f32) -> Result<Roi, String> {
    let [x, y, w, h] = r;
    if !r.iter().all(|v| v.is_finite()) || w <= 0.0 || h <= 0.0 {
        return Err("a rect needs finite numbers and a positive width and height".into());
    }
    if angle != 0.0 {
        return Ok(Roi::turned_rect(
            (x as f32, y as f32),
            (w as f32, h as f32),
            angle,
        ));
    }
    if r.iter().any(|v| v.fract() != 0.0) {
        return Err("an unturned rect is whole pixels: integers x, y, w, h".into());
    }
    Ok(Roi::Rect {
        x: x as i64,
        y: y as i64,
        w: w as usize,
        h: h as usize,
    })
}

impl Entry {
    fn roi(&self) -> Result<Roi, String> {
        let given = [
            self.rect.is_some(),
            self.polygon.is_some(),
            self.ellipse.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err("give exactly one of rect, polygon, ellipse".into());
        }
        if let Some(r) = self.rect {
            return rect(r, self.angle);
        }
        if let Some(p) = &self.polygon {
            return Roi::polygon(p.iter().map(|v| (v[0], v[1])).collect()).map_err(|e| e.0);
        }
        let [cx, cy, rx, ry] = self.ellipse.unwrap_or_default();
        Roi::ellipse((cx, cy), (rx, ry), self.angle).map_err(|e| e.0)
    }

    fn of(r: &NamedRoi) -> Entry {
        let name = Some(r.name.clone());
        match &r.roi {
            Roi::Rect { x, y, w, h } => Entry {
                name,
                rect: Some([*x as f64, *y as f64, *w as f64, *h as f64]),
                ..Default::default()
            },
            Roi::Polygon(v) => Entry {
                name,
                polygon: Some(v.iter().map(|p| [p.0, p.1]).collect()),
                ..Default::default()
            },
            Roi::Ellipse {
                cx,
                cy,
                rx,
                ry,
                angle,
            } => Entry {
                name,
                ellipse: Some([*cx, *cy, *rx, *ry]),
                angle: *angle,
                ..Default::default()
            },
        }
    }
}

/// The ROIs of the JSON `text` read from `path` (named in errors); names must differ.
pub fn parse_rois(text: &str, path: &Path) -> Result<Vec<NamedRoi>, OpError> {
    let f: File = serde_json::from_str(text).map_err(|e| bad(path, e.to_string()))?;
    if f.rois.is_empty() {
        return Err(bad(path, "the set holds no ROI (\"rois\": [])".into()));
    }
    let mut out: Vec<NamedRoi> = Vec::with_capacity(f.rois.len());
    for (i, e) in f.rois.iter().enumerate() {
        let name = e.name.clone().unwrap_or_else(|| format!("roi{}", i + 1));
        let roi = e
            .roi()
            .map_err(|m| bad(path, format!("ROI {} ('{name}'): {m}", i + 1)))?;
        if out.iter().any(|r| r.name == name) {
            return Err(bad(path, format!("two ROIs are named '{name}'")));
        }
        out.push(NamedRoi { name, roi });
    }
    Ok(out)
}

/// Reads a ROI set file.
pub fn read_rois(path: &Path) -> Result<Vec<NamedRoi>, OpError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    parse_rois(&text, path)
}

/// The JSON text of a ROI set, as [`parse_rois`] reads it back.
pub fn rois_json(rois: &[NamedRoi]) -> String {
    let f = File {
        rois: rois.iter().map(Entry::of).collect(),
    };
    serde_json::to_string_pretty(&f).unwrap_or_default()
}
