//! Multi-page TIFF stacks: 8/16-bit and float pages, gray and RGB, options and errors.

use std::fs::File;
use std::path::{Path, PathBuf};

use blitz::load::{LoadOptions, NoProgress, load};
use blitz::{Dtype, Shape, Stack};
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
