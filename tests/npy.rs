//! `.npy`: dtypes, layouts, byte orders, mapping, options and bad files.

mod common;

use std::path::{Path, PathBuf};

use blitz::export::{npy_header, write_npy};
use blitz::load::{LoadError, LoadOptions, NoProgress, load, plan};
use blitz::{Dtype, Shape, Stack};

/// Writes a .npy with a hand-made header and raw data bytes.
fn write_raw(
    dir: &Path,
    name: &str,
    descr: &str,
    fortran: bool,
    shape: &str,
    data: &[u8],
) -> PathBuf {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let p = dir.join(name);
    std::fs::write(&p, common::npy_bytes(&dict, data)).unwrap();
    p
}

fn opts() -> LoadOptions {
    LoadOptions {
        max_ram_gib: Some(1.0),
        ..Default::default()
    }
}

fn ok(p: &Path, o: &LoadOptions) -> Stack {
    load(p, o, &NoProgress).unwrap_or_else(|e| panic!("{e}"))
}

/// value of element (t, y, x) in the test arrays
fn val(t: usize, y: usize, x: usize) -> i64 {
    (t * 100 + y * 10 + x) as i64 - 50
}

#[test]
fn every_integer_and_float_dtype_reads_its_values() {
    let d = tempfile::tempdir().unwrap();
    let (t, h, w) = (2, 3, 4);
    let idx: Vec<(usize, usize, usize)> = (0..t)
        .flat_map(|a| (0..h).flat_map(move |b| (0..w).map(move |c| (a, b, c))))
        .collect();
    let cases: Vec<(&str, Vec<u8>, Dtype, bool)> = vec![
        (
            "|u1",
            idx.iter()
                .map(|&(a, b, c)| (val(a, b, c) + 50) as u8)
                .collect(),
            Dtype::U8,
            true,
        ),
        (
            "<u2",
            idx.iter()
                .flat_map(|&(a, b, c)| ((val(a, b, c) + 50) as u16 * 100).to_le_bytes())
                .collect(),
            Dtype::U16,
            true,
        ),
        (
            "<i2",
            idx.iter()
                .flat_map(|&(a, b, c)| (val(a, b, c) as i16).to_le_bytes())
                .collect(),
            Dtype::F32,
            false,
        ),
        (
            "<u4",
            idx.iter()
                .flat_map(|&(a, b, c)| ((val(a, b, c) + 50) as u32).to_le_bytes())
                .collect(),
            Dtype::F32,
            false,
        ),
        (
            "<i4",
            idx.iter()
                .flat_map(|&(a, b, c)| (val(a, b, c) as i32).to_le_bytes())
                .collect(),
            Dtype::F32,
            false,
        ),
        (
            "<f4",
            idx.iter()
                .flat_map(|&(a, b, c)| (val(a, b, c) as f32 * 0.5).to_le_bytes())
                .collect(),
            Dtype::F32,
            true,
        ),
        (
            "<f8",
            idx.iter()
                .flat_map(|&(a, b, c)| (val(a, b, c) as f64 * 0.5).to_le_bytes())
                .collect(),
            Dtype::F32,
            false,
        ),
        (
            ">i2",
            idx.iter()
                .flat_map(|&(a, b, c)| (val(a, b, c) as i16).to_be_bytes())
                .collect(),
            Dtype::F32,
            false,
        ),
    ];
    for (descr, data, dtype, mapped) in cases {
        let p = write_raw(d.path(), "a.npy", descr, false, "(2, 3, 4)", &data);
        let s = ok(&p, &opts());
        assert_eq!(s.shape(), Shape::new(2, 3, 4, 1), "{descr}");
        assert_eq!(s.dtype(), dtype, "{descr}");
        assert_eq!(s.is_mapped(), mapped, "{descr}");
        for &(a, b, c) in &idx {
            let expect = match descr {
                "|u1" | "<u4" => (val(a, b, c) + 50) as f32,
                "<u2" => ((val(a, b, c) + 50) * 100) as f32,
                "<f4" | "<f8" => val(a, b, c) as f32 * 0.5,
                _ => val(a, b, c) as f32,
            };
            assert_eq!(s.value(a, b, c, 0), expect, "{descr} at {a},{b},{c}");
        }
    }
}

