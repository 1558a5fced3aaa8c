//! Crops, flips, the 90° rotation and masks (spec §5), each returning a new owned stack
//! that keeps the source's dtype (the binary mask gives f32) and provenance.
//!
//! Rotation is clockwise as seen on screen with y pointing down (design.md): new pixel
//! `(x', y')` takes old `(x = y', y = H - 1 - x')`, new width = old height. Every output
//! row depends on the input only, so each transform fills its output row by row (the
//! rotation in 64 x 64 tiles), in parallel over frames and rows once the stack is large
//! enough to pay for it.

use rayon::prelude::*;

use super::{FrameRange, OpError};
use crate::stack::{Sample, Samples, Shape, Stack, StackSample};

/// Below this many output samples a transform runs on the calling thread.
const PAR_MIN: usize = 1 << 16;

/// Runs `$body` with `$s` bound to the stack's typed sample slice.
macro_rules! each_dtype {
    ($stack:expr, $s:ident => $body:expr) => {
        match $stack.samples() {
            Samples::U8($s) => $body,
            Samples::U16($s) => $body,
            Samples::F32($s) => $body,
        }
    };
}

/// Samples of a stack of shape `out`, row `(t, y)` written by `fill(t, y, row)`.
fn by_rows<T: StackSample>(out: Shape, fill: impl Fn(usize, usize, &mut [T]) + Sync) -> Vec<T> {
    by_row_groups(out, 1, fill)
}

/// Samples of a stack of shape `out`, filled `group` rows of one frame at a time:
/// `fill(t, y0, rows)` writes rows `y0..` of frame `t` (fewer at the frame's end).
fn by_row_groups<T: StackSample>(
    out: Shape,
    group: usize,
    fill: impl Fn(usize, usize, &mut [T]) + Sync,
) -> Vec<T> {
    let mut data: Vec<T> = bytemuck::zeroed_vec(out.len());
    let row = out.width * out.channels;
    if row == 0 || out.height == 0 {
        return data;
    }
    let (frame, chunk) = (out.height * row, group * row);
    if data.len() >= PAR_MIN {
        // nested: many small frames split by frame, a few large ones by row group
        data.par_chunks_mut(frame).enumerate().for_each(|(t, f)| {
            f.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(g, d)| fill(t, g * group, d))
        });
    } else {
        for (t, f) in data.chunks_mut(frame).enumerate() {
            for (g, d) in f.chunks_mut(chunk).enumerate() {
                fill(t, g * group, d);
            }
        }
    }
    data
}

/// The result stack, carrying `src`'s provenance.
fn finish<T: StackSample>(src: &Stack, shape: Shape, data: Vec<T>) -> Stack {
    // shape and length derive from a valid stack (channels 1 or 3, len = shape.len())
    Stack::from_vec(shape, data)
        .expect("transform keeps a valid shape")
        .with_source(src.source.clone())
}

/// `a..a+len` clamped to `0..size`.
fn clamp_span(a: i64, len: usize, size: usize) -> std::ops::Range<usize> {
    let a = a as i128;
    let lo = a.clamp(0, size as i128) as usize;
    let hi = (a + len as i128).clamp(0, size as i128) as usize;
    lo..hi.max(lo)
}

/// Columns `x..x+w` and rows `y..y+h` of every frame, clamped to the frame; an error when
/// nothing of the frame is left.
pub fn crop(stack: &Stack, x: i64, y: i64, w: usize, h: usize) -> Result<Stack, OpError> {
    let s = stack.shape();
    let (xs, ys) = (clamp_span(x, w, s.width), clamp_span(y, h, s.height));
    if xs.is_empty() || ys.is_empty() {
        return Err(OpError::Invalid(format!(
            "crop x {x}, y {y}, w {w}, h {h} holds no pixel of the {} x {} frame",
            s.width, s.height
        )));
    }
    let out = Shape::new(s.frames, ys.len(), xs.len(), s.channels);
    Ok(each_dtype!(stack, src => {
        let data = by_rows(out, |t, r, dst| {
            let start = ((t * s.height + ys.start + r) * s.width + xs.start) * s.channels;
            dst.copy_from_slice(&src[start..start + dst.len()]);
        });
        finish(stack, out, data)
    }))
}

