//! Image folders and single images: formats, ordering, options, memory guard, bad files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use blitz::load::{LoadError, LoadOptions, NoProgress, Progress, StorageChoice, load, plan};
use blitz::{Dtype, Stack};
use image::{ImageBuffer, Luma, Rgb, Rgba};

fn opts() -> LoadOptions {
    LoadOptions {
        max_ram_gib: Some(1.0),
        ..Default::default()
    }
}

fn load_ok(p: &Path, o: &LoadOptions) -> Stack {
    load(p, o, &NoProgress).unwrap_or_else(|e| panic!("load {}: {e}", p.display()))
}

fn u8s(s: &Stack) -> Vec<u8> {
    s.as_slice::<u8>().expect("u8 stack").to_vec()
}

/// RGB test pattern: pixel (y, x) of frame t.
fn rgb_at(t: u32, y: u32, x: u32) -> [u8; 3] {
    [
        ((t * 40 + x * 7) % 256) as u8,
        ((y * 11 + 3) % 256) as u8,
        ((x * y + t) % 256) as u8,
    ]
}

fn write_rgb_pngs(dir: &Path, n: u32, w: u32, h: u32) -> Vec<PathBuf> {
    (0..n)
        .map(|t| {
            let img = ImageBuffer::from_fn(w, h, |x, y| Rgb(rgb_at(t, y, x)));
            let p = dir.join(format!("f{t}.png"));
            img.save(&p).unwrap();
            p
        })
        .collect()
}

fn write_gray(dir: &Path, name: &str, w: u32, h: u32, v: impl Fn(u32, u32) -> u8) -> PathBuf {
    let p = dir.join(name);
    ImageBuffer::from_fn(w, h, |x, y| Luma([v(x, y)]))
        .save(&p)
        .unwrap();
    p
}

#[test]
fn folder_is_natural_sorted_and_hidden_files_skipped() {
    let d = tempfile::tempdir().unwrap();
    for (name, v) in [
        ("10.png", 10u8),
        ("2.png", 2),
        ("1.png", 1),
        (".hidden.png", 99),
    ] {
        write_gray(d.path(), name, 3, 2, |_, _| v);
    }
    let s = load_ok(d.path(), &opts());
    assert_eq!(s.shape().frames, 3);
    let firsts: Vec<f32> = (0..3).map(|t| s.value(t, 0, 0, 0)).collect();
    assert_eq!(firsts, vec![1.0, 2.0, 10.0]);
}

#[test]
fn rgb_png_values_are_exact_and_grayscale_uses_luma_weights() {
    let d = tempfile::tempdir().unwrap();
    write_rgb_pngs(d.path(), 3, 5, 4);
    let s = load_ok(d.path(), &opts());
    assert_eq!(
        (
            s.shape().frames,
            s.shape().height,
            s.shape().width,
            s.shape().channels
        ),
        (3, 4, 5, 3)
    );
    assert_eq!(s.dtype(), Dtype::U8);
    let mut expect = Vec::new();
    for t in 0..3 {
        for y in 0..4 {
            for x in 0..5 {
                expect.extend(rgb_at(t, y, x));
            }
        }
    }
    assert_eq!(u8s(&s), expect);

    let g = load_ok(
        d.path(),
        &LoadOptions {
            grayscale: true,
            ..opts()
        },
    );
    assert_eq!(g.shape().channels, 1);
    for t in 0..3 {
        for y in 0..4 {
            for x in 0..5 {
                let [r, gg, b] = rgb_at(t, y, x).map(|v| v as f64);
                let l = (0.299 * r + 0.587 * gg + 0.114 * b).round();
                let got = g.value(t as usize, y as usize, x as usize, 0) as f64;
                assert!((got - l).abs() <= 1.0, "luma at {t},{y},{x}: {got} vs {l}");
            }
        }
    }
}

#[test]
fn rgba_drops_alpha() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.png");
    ImageBuffer::from_fn(2, 1, |x, _| Rgba([10 + x as u8, 20, 30, 128]))
        .save(&p)
        .unwrap();
    let s = load_ok(&p, &opts());
    assert_eq!(s.shape().channels, 3);
    assert_eq!(u8s(&s), vec![10, 20, 30, 11, 20, 30]);
}

