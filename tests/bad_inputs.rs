//! The bad-input corpus of issue 16: malformed inputs of every kind (lying sizes,
//! truncations, hostile headers, mixed types, files that are not what their name says)
//! through `info`, `convert`, `reduce` and a headless viewer load. Each must end in a
//! result or in a clean error naming the file: never a panic, an abort or a signal, and
//! an existing output file is never lost to a failed command. Valid but unusual inputs
//! (planar TIFF, mixed sample types) must give the right values. The counts are printed
//! (`cargo test --test bad_inputs -- --nocapture`) for docs/reliability.md.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blitz::engine::{Engine, EngineChoice};
use blitz::viewer::state::{LoadJob, ViewerState};
use blitz::{LoadOptions, NoProgress};
use common::{blitz, jpeg_bytes, npy_bytes, ram_opts};
use image::{ImageBuffer, Luma};
use tiff::encoder::{TiffEncoder, colortype};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn tiff_pages(pages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut out).unwrap();
        for p in pages {
            enc.write_image::<colortype::Gray8>(4, 2, p).unwrap();
        }
    }
    out.into_inner()
}

/// A two-page TIFF whose second page's StripByteCounts claims 2^31 values.
fn tiff_lying_tag() -> Vec<u8> {
    let mut b = tiff_pages(&[vec![1; 8], vec![2; 8]]);
    let u16_at = |b: &[u8], k: usize| u16::from_le_bytes([b[k], b[k + 1]]) as usize;
    let u32_at = |b: &[u8], k: usize| u32::from_le_bytes(b[k..k + 4].try_into().unwrap()) as usize;
    let ifd0 = u32_at(&b, 4);
    let n0 = u16_at(&b, ifd0);
    let ifd1 = u32_at(&b, ifd0 + 2 + 12 * n0);
    let n1 = u16_at(&b, ifd1);
    let entry = (0..n1)
        .map(|k| ifd1 + 2 + 12 * k)
        .find(|&e| u16_at(&b, e) == 279)
        .expect("a StripByteCounts tag");
    b[entry + 4..entry + 8].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    b
}

fn png_gray(w: u32, h: u32, v: Vec<u8>) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    ImageBuffer::<Luma<u8>, _>::from_raw(w, h, v)
        .unwrap()
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn png_u16(w: u32, h: u32, v: Vec<u16>) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    ImageBuffer::<Luma<u16>, _>::from_raw(w, h, v)
        .unwrap()
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn seed(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds")
            .join(rel),
    )
    .unwrap()
}

fn half(b: &[u8]) -> Vec<u8> {
    b[..b.len() / 2].to_vec()
}

