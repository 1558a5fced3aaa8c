//! The load-time crop (`--crop X,Y,W,H`, spec §2.6) on every kind of source: the cropped
//! load equals the uncropped load cut to the rectangle (after the size ratio, with the
//! normalization computed on the whole frame), the plan and its memory estimate have the
//! rectangle's size before anything is decoded, and a rectangle outside the frame is an
//! error naming `--crop`.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};

use blitz::export::write_npy;
use blitz::load::{LoadCrop, LoadOptions, StorageChoice, plan};
use blitz::{Shape, Stack};
use common::{all_values, fails, load_ok, ok, ram_opts, stdout};
use image::{ImageBuffer, Luma, Rgb};
use tiff::encoder::{TiffEncoder, colortype};

fn crop(text: &str) -> Option<LoadCrop> {
    Some(text.parse().unwrap())
}

/// `full` cut to what `c` keeps of its frames (clamped as the loader clamps).
fn cut(full: &Stack, c: LoadCrop) -> (Shape, Vec<f32>) {
    let s = full.shape();
    let win = c.window(s.height, s.width).unwrap();
    let mut v = Vec::new();
    for t in 0..s.frames {
        for y in win.y0..win.y0 + win.h {
            for x in win.x0..win.x0 + win.w {
                for ch in 0..s.channels {
                    v.push(full.value(t, y, x, ch));
                }
            }
        }
    }
    (Shape::new(s.frames, win.h, win.w, s.channels), v)
}

/// For several rectangles (inside, over the edges, the whole frame): the cropped load of
/// `path` under `base` equals the uncropped one cut, in shape, dtype and every sample;
/// and the plan says that shape before decoding.
fn check(path: &Path, base: &LoadOptions, what: &str) {
    let full = load_ok(path, base);
    let sh = full.shape();
    let whole = format!("0,0,{},{}", sh.width, sh.height);
    for text in ["1,2,5,3", "-3,-1,6,4", "4,1,100,100", whole.as_str()] {
        let c = crop(text);
        let o = LoadOptions {
            crop: c,
            ..base.clone()
        };
        let got = load_ok(path, &o);
        let (want_shape, want) = cut(&full, c.unwrap());
        assert_eq!(got.shape(), want_shape, "{what} --crop {text}");
        assert_eq!(got.dtype(), full.dtype(), "{what} --crop {text}");
        assert_eq!(all_values(&got), want, "{what} --crop {text}");
        let p = plan(path, &o).unwrap();
        assert_eq!(p.shape, want_shape, "{what} --crop {text}: the plan");
    }
    // nothing of the frame left
    let o = LoadOptions {
        crop: crop(&format!("{},0,4,4", sh.width)),
        ..base.clone()
    };
    let e = blitz::load::load(path, &o, &blitz::NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--crop") && e.contains("lies outside"),
        "{what}: {e}"
    );
}

fn ramp(shape: Shape) -> Vec<u16> {
    (0..shape.len()).map(|i| (i * 37 % 4001) as u16).collect()
}

#[test]
fn npy_crops_whole_resized_and_normalized() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(4, 9, 11, 1);
    let p = d.path().join("a.npy");
    write_npy(&p, &Stack::from_vec(shape, ramp(shape)).unwrap()).unwrap();
    let base = ram_opts();
    check(&p, &base, "npy");
    check(
        &p,
        &LoadOptions {
            size_ratio: 0.7,
            ..ram_opts()
        },
        "npy resized",
    );
    check(
        &p,
        &LoadOptions {
            normalize: true,
            ..ram_opts()
        },
        "npy normalized",
    );
    check(
        &p,
        &LoadOptions {
            to_8bit: true,
            ..ram_opts()
        },
        "npy 8-bit",
    );
    // a mapped .npy is copied when cropped: the cut is what is stored
    let mapped = load_ok(&p, &base);
    assert!(mapped.is_mapped());
    let cropped = load_ok(
        &p,
        &LoadOptions {
            crop: crop("1,2,5,3"),
            ..base
        },
    );
    assert!(!cropped.is_mapped());
}

#[test]
fn normalization_uses_the_whole_frame_not_the_rectangle() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(1, 4, 4, 1);
    // the frame's range is 0..=1500; the rectangle's own is 0..=500
    let v: Vec<u16> = (0..16)
        .map(|i| if i == 15 { 1500 } else { i * 100 })
        .collect();
    let p = d.path().join("n.npy");
    write_npy(&p, &Stack::from_vec(shape, v.clone()).unwrap()).unwrap();
    let o = LoadOptions {
        normalize: true,
        crop: crop("0,0,2,2"),
        ..ram_opts()
    };
    let s = load_ok(&p, &o);
    let want: Vec<f32> = [0, 1, 4, 5]
        .iter()
        .map(|&i| (v[i] as f64 / 1500.0 * 65535.0).trunc() as f32)
        .collect();
    assert_eq!(all_values(&s), want);
}

fn png_folder(dir: &Path, rgb: bool) -> PathBuf {
    let f = dir.join(if rgb { "rgb" } else { "gray" });
    std::fs::create_dir(&f).unwrap();
    for t in 0..3u32 {
        let at = |x: u32, y: u32, k: u32| ((t * 50 + x * 13 + y * 7 + k * 80) % 256) as u8;
        let p = f.join(format!("f{t}.png"));
        if rgb {
            ImageBuffer::from_fn(12, 10, |x, y| Rgb([at(x, y, 0), at(x, y, 1), at(x, y, 2)]))
                .save(&p)
                .unwrap();
        } else {
            ImageBuffer::from_fn(12, 10, |x, y| Luma([at(x, y, 0)]))
                .save(&p)
                .unwrap();
        }
    }
    f
}

