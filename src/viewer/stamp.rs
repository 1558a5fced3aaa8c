//! The scale bar and the frame's time burnt into an exported frame (RGBA rows), as the
//! view draws them over the image: a white bar with its length above it at the bottom
//! left, the time above that. Text is drawn with a 5 x 7 pixel font of the few glyphs
//! these labels use, scaled to the frame, so no font file is needed.

/// Glyph rows, top to bottom, the 5 low bits of each a row (bit 4 the leftmost pixel).
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        ' ' => [0; 7],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
        'n' => [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11],
        's' => [0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E],
        't' => [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06],
        'µ' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x1D],
        'e' => [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E],
        _ => return None,
    })
}

/// A frame of `w` x `h` RGBA pixels to draw into.
struct Canvas<'a> {
    px: &'a mut [u8],
    w: usize,
    h: usize,
}

impl Canvas<'_> {
    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, rgb: [u8; 3]) {
        for y in y0.max(0)..y1.min(self.h as i64) {
            for x in x0.max(0)..x1.min(self.w as i64) {
                let i = (y as usize * self.w + x as usize) * 4;
                self.px[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    /// `text` with its bottom-left corner at (x, y), `s` frame pixels a font pixel, on a
    /// black box; characters without a glyph are left out. Returns its width.
    fn text(&mut self, x: i64, y: i64, s: i64, text: &str) -> i64 {
        let glyphs: Vec<[u8; 7]> = text.chars().filter_map(glyph).collect();
        let width = glyphs.len() as i64 * 6 * s;
        self.fill(x - s, y - 8 * s, x + width, y + s, [0, 0, 0]);
        for (k, g) in glyphs.iter().enumerate() {
            let gx = x + k as i64 * 6 * s;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        let (px, py) = (gx + col * s, y - (7 - row as i64) * s);
                        self.fill(px, py, px + s, py + s, [255, 255, 255]);
                    }
                }
            }
        }
        width
    }
}

/// Draws into `rgba` (`w` x `h`): a scale bar `bar` = (length in frame pixels, label)
/// and the time label `time`, at the bottom left, sized to the frame.
pub fn stamp(
    rgba: &mut [u8],
    w: usize,
    h: usize,
    bar: Option<(f64, String)>,
    time: Option<String>,
) {
    let mut c = Canvas { px: rgba, w, h };
    // a font pixel per 250 frame pixels of the shorter side, at least one
    let s = ((w.min(h) / 250) as i64).max(1);
    let x = 4 * s;
    let mut y = h as i64 - 4 * s;
    if let Some((len, label)) = bar {
        let len = len.round() as i64;
        c.fill(x - s, y - 4 * s, x + len + s, y + s, [0, 0, 0]);
        c.fill(x, y - 3 * s, x + len, y, [255, 255, 255]);
        y -= 6 * s;
        c.text(x, y, s, &label);
        y -= 11 * s;
    }
    if let Some(t) = time {
        c.text(x, y, s, &t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_and_the_text_land_where_they_should() {
        let (w, h) = (120, 60);
        let mut px = vec![100u8; w * h * 4];
        stamp(
            &mut px,
            w,
            h,
            Some((50.0, "10 µm".into())),
            Some("t = 1.5 ms".into()),
        );
        let at = |x: usize, y: usize| px[(y * w + x) * 4];
        // the bar: white from x 4 for 50 pixels, 3 rows above y = 56
        assert_eq!(at(4, 55), 255);
        assert_eq!(at(53, 53), 255);
        assert_eq!(at(54, 55), 0, "its black edge");
        assert_eq!(at(60, 55), 100, "the frame beyond");
        // the label's first glyph '1' has its stem at column 2 of the glyph
        assert_eq!(at(4 + 2, 50 - 3), 255);
        // far from the stamps the frame is untouched
        assert_eq!(at(110, 5), 100);
        // every character of the labels has a glyph
        for c in "0123456789.-= mnstµe".chars() {
            assert!(glyph(c).is_some(), "{c}");
        }
    }
}