/// The spatial ROI mask (spec §5, non-destructive in the viewer): the same clamped slice
/// as [`crop`].
pub fn roi_mask(stack: &Stack, x: i64, y: i64, w: usize, h: usize) -> Result<Stack, OpError> {
    crop(stack, x, y, w, h)
}

/// Frames `range` only (timeline crop); the provenance's frame index is cut to match.
pub fn crop_frames(stack: &Stack, range: FrameRange) -> Result<Stack, OpError> {
    let s = stack.shape();
    range.check(s.frames)?;
    let out = Shape::new(range.len(), s.height, s.width, s.channels);
    let row = s.width * s.channels;
    let mut result = each_dtype!(stack, src => {
        let data = by_rows(out, |t, y, dst| {
            let start = ((range.first + t) * s.height + y) * row;
            dst.copy_from_slice(&src[start..start + row]);
        });
        finish(stack, out, data)
    });
    let src = &mut result.source;
    if src.frame_index.len() == s.frames {
        src.frame_index = src.frame_index[range.first..=range.last].to_vec();
    }
    if src.frame_time.len() == s.frames {
        src.frame_time = src.frame_time[range.first..=range.last].to_vec();
    }
    Ok(result)
}

/// Mirrored left to right (x reversed).
pub fn flip_x(stack: &Stack) -> Stack {
    let s = stack.shape();
    let c = s.channels;
    each_dtype!(stack, src => {
        let data = by_rows(s, |t, y, dst| {
            let start = (t * s.height + y) * s.width * c;
            let from = &src[start..start + s.width * c];
            // a constant pixel size lets the copy vectorize
            match c {
                1 => reverse_pixels(from, dst, 1),
                3 => reverse_pixels(from, dst, 3),
                c => reverse_pixels(from, dst, c),
            }
        });
        finish(stack, s, data)
    })
}

/// `dst` = the pixels of `from` (`c` samples each) in reverse order.
#[inline(always)]
fn reverse_pixels<T: Copy>(from: &[T], dst: &mut [T], c: usize) {
    for (d, p) in dst.chunks_exact_mut(c).zip(from.chunks_exact(c).rev()) {
        d.copy_from_slice(p);
    }
}

/// Mirrored top to bottom (y reversed).
pub fn flip_y(stack: &Stack) -> Stack {
    let s = stack.shape();
    let row = s.width * s.channels;
    each_dtype!(stack, src => {
        let data = by_rows(s, |t, y, dst| {
            let start = (t * s.height + (s.height - 1 - y)) * row;
            dst.copy_from_slice(&src[start..start + row]);
        });
        finish(stack, s, data)
    })
}

/// Turned 90° clockwise on screen (y down): new pixel `(x', y')` is old
/// `(x = y', y = H - 1 - x')`; the new frame is H wide and W high.
pub fn rotate90_cw(stack: &Stack) -> Stack {
    let s = stack.shape();
    let c = s.channels;
    let out = Shape::new(s.frames, s.width, s.height, c);
    let frame = s.frame_len();
    each_dtype!(stack, src => {
        let data = by_row_groups(out, ROTATE_GROUP, |t, y0, dst| {
            let f = &src[t * frame..(t + 1) * frame];
            match c {
                1 => rotate_rows(f, s.height, s.width, y0, dst, 1),
                3 => rotate_rows(f, s.height, s.width, y0, dst, 3),
                c => rotate_rows(f, s.height, s.width, y0, dst, c),
            }
        });
        finish(stack, out, data)
    })
}

/// Output rows written together by the rotation: each old row then gives one contiguous
/// run of this many pixels, and the rows being written stay in L1.
const ROTATE_GROUP: usize = 64;