#[test]
fn sixteen_bit_png_keeps_u16_and_8bit_truncates() {
    let d = tempfile::tempdir().unwrap();
    let vals = [0u16, 1000, 40000, 65535];
    let img: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(4, 1, |x, _| Luma([vals[x as usize]]));
    img.save(d.path().join("a.png")).unwrap();
    let s = load_ok(d.path(), &opts());
    assert_eq!(s.dtype(), Dtype::U16);
    assert_eq!(s.as_slice::<u16>().unwrap(), &vals);
    let s8 = load_ok(
        d.path(),
        &LoadOptions {
            to_8bit: true,
            ..opts()
        },
    );
    assert_eq!(s8.dtype(), Dtype::U8);
    let expect: Vec<u8> = vals
        .iter()
        .map(|&v| (v as f64 / 65535.0 * 255.0).floor() as u8)
        .collect();
    assert_eq!(u8s(&s8), expect);
}

#[test]
fn normalize_stretches_each_image_on_its_own() {
    let d = tempfile::tempdir().unwrap();
    write_gray(d.path(), "0.png", 3, 1, |x, _| [10, 35, 60][x as usize]);
    write_gray(d.path(), "1.png", 3, 1, |x, _| [100, 101, 102][x as usize]);
    let s = load_ok(
        d.path(),
        &LoadOptions {
            normalize: true,
            ..opts()
        },
    );
    // (v - min) / (max - min) * 255, truncated
    assert_eq!(u8s(&s), vec![0, 127, 255, 0, 127, 255]);
}

#[test]
fn size_ratio_averages_areas() {
    let d = tempfile::tempdir().unwrap();
    let v = |x: u32, y: u32| (x * 10 + y * 3) as u8;
    write_gray(d.path(), "a.png", 6, 4, v);
    let s = load_ok(
        d.path(),
        &LoadOptions {
            size_ratio: 0.5,
            ..opts()
        },
    );
    assert_eq!((s.shape().height, s.shape().width), (2, 3));
    for oy in 0..2u32 {
        for ox in 0..3u32 {
            let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                .iter()
                .map(|(dx, dy)| v(2 * ox + dx, 2 * oy + dy) as u32)
                .sum();
            let mean = (sum as f64 / 4.0).round() as f32;
            assert_eq!(s.value(0, oy as usize, ox as usize, 0), mean);
        }
    }
}

#[test]
fn subset_step_and_range_pick_files() {
    let d = tempfile::tempdir().unwrap();
    for t in 0..10u8 {
        write_gray(d.path(), &format!("{t}.png"), 2, 2, |_, _| t * 10);
    }
    let pick = |o: LoadOptions| {
        let s = load_ok(d.path(), &o);
        (
            (0..s.shape().frames)
                .map(|t| s.value(t, 0, 0, 0) as u8 / 10)
                .collect::<Vec<_>>(),
            s.source.frame_index.clone(),
        )
    };
    let (v, idx) = pick(LoadOptions {
        subset_ratio: 0.5,
        ..opts()
    });
    assert_eq!(v, vec![0, 2, 4, 6, 8]);
    assert_eq!(idx, vec![0, 2, 4, 6, 8]);
    let (v, _) = pick(LoadOptions {
        step: Some(3),
        first: Some(1),
        last: Some(8),
        ..opts()
    });
    assert_eq!(v, vec![1, 4, 7]);
    let (v, _) = pick(LoadOptions {
        first: Some(8),
        ..opts()
    });
    assert_eq!(v, vec![8, 9]);
}