#[test]
fn image_folders_gray_rgb_and_jpeg_crop() {
    let d = tempfile::tempdir().unwrap();
    check(&png_folder(d.path(), false), &ram_opts(), "gray PNG folder");
    let rgb = png_folder(d.path(), true);
    check(&rgb, &ram_opts(), "RGB PNG folder");
    check(
        &rgb,
        &LoadOptions {
            grayscale: true,
            size_ratio: 0.5,
            ..ram_opts()
        },
        "RGB->gray resized",
    );
    let j = d.path().join("jpeg");
    std::fs::create_dir(&j).unwrap();
    for t in 0..2u32 {
        ImageBuffer::from_fn(16, 8, |x, y| {
            Rgb([(x * 15 + t) as u8, (y * 30) as u8, 90u8])
        })
        .save(j.join(format!("f{t}.jpg")))
        .unwrap();
    }
    check(&j, &ram_opts(), "JPEG folder");
}

#[test]
fn tiff_stacks_crop() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.tif");
    let mut enc = TiffEncoder::new(File::create(&p).unwrap()).unwrap();
    for t in 0..3u32 {
        let data: Vec<u16> = (0..10 * 8).map(|i| (t * 1000 + i * 37) as u16).collect();
        enc.write_image::<colortype::Gray16>(10, 8, &data).unwrap();
    }
    check(&p, &ram_opts(), "TIFF stack");
}

#[test]
fn videos_crop_at_8_and_16_bits() {
    use common::video::{encode_raw, has_encoder};
    if !has_encoder("ffv1") {
        eprintln!("SKIPPED: ffmpeg has no ffv1 encoder");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (w, h) = (24usize, 16usize);
    let g8: Vec<u8> = (0..4 * w * h).map(|i| (i * 7 % 251) as u8).collect();
    let v8 = encode_raw(d.path(), "g8.mkv", &g8, "gray", (w, h), &["-c:v", "ffv1"]);
    check(&v8, &ram_opts(), "gray8 video");
    check(
        &v8,
        &LoadOptions {
            size_ratio: 0.5,
            ..ram_opts()
        },
        "gray8 video resized",
    );
    let g16: Vec<u8> = (0..4 * w * h)
        .flat_map(|i| ((i * 97 % 4096) as u16).to_le_bytes())
        .collect();
    let v16 = encode_raw(
        d.path(),
        "g16.mkv",
        &g16,
        "gray16le",
        (w, h),
        &["-c:v", "ffv1"],
    );
    check(&v16, &ram_opts(), "gray16 video");
    let rgb: Vec<u8> = (0..4 * w * h * 3).map(|i| (i * 11 % 256) as u8).collect();
    let vr = encode_raw(
        d.path(),
        "rgb.mkv",
        &rgb,
        "rgb24",
        (w, h),
        &["-c:v", "ffv1", "-pix_fmt", "bgr0"],
    );
    check(&vr, &ram_opts(), "RGB video");
}

#[test]
fn the_disk_cache_keeps_two_crops_of_one_size_apart() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(3, 9, 11, 1);
    let p = d.path().join("a.npy");
    write_npy(&p, &Stack::from_vec(shape, ramp(shape)).unwrap()).unwrap();
    let disk = |c: &str| LoadOptions {
        storage: StorageChoice::Disk,
        cache_dir: Some(d.path().join("cache")),
        crop: crop(c),
        ..ram_opts()
    };
    let a = load_ok(&p, &disk("0,0,4,4"));
    let b = load_ok(&p, &disk("5,3,4,4"));
    let full = load_ok(&p, &ram_opts());
    assert_eq!(all_values(&a), cut(&full, crop("0,0,4,4").unwrap()).1);
    assert_eq!(all_values(&b), cut(&full, crop("5,3,4,4").unwrap()).1);
}

#[test]
fn the_cli_takes_crop_on_loading_commands() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(5, 20, 30, 1);
    let p = d.path().join("a.npy");
    write_npy(&p, &Stack::from_vec(shape, ramp(shape)).unwrap()).unwrap();
    let a = p.to_str().unwrap();
    let info = stdout(&ok(&["info", a, "--crop", "10,5,8,6", "--json"]));
    let j: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(j["height"], 6, "{info}");
    assert_eq!(
        j["bytes"],
        5 * 6 * 8 * 2,
        "{info}: the estimate is the crop's"
    );
    assert_eq!(j["width"], 8, "{info}");
    let out = d.path().join("c.npy");
    ok(&[
        "convert",
        a,
        "--crop",
        "10,5,8,6",
        "-o",
        out.to_str().unwrap(),
    ]);
    let c = load_ok(&out, &ram_opts());
    let full = load_ok(&p, &ram_opts());
    assert_eq!(all_values(&c), cut(&full, crop("10,5,8,6").unwrap()).1);
    let e = fails(&[
        "reduce",
        a,
        "--op",
        "mean",
        "--crop",
        "1,2,3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("--crop") && e.contains("four integers"), "{e}");
    let e = fails(&[
        "reduce",
        a,
        "--op",
        "mean",
        "--crop",
        "40,0,5,5",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        e.contains("option --crop: 40,0,5,5 lies outside the 30x20 frame"),
        "{e}"
    );
}