/// The malformed inputs, written into `dir`: (name, path).
fn corpus(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("empty.npy", vec![]),
        ("magic_only.npy", b"\x93NUMPY".to_vec()),
        (
            "truncated.npy",
            npy_bytes(
                "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 64, 64), }",
                &[7; 100],
            ),
        ),
        (
            "huge_shape.npy",
            npy_bytes(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 100000, 100000), }",
                &[0; 64],
            ),
        ),
        (
            "overflow_shape.npy",
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }",
                &[0; 64],
            ),
        ),
        (
            "multibyte_descr.npy",
            npy_bytes(
                "{'descr': 'éu2', 'fortran_order': False, 'shape': (2, 2), }",
                &[0; 8],
            ),
        ),
        (
            "duplicate_keys.npy",
            npy_bytes(
                "{'descr': '|u1', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                &[0; 32],
            ),
        ),
        (
            "long_descr.npy",
            npy_bytes(
                &format!(
                    "{{'descr': '{}', 'fortran_order': False, 'shape': (2, 2), }}",
                    "x".repeat(16_000)
                ),
                &[0; 4],
            ),
        ),
        (
            "header_past_end.npy",
            b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'".to_vec(),
        ),
        ("empty.tif", vec![]),
        ("lying_tag.tif", tiff_lying_tag()),
        (
            "truncated.tif",
            half(&tiff_pages(&[vec![1; 8], vec![2; 8]])),
        ),
        (
            "not_a_tiff.tif",
            b"II*\x00\xff\xff\xff\xff garbage".to_vec(),
        ),
        ("truncated.jpg", half(&jpeg_bytes(64, 48))),
        ("empty.jpg", vec![]),
        ("truncated.png", half(&png_gray(16, 16, vec![9; 256]))),
        ("text.png", b"this is not a png".to_vec()),
        (
            "truncated.cine",
            seed("cine/legacy_head.cine")[..5000].to_vec(),
        ),
        ("truncated.spe", half(&seed("spe/u16.spe"))),
        ("truncated.fits", half(&seed("fits/u16.fits"))),
        ("garbage.asc", b"\x00\xff\xfe binary \x00 noise".to_vec()),
        ("ragged.asc", b"1 2 3\n4 5\n6 7 8 9\n".to_vec()),
        ("cih_only.cihx", seed("mraw/beam.cihx")),
    ];
    // a JPEG whose header claims 40000 x 40000
    let mut big = jpeg_bytes(16, 16);
    let at = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap() + 5;
    big[at..at + 2].copy_from_slice(&40000u16.to_be_bytes());
    big[at + 2..at + 4].copy_from_slice(&40000u16.to_be_bytes());
    files.push(("claims_40000.jpg", big));
    let mut out: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            (name.to_string(), p)
        })
        .collect();
    // folders: one broken file among good ones, mixed sample types, mixed sizes
    let folder = |name: &str, files: Vec<(&str, Vec<u8>)>| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, b) in files {
            std::fs::write(d.join(f), b).unwrap();
        }
        (name.to_string(), d)
    };
    out.push(folder(
        "folder_broken",
        vec![
            ("a.png", png_gray(4, 2, vec![1; 8])),
            ("b.png", half(&png_gray(4, 2, vec![2; 8]))),
            ("c.png", png_gray(4, 2, vec![3; 8])),
        ],
    ));
    out.push(folder(
        "folder_mixed_types",
        vec![
            ("a.png", png_gray(4, 2, vec![1; 8])),
            ("b.png", png_u16(4, 2, vec![60000; 8])),
        ],
    ));
    out.push(folder(
        "folder_mixed_sizes",
        vec![
            ("a.png", png_gray(4, 2, vec![1; 8])),
            ("b.png", png_gray(3, 3, vec![2; 9])),
        ],
    ));
    out.push(folder("folder_empty", vec![]));
    out
}

/// How one command ended.
#[derive(Debug, Default)]
struct Counts {
    runs: usize,
    ok: usize,
    clean_errors: usize,
    unnamed_errors: Vec<String>,
    panics: Vec<String>,
    aborts: Vec<String>,
    files_lost: Vec<String>,
}

impl Counts {
    fn judge(&mut self, what: String, name: &str, o: &Output) {
        self.runs += 1;
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            None => self.aborts.push(format!("{what}: {:?}", o.status)),
            Some(101) => self.panics.push(format!("{what}: {err}")),
            _ if err.contains("panicked") => self.panics.push(format!("{what}: {err}")),
            Some(0) => self.ok += 1,
            Some(_) if err.contains(name) => self.clean_errors += 1,
            Some(_) => self.unnamed_errors.push(format!("{what}: {err}")),
        }
    }
}