#[test]
fn memory_guard_raises_the_step_to_fit_the_budget() {
    let d = tempfile::tempdir().unwrap();
    for t in 0..10u8 {
        write_gray(d.path(), &format!("{t}.png"), 100, 100, |_, _| t);
    }
    // 10 000 bytes a frame; 35 000 bytes fit 3 frames -> smallest step is ceil(10/3) = 4
    let o = LoadOptions {
        max_ram_gib: Some(35_000.0 / (1u64 << 30) as f64),
        // the RAM guard is under test, not the disk cache storage auto would pick
        storage: StorageChoice::Ram,
        ..Default::default()
    };
    let p = plan(d.path(), &o).unwrap();
    assert_eq!(p.guard.step, 4);
    assert_eq!(p.shape.frames, 3);
    assert!(p.guard.describe().unwrap().contains("memory guard"));
    let s = load_ok(d.path(), &o);
    assert_eq!(s.source.frame_index, vec![0, 4, 8]);
    assert!(s.bytes() <= 35_000);
    assert!(s.source.notes.iter().any(|n| n.contains("memory guard")));
    // one frame over the budget is refused, naming the folder
    let tiny = LoadOptions {
        max_ram_gib: Some(5_000.0 / (1u64 << 30) as f64),
        // the RAM guard is under test, not the disk cache storage auto would pick
        storage: StorageChoice::Ram,
        ..Default::default()
    };
    let e = load(d.path(), &tiny, &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::TooLarge { .. }), "{e}");
}

#[test]
fn most_frequent_extension_wins_and_others_are_reported() {
    let d = tempfile::tempdir().unwrap();
    for t in 0..3u8 {
        write_gray(d.path(), &format!("{t}.png"), 2, 2, |_, _| t);
    }
    write_gray(d.path(), "odd.bmp", 2, 2, |_, _| 9);
    std::fs::write(d.path().join("notes.txt"), "hello").unwrap();
    let s = load_ok(d.path(), &opts());
    assert_eq!(s.shape().frames, 3);
    let notes = s.source.notes.join("\n");
    assert!(notes.contains("bmp") && notes.contains("txt"), "{notes}");
}

#[test]
fn mixed_sizes_fail_clearly_or_crop_to_common() {
    let d = tempfile::tempdir().unwrap();
    write_gray(d.path(), "0.png", 4, 3, |x, y| (x + 10 * y) as u8);
    write_gray(d.path(), "1.png", 3, 5, |x, y| (100 + x + 10 * y) as u8);
    let e = load(d.path(), &opts(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LoadError::MixedSizes { .. }));
    assert!(msg.contains("1.png") && msg.contains("crop"), "{msg}");
    let s = load_ok(
        d.path(),
        &LoadOptions {
            crop_to_common: true,
            ..opts()
        },
    );
    assert_eq!((s.shape().height, s.shape().width), (3, 3));
    assert_eq!(s.value(0, 2, 2, 0), 22.0);
    assert_eq!(s.value(1, 2, 2, 0), 122.0);
}

#[test]
fn corrupt_file_among_good_ones_is_skipped_and_listed() {
    let d = tempfile::tempdir().unwrap();
    for t in 0..4u8 {
        write_gray(d.path(), &format!("{t}.png"), 2, 2, |_, _| t);
    }
    // header intact, data cut: passes the header probe, fails the decode
    let good = std::fs::read(d.path().join("2.png")).unwrap();
    std::fs::write(d.path().join("2.png"), &good[..good.len() / 2]).unwrap();
    std::fs::write(d.path().join("3.png"), b"not a png at all").unwrap();
    let s = load_ok(d.path(), &opts());
    let vals: Vec<f32> = (0..s.shape().frames).map(|t| s.value(t, 0, 0, 0)).collect();
    assert_eq!(vals, vec![0.0, 1.0]);
    let skipped: Vec<&str> = s.source.skipped.iter().map(|(f, _)| f.as_str()).collect();
    assert!(skipped.iter().any(|f| f.ends_with("2.png")), "{skipped:?}");
    assert!(skipped.iter().any(|f| f.ends_with("3.png")), "{skipped:?}");
    assert_eq!(s.source.frame_index, vec![0, 1]);
}

#[test]
fn all_corrupt_empty_and_missing_give_errors_naming_the_path() {
    let d = tempfile::tempdir().unwrap();
    let e = load(d.path(), &opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::EmptyFolder(_)), "{e}");
    std::fs::write(d.path().join("a.png"), b"junk").unwrap();
    std::fs::write(d.path().join("b.png"), b"junk").unwrap();
    let e = load(d.path(), &opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::NothingReadable { .. }), "{e}");
    assert!(e.to_string().contains("a.png"));
    let missing = d.path().join("nope");
    let e = load(&missing, &opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::NotFound(_)));
    assert!(e.to_string().contains("nope"));
    // a single corrupt image is an error, not an empty stack
    let e = load(&d.path().join("a.png"), &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("a.png"), "{e}");
}

