//! The load-time crop (spec §2.6, `--crop X,Y,W,H`): a rectangle in the pixels of the
//! frame after the size ratio, kept part clamped to the frame, applied after the resize
//! and the per-image normalization or 8-bit scale (spec §2.3), so the memory estimate and
//! the stored frame are the rectangle's size.

use std::str::FromStr;

use serde::Serialize;

use super::LoadError;
use crate::ops::roi::Roi;

/// A crop rectangle as given: left `x`, top `y` (may lie left of or above the frame),
/// width and height in pixels of the resized frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct LoadCrop {
    pub x: i64,
    pub y: i64,
    pub w: usize,
    pub h: usize,
}

/// The part of a frame a crop keeps: rows `y0..y0 + h`, columns `x0..x0 + w`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub y0: usize,
    pub x0: usize,
    pub h: usize,
    pub w: usize,
}

/// The grammar is the ROI rectangle's (`X,Y,W,H`, integers, W and H positive).
impl FromStr for LoadCrop {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match Roi::parse_rect(s).map_err(|e| e.to_string())? {
            Roi::Rect { x, y, w, h } => Ok(LoadCrop { x, y, w, h }),
            _ => unreachable!("parse_rect gives a rectangle"),
        }
    }
}

impl std::fmt::Display for LoadCrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{},{},{}", self.x, self.y, self.w, self.h)
    }
}

impl LoadCrop {
    /// What this crop keeps of a frame of `h` x `w`, clamped to it; an error when
    /// nothing of the frame is left.
    pub fn window(&self, h: usize, w: usize) -> Result<Window, LoadError> {
        let span = |start: i64, len: usize, n: usize| {
            let a = start.clamp(0, n as i64) as usize;
            let b = start.saturating_add(len as i64).clamp(0, n as i64) as usize;
            (a, b.saturating_sub(a))
        };
        let (x0, cw) = span(self.x, self.w, w);
        let (y0, ch) = span(self.y, self.h, h);
        if cw == 0 || ch == 0 {
            return Err(LoadError::Option {
                option: "--crop",
                msg: format!("{self} lies outside the {w}x{h} frame (after the size ratio)"),
            });
        }
        Ok(Window {
            y0,
            x0,
            h: ch,
            w: cw,
        })
    }
}

/// Copies `win` out of an `h`-row frame `w` wide with `c` interleaved channels.
pub fn cut<T: Copy>(src: &[T], w: usize, c: usize, win: Window) -> Vec<T> {
    let row = win.w * c;
    let mut out = Vec::with_capacity(win.h * row);
    for y in win.y0..win.y0 + win.h {
        let at = (y * w + win.x0) * c;
        out.extend_from_slice(&src[at..at + row]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_is_clamped_to_the_frame_and_refused_outside_it() {
        let c: LoadCrop = "-2,3,10,4".parse().unwrap();
        assert_eq!(
            c.window(5, 6).unwrap(),
            Window {
                y0: 3,
                x0: 0,
                h: 2,
                w: 6
            }
        );
        let c: LoadCrop = "1,1,2,2".parse().unwrap();
        assert_eq!(
            c.window(5, 6).unwrap(),
            Window {
                y0: 1,
                x0: 1,
                h: 2,
                w: 2
            }
        );
        let e = "6,0,2,2"
            .parse::<LoadCrop>()
            .unwrap()
            .window(5, 6)
            .unwrap_err();
        assert!(e.to_string().contains("lies outside the 6x5 frame"), "{e}");
        assert!("1,2,3".parse::<LoadCrop>().is_err());
        assert!("1,2,0,3".parse::<LoadCrop>().is_err());
    }

    #[test]
    fn cut_takes_the_window_rows() {
        // 3 x 4 frame, 2 channels: value = 10 * y + x, channel k adds 100 k
        let src: Vec<u32> = (0..3)
            .flat_map(|y| (0..4).flat_map(move |x| [10 * y + x, 100 + 10 * y + x]))
            .collect();
        let win = Window {
            y0: 1,
            x0: 2,
            h: 2,
            w: 2,
        };
        assert_eq!(
            cut(&src, 4, 2, win),
            vec![12, 112, 13, 113, 22, 122, 23, 123]
        );
    }
}
