//! Multi-page TIFF stacks: 8/16-bit and float pages, gray and RGB, options and errors.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};

use blitz::load::{LoadOptions, NoProgress, load};
use blitz::{Dtype, Shape, Stack};
use common::all_values;
use tiff::encoder::{TiffEncoder, colortype};

fn opts() -> LoadOptions {
    LoadOptions {
        max_ram_gib: Some(1.0),
        ..Default::default()
    }
}

fn ok(p: &Path, o: &LoadOptions) -> Stack {
    load(p, o, &NoProgress).unwrap_or_else(|e| panic!("{e}"))
}

const W: u32 = 6;
const H: u32 = 4;

fn v(t: u32, i: u32) -> u32 {
    t * 1000 + i * 37
}

fn write_pages<C: colortype::ColorType>(
    dir: &Path,
    name: &str,
    pages: u32,
    conv: impl Fn(u32) -> C::Inner,
) -> PathBuf
where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let p = dir.join(name);
    let mut enc = TiffEncoder::new(File::create(&p).unwrap()).unwrap();
    let spp = C::SAMPLE_FORMAT.len() as u32;
    for t in 0..pages {
        let data: Vec<C::Inner> = (0..W * H * spp).map(|i| conv(v(t, i))).collect();
        enc.write_image::<C>(W, H, &data).unwrap();
    }
    p
}

#[test]
fn u8_u16_and_f32_pages_load_as_a_stack() {
    let d = tempfile::tempdir().unwrap();
    let p8 = write_pages::<colortype::Gray8>(d.path(), "a.tif", 5, |x| (x % 256) as u8);
    let s = ok(&p8, &opts());
    assert_eq!((s.shape(), s.dtype()), (Shape::new(5, 4, 6, 1), Dtype::U8));
    assert_eq!(s.value(3, 1, 2, 0), (v(3, 8) % 256) as f32);

    let p16 = write_pages::<colortype::Gray16>(d.path(), "b.tif", 3, |x| x as u16);
    let s = ok(&p16, &opts());
    assert_eq!(s.dtype(), Dtype::U16);
    assert_eq!(s.value(2, 3, 5, 0), v(2, 23) as f32);

    let pf = write_pages::<colortype::Gray32Float>(d.path(), "c.tiff", 2, |x| x as f32 * 0.25);
    let s = ok(&pf, &opts());
    assert_eq!(s.dtype(), Dtype::F32);
    assert_eq!(s.value(1, 0, 1, 0), v(1, 1) as f32 * 0.25);

    let prgb = write_pages::<colortype::RGB8>(d.path(), "d.tif", 2, |x| (x % 251) as u8);
    let s = ok(&prgb, &opts());
    assert_eq!(s.shape(), Shape::new(2, 4, 6, 3));
    assert_eq!(s.value(1, 0, 1, 2), (v(1, 5) % 251) as f32);
}

#[test]
fn page_range_step_and_8bit() {
    let d = tempfile::tempdir().unwrap();
    let p = write_pages::<colortype::Gray16>(d.path(), "s.tif", 9, |x| x as u16);
    let s = ok(
        &p,
        &LoadOptions {
            first: Some(1),
            last: Some(7),
            step: Some(3),
            ..opts()
        },
    );
    assert_eq!(s.source.frame_index, vec![1, 4, 7]);
    assert_eq!(s.value(2, 0, 0, 0), v(7, 0) as f32);
    let s = ok(
        &p,
        &LoadOptions {
            to_8bit: true,
            ..opts()
        },
    );
    assert_eq!(s.dtype(), Dtype::U8);
    assert_eq!(
        s.value(8, 0, 1, 0),
        (v(8, 1) as f64 / 65535.0 * 255.0).floor() as f32
    );
}

#[test]
fn corrupt_tiff_names_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.tif");
    std::fs::write(&p, b"II*\x00garbagegarbage").unwrap();
    let e = load(&p, &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("bad.tif"), "{e}");
}