#[test]
fn jpeg_colour_and_gray_decode_close_to_the_source() {
    let d = tempfile::tempdir().unwrap();
    let (w, h) = (32u32, 16u32);
    let smooth = |x: u32, y: u32| [(x * 6) as u8, (y * 12) as u8, 128];
    for t in 0..2 {
        let img = ImageBuffer::from_fn(w, h, |x, y| Rgb(smooth(x, y)));
        let mut f = std::fs::File::create(d.path().join(format!("{t}.jpg"))).unwrap();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut f, 100)
            .encode_image(&img)
            .unwrap();
    }
    let s = load_ok(d.path(), &opts());
    assert_eq!(
        (
            s.shape().frames,
            s.shape().height,
            s.shape().width,
            s.shape().channels
        ),
        (2, 16, 32, 3)
    );
    let mut err = 0.0;
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                err += (s.value(1, y as usize, x as usize, c) - smooth(x, y)[c] as f32).abs();
            }
        }
    }
    assert!(
        err / (w * h * 3) as f32 <= 3.0,
        "mean abs error {}",
        err / (w * h * 3) as f32
    );
    let g = load_ok(
        d.path(),
        &LoadOptions {
            grayscale: true,
            ..opts()
        },
    );
    assert_eq!(g.shape().channels, 1);
    let [r, gg, b] = smooth(10, 5).map(|v| v as f32);
    let l = 0.299 * r + 0.587 * gg + 0.114 * b;
    assert!((g.value(0, 5, 10, 0) - l).abs() <= 4.0);
}

#[test]
fn bmp_pnm_webp_and_tiff_files_read_exactly() {
    let v = |x: u32, y: u32| (x * 20 + y * 7) as u8;
    for ext in ["bmp", "pgm", "webp", "tif"] {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(format!("a.{ext}"));
        let img = ImageBuffer::from_fn(5, 3, |x, y| Luma([v(x, y)]));
        if ext == "webp" || ext == "bmp" {
            // these encoders want RGB
            image::DynamicImage::ImageLuma8(img)
                .to_rgb8()
                .save(&p)
                .unwrap();
        } else {
            img.save(&p).unwrap();
        }
        let s = load_ok(
            d.path(),
            &LoadOptions {
                grayscale: true,
                ..opts()
            },
        );
        assert_eq!((s.shape().height, s.shape().width), (3, 5), "{ext}");
        for y in 0..3 {
            for x in 0..5 {
                assert_eq!(
                    s.value(0, y, x, 0),
                    v(x as u32, y as u32) as f32,
                    "{ext} at {y},{x}"
                );
            }
        }
    }
}

#[test]
fn progress_counts_every_frame() {
    struct Count(AtomicU64, AtomicU64);
    impl Progress for Count {
        fn start(&self, _: &str, total: u64) {
            self.0.store(total, Ordering::Relaxed);
        }
        fn advance(&self, n: u64) {
            self.1.fetch_add(n, Ordering::Relaxed);
        }
    }
    let d = tempfile::tempdir().unwrap();
    write_rgb_pngs(d.path(), 5, 4, 4);
    let c = Count(AtomicU64::new(0), AtomicU64::new(0));
    load(d.path(), &opts(), &c).unwrap();
    assert_eq!(c.0.load(Ordering::Relaxed), 5);
    assert_eq!(c.1.load(Ordering::Relaxed), 5);
}

#[test]
fn cancelled_load_stops_with_an_error() {
    let d = tempfile::tempdir().unwrap();
    write_rgb_pngs(d.path(), 3, 4, 4);
    let c = blitz::load::Cancel::default();
    c.cancel();
    let e = load(d.path(), &opts(), &c).unwrap_err();
    assert!(matches!(e, LoadError::Cancelled(_)));
}