#[test]
fn fortran_order_matches_c_order() {
    let d = tempfile::tempdir().unwrap();
    let (t, h, w, c) = (2, 3, 4, 3);
    let v = |a: usize, b: usize, x: usize, ch: usize| (a * 60 + b * 15 + x * 3 + ch) as u8;
    let mut corder = Vec::new();
    for a in 0..t {
        for b in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    corder.push(v(a, b, x, ch));
                }
            }
        }
    }
    let mut forder = Vec::new();
    for ch in 0..c {
        for x in 0..w {
            for b in 0..h {
                for a in 0..t {
                    forder.push(v(a, b, x, ch));
                }
            }
        }
    }
    let pc = write_raw(d.path(), "c.npy", "|u1", false, "(2, 3, 4, 3)", &corder);
    let pf = write_raw(d.path(), "f.npy", "|u1", true, "(2, 3, 4, 3)", &forder);
    let sc = ok(&pc, &opts());
    let sf = ok(&pf, &opts());
    assert!(sc.is_mapped() && !sf.is_mapped());
    assert_eq!(sc.as_slice::<u8>().unwrap(), &corder[..]);
    assert_eq!(sf.as_slice::<u8>().unwrap(), &corder[..]);
}

#[test]
fn two_d_and_hw3_arrays_are_single_frames() {
    let d = tempfile::tempdir().unwrap();
    let p = write_raw(d.path(), "g.npy", "|u1", false, "(2, 5)", &[1u8; 10]);
    assert_eq!(ok(&p, &opts()).shape(), Shape::new(1, 2, 5, 1));
    let rgb: Vec<u8> = (0..2 * 5 * 3).map(|i| i as u8).collect();
    let p = write_raw(d.path(), "rgb.npy", "|u1", false, "(2, 5, 3)", &rgb);
    let s = ok(&p, &opts());
    assert_eq!(s.shape(), Shape::new(1, 2, 5, 3));
    // grayscale: luminance of (r, g, b) at pixel (1, 2) = samples 21, 22, 23
    let g = ok(
        &p,
        &LoadOptions {
            grayscale: true,
            ..opts()
        },
    );
    let l: f32 = (0.299f32 * 21.0 + 0.587 * 22.0 + 0.114 * 23.0).round();
    assert_eq!(g.value(0, 1, 2, 0), l);
}

#[test]
fn frame_range_of_a_mapped_file_stays_mapped() {
    let d = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..5 * 2 * 2).map(|i| (i / 4) as u8).collect();
    let p = write_raw(d.path(), "r.npy", "|u1", false, "(5, 2, 2)", &data);
    let s = ok(
        &p,
        &LoadOptions {
            first: Some(1),
            last: Some(3),
            ..opts()
        },
    );
    assert!(s.is_mapped());
    assert_eq!(s.shape().frames, 3);
    assert_eq!(
        (0..3).map(|t| s.value(t, 0, 0, 0)).collect::<Vec<_>>(),
        vec![1.0, 2.0, 3.0]
    );
    // a step needs a copy
    let s = ok(
        &p,
        &LoadOptions {
            step: Some(2),
            ..opts()
        },
    );
    assert!(!s.is_mapped());
    assert_eq!(
        (0..3).map(|t| s.value(t, 0, 0, 0)).collect::<Vec<_>>(),
        vec![0.0, 2.0, 4.0]
    );
}

