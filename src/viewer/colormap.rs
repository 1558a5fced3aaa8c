//! Colormaps and the display mapping of raw values to colour, on the CPU: the twin of
//! `shaders/display.wgsl`, used by the tests of the renderer and by the export of the
//! frame as shown.
//!
//! The mapping, the same in both places: `t = clamp((v - min) / (max - min), 0, 1)`, then
//! `t = t^gamma` when gamma is not 1. A gray frame shows entry `floor(t * 255 + 0.5)` of the
//! colormap's 256-entry table; a colour frame (3 or 4 channels) shows `t` of each of its
//! first three channels, no colormap (spec §6). NaN shows black.

use serde::Serialize;

use crate::ops::histogram::Levels;
use crate::stack::Stack;

/// A colormap of the display. The tables come from the `colorous` crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Colormap {
    Gray,
    Viridis,
    Magma,
    Inferno,
    Plasma,
    Cividis,
    Turbo,
    /// Blue for negative, white at zero, red for positive (data straddling zero).
    Diverging,
}

impl Colormap {
    /// Every colormap, in the order of the picker and of the rows of the GPU table.
    pub const ALL: [Colormap; 8] = [
        Colormap::Gray,
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Plasma,
        Colormap::Cividis,
        Colormap::Turbo,
        Colormap::Diverging,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Gray => "gray",
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Plasma => "plasma",
            Colormap::Cividis => "cividis",
            Colormap::Turbo => "turbo",
            Colormap::Diverging => "diverging",
        }
    }

    /// The colormap named `name` (as [`Colormap::name`] spells it).
    pub fn from_name(name: &str) -> Option<Colormap> {
        Colormap::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Row of this colormap in the GPU table.
    pub fn index(self) -> u32 {
        Colormap::ALL.iter().position(|&c| c == self).unwrap() as u32
    }

    /// The 256 RGBA entries of the table.
    pub fn lut(self) -> [[u8; 4]; 256] {
        let gradient = match self {
            Colormap::Gray => None,
            Colormap::Viridis => Some(colorous::VIRIDIS),
            Colormap::Magma => Some(colorous::MAGMA),
            Colormap::Inferno => Some(colorous::INFERNO),
            Colormap::Plasma => Some(colorous::PLASMA),
            Colormap::Cividis => Some(colorous::CIVIDIS),
            Colormap::Turbo => Some(colorous::TURBO),
            Colormap::Diverging => Some(colorous::RED_BLUE),
        };
        let mut lut = [[0u8; 4]; 256];
        for (i, e) in lut.iter_mut().enumerate() {
            *e = match gradient {
                None => [i as u8, i as u8, i as u8, 255],
                Some(g) => {
                    // RED_BLUE runs red -> blue; negative values should be blue
                    let k = if self == Colormap::Diverging {
                        255 - i
                    } else {
                        i
                    };
                    let c = g.eval_rational(k, 256);
                    [c.r, c.g, c.b, 255]
                }
            };
        }
        lut
    }
}

/// How raw values become colour: levels, gamma and colormap.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DisplayParams {
    pub levels: Levels,
    pub gamma: f32,
    pub colormap: Colormap,
}

/// The colour of a NaN sample.
pub const NAN_RGBA: [u8; 4] = [0, 0, 0, 255];

/// `v` through the levels and gamma, in 0..=1; None for NaN.
pub fn level(v: f32, p: &DisplayParams) -> Option<f32> {
    if v.is_nan() {
        return None;
    }
    let t = ((v - p.levels.min) / (p.levels.max - p.levels.min)).clamp(0.0, 1.0);
    Some(if p.gamma != 1.0 { t.powf(p.gamma) } else { t })
}

/// Table index of a levelled gray value.
pub fn lut_index(t: f32) -> usize {
    ((t * 255.0 + 0.5).floor() as usize).min(255)
}

/// Frame `t` of `stack` as RGBA8 rows (height x width x 4), as the display shows it at
/// one screen pixel per data pixel.
pub fn render_cpu(stack: &Stack, t: usize, p: &DisplayParams) -> Vec<u8> {
    let s = stack.shape();
    let lut = p.colormap.lut();
    let frame = stack.frame(t);
    let mut out = Vec::with_capacity(s.height * s.width * 4);
    for px in 0..s.height * s.width {
        let base = px * s.channels;
        if s.channels >= 3 {
            let mut rgba = [0, 0, 0, 255];
            for (c, o) in rgba.iter_mut().take(3).enumerate() {
                *o = level(frame.get_f32(base + c), p)
                    .map_or(0, |t| (t * 255.0 + 0.5).floor() as u8);
            }
            out.extend_from_slice(&rgba);
        } else {
            let rgba = level(frame.get_f32(base), p).map_or(NAN_RGBA, |t| lut[lut_index(t)]);
            out.extend_from_slice(&rgba);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_table_is_identity_and_maps_differ() {
        let g = Colormap::Gray.lut();
        assert_eq!(g[0], [0, 0, 0, 255]);
        assert_eq!(g[200], [200, 200, 200, 255]);
        let v = Colormap::Viridis.lut();
        // viridis starts dark purple and ends yellow
        assert!(v[0][2] > v[0][1] && v[255][0] > 200 && v[255][2] < 80);
        let d = Colormap::Diverging.lut();
        assert!(d[0][2] > d[0][0], "negative end is blue: {:?}", d[0]);
        assert!(d[255][0] > d[255][2], "positive end is red: {:?}", d[255]);
        for c in Colormap::ALL {
            assert_eq!(Colormap::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn level_clamps_and_applies_gamma() {
        let p = DisplayParams {
            levels: Levels {
                min: 10.0,
                max: 20.0,
            },
            gamma: 1.0,
            colormap: Colormap::Gray,
        };
        assert_eq!(level(5.0, &p), Some(0.0));
        assert_eq!(level(15.0, &p), Some(0.5));
        assert_eq!(level(25.0, &p), Some(1.0));
        assert_eq!(level(f32::NAN, &p), None);
        let g = DisplayParams { gamma: 2.0, ..p };
        assert_eq!(level(15.0, &g), Some(0.25));
        assert_eq!(lut_index(0.5), 128);
        assert_eq!(lut_index(1.0), 255);
        assert_eq!(lut_index(0.0), 0);
    }
}
