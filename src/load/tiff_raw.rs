//! Uncompressed TIFF stacks read as a fixed layout: when every page is one uncompressed
//! run of interleaved samples of the same shape and type, at a constant stride in the
//! file (as ImageJ, tifffile and most camera software write stacks), the stack goes
//! through the fixed-layout core ([`super::raw`]): memory-mapped when no option changes
//! the frames, so a TIFF stack bigger than RAM opens like a `.npy`, and otherwise read
//! straight from the file without the TIFF decoder's per-strip work.

use std::io::{Read, Seek};

use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::raw::{FramePlaces, RawLayout, Sample};
use super::{SourceKind, SrcDtype};

/// Where the current page's samples lie in the file, (start, bytes), when they are one
/// uncompressed run of interleaved (chunky) samples with no predictor and a black-is-zero
/// or RGB photometric; None for anything the TIFF decoder must read itself.
pub fn page_extent<R: Read + Seek>(d: &mut Decoder<R>) -> Option<(u64, u64)> {
    let tag = |d: &mut Decoder<R>, t: Tag, default: u64| -> Option<u64> {
        Some(d.find_tag_unsigned::<u64>(t).ok()?.unwrap_or(default))
    };
    let plain = tag(d, Tag::Compression, 1)? == 1
        && tag(d, Tag::Predictor, 1)? == 1
        && tag(d, Tag::PlanarConfiguration, 1)? == 1
        && matches!(tag(d, Tag::PhotometricInterpretation, 1)?, 1 | 2)
        && d.find_tag(Tag::TileWidth).ok()?.is_none();
    if !plain {
        return None;
    }
    let offsets = d.find_tag_unsigned_vec::<u64>(Tag::StripOffsets).ok()??;
    let counts = d
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .ok()??;
    if offsets.is_empty() || offsets.len() != counts.len() {
        return None;
    }
    // the strips must follow each other without a gap
    let mut end = offsets[0];
    for (&o, &n) in offsets.iter().zip(&counts) {
        if o != end {
            return None;
        }
        end = o.checked_add(n)?;
    }
    Some((offsets[0], end - offsets[0]))
}

/// The fixed layout of a stack of `extents.len()` pages of `h` x `w` x `c` samples of
/// `dtype` (byte order `big_endian`) in a file of `file_len` bytes, when each page holds
/// exactly one frame's bytes and the pages start at a constant stride, in order.
pub fn layout(
    extents: &[(u64, u64)],
    (h, w, c): (usize, usize, usize),
    dtype: SrcDtype,
    big_endian: bool,
    file_len: u64,
) -> Option<RawLayout> {
    let be = big_endian;
    let sample = match dtype {
        SrcDtype::U8 => Sample::U8,
        SrcDtype::U16 => Sample::U16 { be },
        SrcDtype::I16 => Sample::I16 { be },
        SrcDtype::U32 => Sample::U32 { be },
        SrcDtype::I32 => Sample::I32 { be },
        SrcDtype::F32 => Sample::F32 { be },
        SrcDtype::F64 => Sample::F64 { be },
    };
    if !(c == 1 || c == 3) {
        return None;
    }
    let row = (w * c * sample.bits() / 8) as u64;
    let frame = row * h as u64;
    let &(first, _) = extents.first()?;
    let stride = match extents.get(1) {
        Some(&(second, _)) => second.checked_sub(first)?,
        None => frame,
    };
    let regular = extents.iter().enumerate().all(|(k, &(start, len))| {
        len == frame && Some(start) == first.checked_add(k as u64 * stride)
    });
    let last_end = first.checked_add((extents.len() as u64 - 1) * stride)? + frame;
    if !regular || stride < frame || last_end > file_len {
        return None;
    }
    Some(RawLayout {
        kind: SourceKind::TiffStack,
        h,
        w,
        c,
        sample,
        bgr: false,
        bottom_up: false,
        row_stride: row as usize,
        places: FramePlaces::Strided {
            offset: first,
            stride,
        },
        frames: extents.len(),
        scale: None,
        fps: None,
        times: Vec::new(),
        notes: vec!["uncompressed pages at a constant stride: read as a fixed layout".into()],
        copy_reason: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_at_a_constant_stride_make_a_layout_and_others_do_not() {
        // 3 pages of 4 x 5 u16 = 40 bytes, each after a 100-byte gap
        let ext = [(8, 40), (148, 40), (288, 40)];
        let l = layout(&ext, (4, 5, 1), SrcDtype::U16, false, 328).unwrap();
        assert_eq!(l.frames, 3);
        assert!(matches!(
            l.places,
            FramePlaces::Strided {
                offset: 8,
                stride: 140
            }
        ));
        // the file ends before the last page does
        assert!(layout(&ext, (4, 5, 1), SrcDtype::U16, false, 327).is_none());
        // uneven stride, a short page, pages out of order, alpha
        assert!(
            layout(
                &[(8, 40), (148, 40), (290, 40)],
                (4, 5, 1),
                SrcDtype::U16,
                false,
                999
            )
            .is_none()
        );
        assert!(layout(&[(8, 40), (148, 39)], (4, 5, 1), SrcDtype::U16, false, 999).is_none());
        assert!(layout(&[(148, 40), (8, 40)], (4, 5, 1), SrcDtype::U16, false, 999).is_none());
        assert!(layout(&[(8, 80)], (4, 5, 2), SrcDtype::U16, false, 999).is_none());
    }
}