#[test]
fn bad_npy_files_give_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let short = write_raw(
        d.path(),
        "short.npy",
        "<u2",
        false,
        "(4, 4, 4)",
        &[0u8; 100],
    );
    let e = load(&short, &opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::Npy { .. }));
    assert!(
        e.to_string().contains("short.npy") && e.to_string().contains("header claims 128 bytes"),
        "{e}"
    );
    let obj = write_raw(d.path(), "obj.npy", "|O", false, "(2, 2)", &[0u8; 32]);
    assert!(
        load(&obj, &opts(), &NoProgress)
            .unwrap_err()
            .to_string()
            .contains("unsupported dtype")
    );
    let cplx = write_raw(d.path(), "c.npy", "<c8", false, "(2, 2)", &[0u8; 32]);
    assert!(
        load(&cplx, &opts(), &NoProgress)
            .unwrap_err()
            .to_string()
            .contains("c.npy")
    );
    let one_d = write_raw(d.path(), "v.npy", "|u1", false, "(8,)", &[0u8; 8]);
    assert!(
        load(&one_d, &opts(), &NoProgress)
            .unwrap_err()
            .to_string()
            .contains("1-D")
    );
    let junk = d.path().join("junk.npy");
    std::fs::write(&junk, b"\x93NUMPYgarbage").unwrap();
    let e = load(&junk, &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("junk.npy"), "{e}");
    let empty = d.path().join("empty.npy");
    std::fs::write(&empty, b"").unwrap();
    assert!(load(&empty, &opts(), &NoProgress).is_err());
}

#[test]
fn written_npy_reloads_bit_exact_with_a_standard_header() {
    let d = tempfile::tempdir().unwrap();
    let v: Vec<u16> = (0..3 * 4 * 5 * 3)
        .map(|i| (i * 977 % 65536) as u16)
        .collect();
    let s = Stack::from_vec(Shape::new(3, 4, 5, 3), v.clone()).unwrap();
    let p = d.path().join("o.npy");
    write_npy(&p, &s).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let head = npy_header("<u2", &[3, 4, 5, 3]);
    assert_eq!(&bytes[..head.len()], &head[..]);
    assert_eq!(head.len() % 64, 0);
    assert!(String::from_utf8_lossy(&head).contains("'shape': (3, 4, 5, 3)"));
    let back = ok(&p, &opts());
    assert!(back.is_mapped());
    assert_eq!(back.as_slice::<u16>().unwrap(), &v[..]);
    // no temporary file is left beside it
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn info_plan_reads_only_the_header() {
    let d = tempfile::tempdir().unwrap();
    let p = write_raw(
        d.path(),
        "h.npy",
        "<f4",
        false,
        "(7, 3, 2)",
        &[0u8; 7 * 3 * 2 * 4],
    );
    let pl = plan(&p, &opts()).unwrap();
    assert_eq!(pl.shape, Shape::new(7, 3, 2, 1));
    assert_eq!(pl.dtype, Dtype::F32);
    assert!(pl.mapped);
    assert_eq!(pl.bytes(), 7 * 3 * 2 * 4);
}

#[test]
fn one_frame_3d_arrays_that_need_conversion_read_as_one_gray_frame() {
    let d = tempfile::tempdir().unwrap();
    // (1, 4, 5) f8: one 4 x 5 frame, value 10 y + x
    let data: Vec<u8> = (0..20)
        .flat_map(|i| ((i / 5 * 10 + i % 5) as f64).to_le_bytes())
        .collect();
    let p = write_raw(d.path(), "one.npy", "<f8", false, "(1, 4, 5)", &data);
    let s = ok(&p, &opts());
    assert_eq!(s.shape(), Shape::new(1, 4, 5, 1));
    assert_eq!(s.value(0, 3, 4, 0), 34.0);
    // big-endian u2 (1, 2, 4)
    let data: Vec<u8> = (0..8u16).flat_map(|v| (v * 1000).to_be_bytes()).collect();
    let p = write_raw(d.path(), "be.npy", ">u2", false, "(1, 2, 4)", &data);
    let s = ok(&p, &opts());
    assert_eq!(s.shape(), Shape::new(1, 2, 4, 1));
    assert_eq!(s.value(0, 1, 3, 0), 7000.0);
}

#[test]
fn a_shape_too_large_for_any_file_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = write_raw(
        d.path(),
        "huge.npy",
        "<f8",
        false,
        "(2305843009213693952, 1, 1)",
        &[0u8; 8],
    );
    let e = load(&p, &opts(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("huge.npy"), "{e}");
}