#[test]
fn uncompressed_pages_at_a_constant_stride_are_mapped_and_others_decoded() {
    let d = tempfile::tempdir().unwrap();
    // the tiff crate writes each page's IFD after its data: a constant stride with gaps,
    // read straight from the file
    let p = write_pages::<colortype::Gray16>(d.path(), "plain.tif", 6, |x| x as u16);
    let plan = blitz::load::plan(&p, &opts()).unwrap();
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("read as a fixed layout")),
        "{:?}",
        plan.notes
    );
    let mapped = ok(&p, &opts());
    // the same pages LZW-compressed go through the decoder: the same samples
    let q = d.path().join("lzw.tif");
    let mut enc = TiffEncoder::new(File::create(&q).unwrap())
        .unwrap()
        .with_compression(tiff::encoder::Compression::Lzw);
    for t in 0..6 {
        let data: Vec<u16> = (0..W * H).map(|i| v(t, i) as u16).collect();
        enc.write_image::<colortype::Gray16>(W, H, &data).unwrap();
    }
    drop(enc);
    let decoded = ok(&q, &opts());
    assert!(!decoded.is_mapped());
    assert!(!blitz::load::plan(&q, &opts()).unwrap().mapped);
    assert_eq!(all_values(&mapped), all_values(&decoded));
    for t in 0..6u32 {
        assert_eq!(mapped.value(t as usize, 2, 3, 0), v(t, 2 * W + 3) as f32);
    }
    // options that change the frames read the raw pages, not the mapping
    let o = LoadOptions {
        step: Some(2),
        size_ratio: 0.5,
        ..opts()
    };
    let a = ok(&p, &o);
    let b = ok(&q, &o);
    assert!(!a.is_mapped());
    assert_eq!(a.shape(), b.shape());
    assert_eq!(all_values(&a), all_values(&b));
    // RGB pages too
    let rgb = write_pages::<colortype::RGB8>(d.path(), "rgb.tif", 3, |x| (x % 251) as u8);
    let s = ok(&rgb, &opts());
    assert_eq!(s.value(2, 1, 4, 1), (v(2, (W + 4) * 3 + 1) % 251) as f32);
}

/// A little-endian TIFF of `frames` u16 pages of `w` x `h` whose image data lie one after
/// the other, the IFDs after all of them (as tifffile and ImageJ write stacks).
fn contiguous_tiff(path: &Path, frames: u32, w: u32, h: u32, value: impl Fn(u32) -> u16) {
    let frame = w * h * 2;
    let data_end = 8 + frames * frame;
    let mut b: Vec<u8> = b"II*\0".to_vec();
    b.extend(data_end.to_le_bytes()); // the first IFD
    for i in 0..frames * w * h {
        b.extend(value(i).to_le_bytes());
    }
    let entries: u16 = 9;
    let ifd_len = 2 + 12 * entries as u32 + 4;
    for k in 0..frames {
        let next = if k + 1 < frames {
            data_end + (k + 1) * ifd_len
        } else {
            0
        };
        b.extend(entries.to_le_bytes());
        let mut tag = |t: u16, typ: u16, v: u32| {
            b.extend(t.to_le_bytes());
            b.extend(typ.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            if typ == 3 {
                b.extend((v as u16).to_le_bytes());
                b.extend([0, 0]);
            } else {
                b.extend(v.to_le_bytes());
            }
        };
        tag(256, 4, w); // ImageWidth
        tag(257, 4, h); // ImageLength
        tag(258, 3, 16); // BitsPerSample
        tag(259, 3, 1); // Compression: none
        tag(262, 3, 1); // PhotometricInterpretation: black is zero
        tag(273, 4, 8 + k * frame); // StripOffsets
        tag(277, 3, 1); // SamplesPerPixel
        tag(278, 4, h); // RowsPerStrip
        tag(279, 4, frame); // StripByteCounts
        b.extend(next.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_contiguous_uncompressed_stack_is_memory_mapped() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("contiguous.tif");
    contiguous_tiff(&p, 7, 10, 6, |i| (i * 37 % 4001) as u16);
    let plan = blitz::load::plan(&p, &opts()).unwrap();
    assert!(plan.mapped, "{:?}", plan.notes);
    let s = ok(&p, &opts());
    assert!(s.is_mapped());
    assert_eq!(s.shape(), Shape::new(7, 6, 10, 1));
    let want: Vec<f32> = (0..7 * 6 * 10).map(|i| (i * 37 % 4001) as f32).collect();
    assert_eq!(all_values(&s), want);
    // a crop reads the same samples out of the file
    let c = ok(
        &p,
        &LoadOptions {
            crop: Some("2,1,3,4".parse().unwrap()),
            ..opts()
        },
    );
    assert!(!c.is_mapped());
    assert_eq!(c.value(3, 0, 0, 0), want[(3 * 6 + 1) * 10 + 2]);
}
