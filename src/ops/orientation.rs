//! The orientation of a frame on screen: quarter turns clockwise, then flip x, then flip
//! y (design.md's order). The viewer shows a stack through it as a view, without copying
//! the stack: the display shader and the pointer input map coordinates with the
//! functions here, and only an export copies the frames through [`Orientation::apply`]
//! (the `transform` functions, so a view and its export agree pixel for pixel).
//!
//! "Data" coordinates are those of the stack (W x H); "display" coordinates those of the
//! oriented frame (H x W after an odd number of turns). Coordinates are continuous: pixel
//! `(i, j)` covers `[i, i + 1) x [j, j + 1)`.

use std::sync::Arc;

use super::{SpecError, transform};
use crate::stack::Stack;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Orientation {
    /// Quarter turns clockwise on screen (y down); taken modulo 4.
    pub rot90: u8,
    pub flip_x: bool,
    pub flip_y: bool,
}

impl Orientation {
    pub fn is_identity(&self) -> bool {
        self.rot90.is_multiple_of(4) && !self.flip_x && !self.flip_y
    }

    fn turns(&self) -> u8 {
        self.rot90 % 4
    }

    /// Width and height of a `w` x `h` frame as shown.
    pub fn display_size(&self, w: usize, h: usize) -> (usize, usize) {
        if self.turns() % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// Where data point `(x, y)` of a `w` x `h` frame lies on the oriented frame.
    pub fn to_display(&self, x: f32, y: f32, w: usize, h: usize) -> (f32, f32) {
        let (mut p, mut size) = ((x, y), (w as f32, h as f32));
        for _ in 0..self.turns() {
            // one turn clockwise: the left edge becomes the top, (x, y) -> (H - y, x)
            p = (size.1 - p.1, p.0);
            size = (size.1, size.0);
        }
        if self.flip_x {
            p.0 = size.0 - p.0;
        }
        if self.flip_y {
            p.1 = size.1 - p.1;
        }
        p
    }

    /// The data point of a `w` x `h` frame (data size) shown at display point `(x, y)`.
    pub fn to_data(&self, x: f32, y: f32, w: usize, h: usize) -> (f32, f32) {
        let (dw, dh) = self.display_size(w, h);
        let mut p = (x, y);
        if self.flip_y {
            p.1 = dh as f32 - p.1;
        }
        if self.flip_x {
            p.0 = dw as f32 - p.0;
        }
        // undo the turns one at a time: the shown frame before the last turn was dh wide
        let mut size = (dw as f32, dh as f32);
        for _ in 0..self.turns() {
            p = (p.1, size.0 - p.0);
            size = (size.1, size.0);
        }
        p
    }

    /// The data pixel shown at display pixel `(x, y)` (both inside their frames).
    pub fn data_pixel(&self, x: usize, y: usize, w: usize, h: usize) -> (usize, usize) {
        let (dx, dy) = self.to_data(x as f32 + 0.5, y as f32 + 0.5, w, h);
        (dx as usize, dy as usize)
    }

    /// The shader's encoding: bits 0-1 the turns, bit 2 flip x, bit 3 flip y.
    pub fn code(&self) -> u32 {
        self.turns() as u32 | (self.flip_x as u32) << 2 | (self.flip_y as u32) << 3
    }

    /// `stack` oriented as shown: a copy, or `stack` itself for the identity.
    pub fn apply(&self, stack: &Arc<Stack>) -> Arc<Stack> {
        match self.copy(stack) {
            Some(s) => Arc::new(s),
            None => stack.clone(),
        }
    }

    /// Copies of the stack alive at once while [`Orientation::copy`] runs: each step
    /// (turn or flip) copies the one before, so two beyond the first step.
    pub fn copies_at_peak(&self) -> u64 {
        let steps = self.turns() as u64 + self.flip_x as u64 + self.flip_y as u64;
        steps.min(2)
    }

    /// A copy of `stack` oriented as shown, None for the identity.
    pub fn copy(&self, stack: &Stack) -> Option<Stack> {
        let mut s: Option<Stack> = None;
        for _ in 0..self.turns() {
            s = Some(transform::rotate90_cw(s.as_ref().unwrap_or(stack)));
        }
        if self.flip_x {
            s = Some(transform::flip_x(s.as_ref().unwrap_or(stack)));
        }
        if self.flip_y {
            s = Some(transform::flip_y(s.as_ref().unwrap_or(stack)));
        }
        s
    }

    /// A `w` x `h` image of `c` samples per pixel (row-major) oriented as shown: the
    /// rendered frames an export writes.
    pub fn apply_pixels<T: Copy>(&self, px: &[T], w: usize, h: usize, c: usize) -> Vec<T> {
        let (dw, dh) = self.display_size(w, h);
        let mut out = Vec::with_capacity(px.len());
        for y in 0..dh {
            for x in 0..dw {
                let (sx, sy) = self.data_pixel(x, y, w, h);
                let i = (sy * w + sx) * c;
                out.extend_from_slice(&px[i..i + c]);
            }
        }
        out
    }
}

/// In words: "as stored", "turned 90° clockwise, flipped left-right", ...
impl std::fmt::Display for Orientation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.turns() > 0 {
            parts.push(format!("turned {}° clockwise", self.turns() as u32 * 90));
        }
        if self.flip_x {
            parts.push("flipped left-right".to_string());
        }
        if self.flip_y {
            parts.push("flipped top-bottom".to_string());
        }
        if parts.is_empty() {
            return f.write_str("as stored");
        }
        f.write_str(&parts.join(", "))
    }
}