/// Output rows `y0..` of the rotation of old frame `f` (`h` x `w` x `c`) into `dst`.
#[inline(always)]
fn rotate_rows<T: Copy>(f: &[T], h: usize, w: usize, y0: usize, dst: &mut [T], c: usize) {
    let row = h * c;
    let g = dst.len() / row;
    // output row y0 + j is old column y0 + j read from the bottom row up; square tiles
    // keep both the rows read and the rows written in L1
    for x0 in (0..h).step_by(ROTATE_GROUP) {
        let x1 = (x0 + ROTATE_GROUP).min(h);
        for j in 0..g {
            let out = &mut dst[j * row + x0 * c..j * row + x1 * c];
            for (k, d) in out.chunks_exact_mut(c).enumerate() {
                let i = ((h - 1 - x0 - k) * w + y0 + j) * c;
                d.copy_from_slice(&f[i..i + c]);
            }
        }
    }
}

/// The stack as f32 with every pixel NaN (all channels) where the mask is 0 in all its
/// channels. The mask is one frame of the stack's height and width, with any channels.
pub fn binary_mask(stack: &Stack, mask: &Stack) -> Result<Stack, OpError> {
    let s = stack.shape();
    let m = mask.shape();
    if m.frames != 1 || m.height != s.height || m.width != s.width {
        return Err(OpError::Invalid(format!(
            "mask of shape {m} does not fit the stack of shape {s}: a mask is 1 frame of \
             {} x {} (H x W)",
            s.height, s.width
        )));
    }
    let mf = mask.frame(0);
    let keep: Vec<bool> = (0..s.height * s.width)
        .map(|p| (0..m.channels).any(|ch| mf.get_f32(p * m.channels + ch) != 0.0))
        .collect();
    let c = s.channels;
    Ok(each_dtype!(stack, src => {
        let data: Vec<f32> = by_rows(s, |t, y, dst| {
            let start = (t * s.height + y) * s.width * c;
            let from = &src[start..start + s.width * c];
            let keep = &keep[y * s.width..(y + 1) * s.width];
            for ((d, p), &k) in dst.chunks_exact_mut(c).zip(from.chunks_exact(c)).zip(keep) {
                for (dv, &pv) in d.iter_mut().zip(p) {
                    *dv = if k { pv.to_f32() } else { f32::NAN };
                }
            }
        });
        finish(stack, s, data)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::SourceInfo;

    /// One frame of `h` x `w`, one channel, values row by row.
    fn frame_u8(h: usize, w: usize, v: Vec<u8>) -> Stack {
        Stack::from_vec(Shape::new(1, h, w, 1), v).unwrap()
    }

    fn values(s: &Stack) -> Vec<f32> {
        let n = s.shape().len();
        (0..n).map(|i| s.samples().get_f32(i)).collect()
    }

    #[test]
    fn rotate_2x3_clockwise_on_screen() {
        // old, 2 rows x 3 columns:     new, 3 rows x 2 columns (clockwise, y down):
        //   1 2 3                        4 1
        //   4 5 6                        5 2
        //                                6 3
        // the top row 1 2 3 becomes the right column read top to bottom
        let s = frame_u8(2, 3, vec![1, 2, 3, 4, 5, 6]);
        let r = rotate90_cw(&s);
        assert_eq!(r.shape(), Shape::new(1, 3, 2, 1));
        assert_eq!(values(&r), vec![4.0, 1.0, 5.0, 2.0, 6.0, 3.0]);
        assert_eq!(r.dtype(), s.dtype());
    }

    #[test]
    fn flips_mirror_rgb_pixels_whole() {
        // 2 x 2 RGB, pixel (y, x) = [10y + x, 100 + 10y + x, 200 + 10y + x]
        let mut v = Vec::new();
        for y in 0..2u16 {
            for x in 0..2u16 {
                v.extend([10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x]);
            }
        }
        let s = Stack::from_vec(Shape::new(1, 2, 2, 3), v).unwrap();
        // flip x: row 0 becomes pixel (0,1), pixel (0,0)
        let fx = flip_x(&s);
        assert_eq!(values(&fx)[..6], [1.0, 101.0, 201.0, 0.0, 100.0, 200.0]);
        // flip y: row 0 becomes old row 1
        let fy = flip_y(&s);
        assert_eq!(values(&fy)[..6], [10.0, 110.0, 210.0, 11.0, 111.0, 211.0]);
        assert_eq!(fx.dtype(), crate::stack::Dtype::U16);
    }

    #[test]
    fn crop_is_clamped_and_empty_is_an_error() {
        // 3 x 4 frame, value 10y + x; x -1..3 clamps to 0..3, y 1..10 to 1..3
        let v: Vec<u8> = (0..3)
            .flat_map(|y| (0..4).map(move |x| 10 * y + x))
            .collect();
        let s = frame_u8(3, 4, v);
        let c = crop(&s, -1, 1, 4, 9).unwrap();
        assert_eq!(c.shape(), Shape::new(1, 2, 3, 1));
        assert_eq!(values(&c), vec![10.0, 11.0, 12.0, 20.0, 21.0, 22.0]);
        assert_eq!(values(&roi_mask(&s, 3, 0, 5, 1).unwrap()), vec![3.0]);
        assert!(crop(&s, 4, 0, 2, 2).is_err());
        assert!(crop(&s, 0, 0, 0, 2).is_err());
        assert!(crop(&s, -3, 0, 3, 2).is_err());
    }

    #[test]
    fn crop_frames_keeps_the_range_and_its_frame_index() {
        // 3 frames of 1 x 2: frame t = [t, 10 + t]
        let s = Stack::from_vec(
            Shape::new(3, 1, 2, 1),
            vec![0.0f32, 10.0, 1.0, 11.0, 2.0, 12.0],
        )
        .unwrap()
        .with_source(SourceInfo {
            path: "a.npy".into(),
            frame_index: vec![0, 5, 10],
            frame_time: vec![0.0, 0.5, 1.0],
            ..SourceInfo::default()
        });
        let c = crop_frames(&s, FrameRange::new(1, 2)).unwrap();
        assert_eq!(c.source.frame_time, vec![0.5, 1.0]);
        assert_eq!(c.shape().frames, 2);
        assert_eq!(values(&c), vec![1.0, 11.0, 2.0, 12.0]);
        assert_eq!(c.source.path, "a.npy");
        assert_eq!(c.source.frame_index, vec![5, 10]);
        assert!(crop_frames(&s, FrameRange::new(2, 3)).is_err());
    }

    #[test]
    fn binary_mask_sets_masked_pixels_to_nan() {
        // 2 frames of 1 x 3 u8; mask RGB 1 x 3: pixel 0 all zero (masked), pixel 1 has a
        // nonzero green (kept), pixel 2 all zero (masked)
        let s = Stack::from_vec(Shape::new(2, 1, 3, 1), vec![1u8, 2, 3, 4, 5, 6]).unwrap();
        let m = Stack::from_vec(Shape::new(1, 1, 3, 3), vec![0u8, 0, 0, 0, 9, 0, 0, 0, 0]).unwrap();
        let r = binary_mask(&s, &m).unwrap();
        assert_eq!(r.dtype(), crate::stack::Dtype::F32);
        let v = values(&r);
        assert!(v[0].is_nan() && v[2].is_nan() && v[3].is_nan() && v[5].is_nan());
        assert_eq!((v[1], v[4]), (2.0, 5.0));
        // 2 x 3 mask for a 1 x 3 stack: refused, naming both shapes
        let bad = Stack::from_vec(Shape::new(1, 2, 3, 1), vec![1u8; 6]).unwrap();
        let e = binary_mask(&s, &bad).unwrap_err().to_string();
        assert!(
            e.contains("1 x 2 x 3 x 1") && e.contains("2 x 1 x 3 x 1"),
            "{e}"
        );
        let two = Stack::from_vec(Shape::new(2, 1, 3, 1), vec![1u8; 6]).unwrap();
        assert!(binary_mask(&s, &two).is_err());
    }
}
