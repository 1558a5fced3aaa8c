//! Sources whose frames mix sample types or channel counts (issue 16, item 5): the stack
//! takes a type that holds every frame and a note names the first frame that differs;
//! no value is clamped (u16 60000 stayed 255, f32 -5.5 became 0, RGB became gray).

mod common;

use std::fs::File;
use std::path::Path;

use blitz::Dtype;
use blitz::load::{LoadOptions, plan};
use common::{load_ok, ram_opts};
use image::{ImageBuffer, Luma, Rgb};
use tiff::encoder::{TiffEncoder, colortype};

const W: u32 = 3;
const H: u32 = 2;

fn notes(p: &Path, o: &LoadOptions) -> String {
    plan(p, o)
        .unwrap_or_else(|e| panic!("{e}"))
        .notes
        .join("\n")
}

#[test]
fn a_tiff_of_u8_then_u16_pages_keeps_the_u16_values() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("mixed.tif");
    let mut enc = TiffEncoder::new(File::create(&p).unwrap()).unwrap();
    enc.write_image::<colortype::Gray8>(W, H, &[1, 2, 3, 4, 5, 200])
        .unwrap();
    enc.write_image::<colortype::Gray16>(W, H, &[60000, 0, 1, 2, 3, 65535])
        .unwrap();
    drop(enc);
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.dtype(), Dtype::U16);
    assert_eq!(
        s.as_slice::<u16>().unwrap(),
        &[1, 2, 3, 4, 5, 200, 60000, 0, 1, 2, 3, 65535]
    );
    let n = notes(&p, &ram_opts());
    assert!(n.contains("page 1 is u16, page 0 u8"), "{n}");
}

#[test]
fn a_tiff_of_u8_then_f32_pages_keeps_negative_floats() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("mixed.tif");
    let mut enc = TiffEncoder::new(File::create(&p).unwrap()).unwrap();
    enc.write_image::<colortype::Gray8>(W, H, &[0, 1, 2, 3, 4, 255])
        .unwrap();
    enc.write_image::<colortype::Gray32Float>(W, H, &[-5.5, 0.25, 1e6, 0.0, 1.0, 2.0])
        .unwrap();
    drop(enc);
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.dtype(), Dtype::F32);
    assert_eq!(
        s.as_slice::<f32>().unwrap(),
        &[0., 1., 2., 3., 4., 255., -5.5, 0.25, 1e6, 0., 1., 2.]
    );
}

#[test]
fn a_folder_of_u8_and_u16_pngs_is_read_as_u16() {
    let d = tempfile::tempdir().unwrap();
    ImageBuffer::<Luma<u8>, _>::from_raw(W, H, vec![10u8, 20, 30, 40, 50, 60])
        .unwrap()
        .save(d.path().join("a.png"))
        .unwrap();
    ImageBuffer::<Luma<u16>, _>::from_raw(W, H, vec![60000u16, 1, 2, 3, 4, 5])
        .unwrap()
        .save(d.path().join("b.png"))
        .unwrap();
    let s = load_ok(d.path(), &ram_opts());
    assert_eq!(s.dtype(), Dtype::U16);
    assert_eq!(
        s.as_slice::<u16>().unwrap(),
        &[10, 20, 30, 40, 50, 60, 60000, 1, 2, 3, 4, 5]
    );
    let n = notes(d.path(), &ram_opts());
    assert!(n.contains("b.png is u16"), "{n}");
    assert!(n.contains("a.png u8"), "{n}");

    // the fixed 8-bit scale of each frame is its own type's
    let o = LoadOptions {
        to_8bit: true,
        ..ram_opts()
    };
    let s = load_ok(d.path(), &o);
    assert_eq!(s.dtype(), Dtype::U8);
    // 60000 / 65535 * 255 = 233.46 -> 233; 1..5 of 65535 -> 0
    assert_eq!(
        s.as_slice::<u8>().unwrap(),
        &[10, 20, 30, 40, 50, 60, 233, 0, 0, 0, 0, 0]
    );
}

#[test]
fn a_folder_of_gray_then_rgb_pngs_keeps_the_colours() {
    let d = tempfile::tempdir().unwrap();
    ImageBuffer::<Luma<u8>, _>::from_raw(W, H, vec![1u8, 2, 3, 4, 5, 6])
        .unwrap()
        .save(d.path().join("a.png"))
        .unwrap();
    let rgb: Vec<u8> = (0..18).map(|i| 100 + i).collect();
    ImageBuffer::<Rgb<u8>, _>::from_raw(W, H, rgb.clone())
        .unwrap()
        .save(d.path().join("b.png"))
        .unwrap();
    let s = load_ok(d.path(), &ram_opts());
    assert_eq!(s.shape().channels, 3);
    let v = s.as_slice::<u8>().unwrap();
    let gray: Vec<u8> = (1..=6u8).flat_map(|g| [g, g, g]).collect();
    assert_eq!(&v[..18], &gray[..]);
    assert_eq!(&v[18..], &rgb[..]);
    let n = notes(d.path(), &ram_opts());
    assert!(n.contains("b.png is colour"), "{n}");
}