/// The text form: `none`, or a comma list of `rot90`, `rot180`, `rot270` (clockwise),
/// `flipx`, `flipy`; applied in the fixed order turns, flip x, flip y.
impl std::str::FromStr for Orientation {
    type Err = SpecError;
    fn from_str(text: &str) -> Result<Orientation, SpecError> {
        let mut o = Orientation::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "none" => {}
                "rot90" => o.rot90 += 1,
                "rot180" => o.rot90 += 2,
                "rot270" => o.rot90 += 3,
                "flipx" => o.flip_x = !o.flip_x,
                "flipy" => o.flip_y = !o.flip_y,
                _ => {
                    return Err(SpecError(format!(
                        "'{part}' is not an orientation; expected none, rot90, rot180, \
                         rot270, flipx or flipy, comma separated"
                    )));
                }
            }
        }
        o.rot90 %= 4;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Shape;

    fn all() -> Vec<Orientation> {
        let mut v = Vec::new();
        for rot90 in 0..4 {
            for flip_x in [false, true] {
                for flip_y in [false, true] {
                    v.push(Orientation {
                        rot90,
                        flip_x,
                        flip_y,
                    });
                }
            }
        }
        v
    }

    #[test]
    fn the_pixel_mapping_is_the_copy_the_transforms_make() {
        // 3 x 5 (H x W), distinct values: the view and the copy agree for all 16
        let (w, h) = (5, 3);
        let v: Vec<u16> = (0..(w * h) as u16).collect();
        let s = Arc::new(Stack::from_vec(Shape::new(1, h, w, 1), v.clone()).unwrap());
        for o in all() {
            let copy = o.apply(&s);
            assert_eq!(Arc::ptr_eq(&copy, &s), o.is_identity());
            let (dw, dh) = o.display_size(w, h);
            assert_eq!(copy.shape(), Shape::new(1, dh, dw, 1), "{o:?}");
            assert_eq!(
                copy.as_slice::<u16>(),
                Some(&o.apply_pixels(&v, w, h, 1)[..]),
                "{o:?}"
            );
        }
    }

    #[test]
    fn to_data_undoes_to_display() {
        let (w, h) = (7, 4);
        for o in all() {
            for (x, y) in [(0.0, 0.0), (1.25, 3.5), (7.0, 4.0), (6.9, 0.1)] {
                let (dx, dy) = o.to_display(x, y, w, h);
                let (bx, by) = o.to_data(dx, dy, w, h);
                assert!((bx - x).abs() < 1e-5 && (by - y).abs() < 1e-5, "{o:?}");
            }
        }
    }

    #[test]
    fn the_text_form_parses_and_names_a_bad_word() {
        let o: Orientation = "rot90, flipx".parse().unwrap();
        assert_eq!((o.rot90, o.flip_x, o.flip_y), (1, true, false));
        let o: Orientation = "rot270,rot180,flipy".parse().unwrap();
        assert_eq!((o.rot90, o.flip_x, o.flip_y), (1, false, true));
        assert!("none".parse::<Orientation>().unwrap().is_identity());
        assert_eq!(o.to_string(), "turned 90° clockwise, flipped top-bottom");
        let e = "rot45".parse::<Orientation>().unwrap_err().0;
        assert!(e.contains("'rot45'"), "{e}");
    }

    #[test]
    fn one_turn_puts_the_top_row_on_the_right() {
        let o = Orientation {
            rot90: 1,
            ..Default::default()
        };
        // data 3 wide, 2 high: pixel (0, 0) (top-left) is shown top-right of the 2 x 3
        assert_eq!(o.display_size(3, 2), (2, 3));
        assert_eq!(o.data_pixel(1, 0, 3, 2), (0, 0));
        assert_eq!(o.data_pixel(0, 0, 3, 2), (0, 1));
        assert_eq!(o.data_pixel(1, 2, 3, 2), (2, 0));
    }
}