#[test]
fn malformed_inputs_end_cleanly_in_info_convert_and_reduce() {
    let d = tempfile::tempdir().unwrap();
    let inputs = corpus(d.path());
    let outs = d.path().join("out");
    std::fs::create_dir_all(&outs).unwrap();
    let mut c = Counts::default();
    let budget = ["--max-ram", "0.25", "--storage", "ram"];
    for (k, (name, p)) in inputs.iter().enumerate() {
        let o = blitz(&[&["info", s(p)][..], &budget].concat());
        c.judge(format!("info {name}"), name, &o);
        // an output that exists already: a failed command must leave it as it was
        let conv = outs.join(format!("c{k}.npy"));
        std::fs::write(&conv, b"keep me").unwrap();
        let o = blitz(&[&["convert", s(p), "-o", s(&conv)][..], &budget].concat());
        c.judge(format!("convert {name}"), name, &o);
        if !o.status.success() && std::fs::read(&conv).ok().as_deref() != Some(&b"keep me"[..]) {
            c.files_lost.push(format!("convert {name}"));
        }
        let red = outs.join(format!("r{k}.npy"));
        std::fs::write(&red, b"keep me").unwrap();
        let o = blitz(
            &[
                &["reduce", s(p), "--op", "mean", "-o", s(&red)][..],
                &budget,
            ]
            .concat(),
        );
        c.judge(format!("reduce {name}"), name, &o);
        if !o.status.success() && std::fs::read(&red).ok().as_deref() != Some(&b"keep me"[..]) {
            c.files_lost.push(format!("reduce {name}"));
        }
    }
    eprintln!(
        "bad inputs: {} inputs, {} runs: {} results, {} clean errors, {} errors naming no file, \
         {} panics, {} aborts, {} files lost",
        inputs.len(),
        c.runs,
        c.ok,
        c.clean_errors,
        c.unnamed_errors.len(),
        c.panics.len(),
        c.aborts.len(),
        c.files_lost.len()
    );
    assert!(c.panics.is_empty(), "panics: {:#?}", c.panics);
    assert!(c.aborts.is_empty(), "aborts: {:#?}", c.aborts);
    assert!(c.files_lost.is_empty(), "files lost: {:#?}", c.files_lost);
    assert!(
        c.unnamed_errors.is_empty(),
        "errors naming no file: {:#?}",
        c.unnamed_errors
    );
}

#[test]
fn malformed_inputs_in_the_viewer_keep_the_stack_and_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("good.npy");
    std::fs::write(
        &good,
        npy_bytes(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }",
            &[5; 8],
        ),
    )
    .unwrap();
    let engine = Arc::new(Engine::new(EngineChoice::Cpu));
    let opts = LoadOptions {
        max_ram_gib: Some(0.25),
        ..ram_opts()
    };
    let loaded = LoadJob::start(&good, opts.clone(), engine.clone())
        .wait()
        .unwrap();
    let mut v = ViewerState::new(loaded, opts, engine, "none".into());
    let (mut loads, mut errors) = (0, 0);
    for (name, p) in corpus(d.path()) {
        v.open(&p);
        let t0 = Instant::now();
        while v.jobs.load.is_some() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "{name}: load never finished"
            );
            std::thread::sleep(Duration::from_millis(5));
            v.poll_jobs();
        }
        match v.error.take() {
            Some(e) => {
                errors += 1;
                assert!(e.contains(&name), "{name}: {e}");
                assert!(!e.contains("panicked"), "{name}: {e}");
                assert!(e.len() < 1_000, "{name}: {} bytes of message", e.len());
            }
            None => loads += 1,
        }
    }
    eprintln!("viewer: {loads} loads, {errors} clean errors, 0 panics");
}

#[test]
fn unusual_valid_inputs_give_the_right_values() {
    let d = tempfile::tempdir().unwrap();
    // mixed u8 / u16 pages: converted to u16 with every value kept
    let p = d.path().join("mixed.tif");
    let mut enc = TiffEncoder::new(File::create(&p).unwrap()).unwrap();
    enc.write_image::<colortype::Gray8>(2, 1, &[7, 200])
        .unwrap();
    enc.write_image::<colortype::Gray16>(2, 1, &[60000, 1])
        .unwrap();
    drop(enc);
    let out = d.path().join("mixed.npy");
    common::ok(&["convert", s(&p), "-o", s(&out)]);
    let st = blitz::load::load(&out, &ram_opts(), &NoProgress).unwrap();
    assert_eq!(st.as_slice::<u16>().unwrap(), &[7, 200, 60000, 1]);
    // the planar RGB seed: its planes become the channels
    let p = d.path().join("planar.tif");
    std::fs::write(&p, seed("tiff/rgb_planar.tif")).unwrap();
    let st = blitz::load::load(&p, &ram_opts(), &NoProgress).unwrap();
    let want: Vec<u8> = (0..6u8).flat_map(|i| [i, 6 + i, 12 + i]).collect();
    assert_eq!(st.as_slice::<u8>().unwrap(), &want[..]);
}
