//! The small defects of issue 16: planar TIFF pages, a closed stdout, long error
//! messages, OS errors said once, and the 3-D `.npy` read two ways.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{fails, load_ok, ok, ram_opts, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A little-endian, uncompressed, 8-bit RGB TIFF with PlanarConfiguration 2: one strip
/// per plane, `planes[k]` holding channel k row by row.
fn planar_rgb_tiff(w: u32, h: u32, planes: &[Vec<u8>; 3]) -> Vec<u8> {
    let n_entries = 10u16;
    let extra = 8 + 2 + 12 * n_entries as u32 + 4;
    let (bits_at, offsets_at, counts_at) = (extra, extra + 6, extra + 18);
    let data_at = extra + 30;
    let plane = w * h;
    let mut b = b"II".to_vec();
    b.extend(42u16.to_le_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend(n_entries.to_le_bytes());
    let mut entry = |tag: u16, typ: u16, count: u32, value: u32| {
        b.extend(tag.to_le_bytes());
        b.extend(typ.to_le_bytes());
        b.extend(count.to_le_bytes());
        b.extend(value.to_le_bytes());
    };
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    entry(256, LONG, 1, w); // ImageWidth
    entry(257, LONG, 1, h); // ImageLength
    entry(258, SHORT, 3, bits_at); // BitsPerSample
    entry(259, SHORT, 1, 1); // Compression: none
    entry(262, SHORT, 1, 2); // Photometric: RGB
    entry(273, LONG, 3, offsets_at); // StripOffsets
    entry(277, SHORT, 1, 3); // SamplesPerPixel
    entry(278, LONG, 1, h); // RowsPerStrip
    entry(279, LONG, 3, counts_at); // StripByteCounts
    entry(284, SHORT, 1, 2); // PlanarConfiguration: planar
    b.extend(0u32.to_le_bytes());
    assert_eq!(b.len() as u32, bits_at);
    for _ in 0..3 {
        b.extend(8u16.to_le_bytes());
    }
    for k in 0..3 {
        b.extend((data_at + k * plane).to_le_bytes());
    }
    for _ in 0..3 {
        b.extend(plane.to_le_bytes());
    }
    assert_eq!(b.len() as u32, data_at);
    for p in planes {
        assert_eq!(p.len() as u32, plane);
        b.extend(p);
    }
    b
}

#[test]
fn a_planar_rgb_tiff_loads_with_its_planes_as_channels() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("planar.tif");
    let r: Vec<u8> = (10..16).collect();
    let g: Vec<u8> = (20..26).collect();
    let b: Vec<u8> = (30..36).collect();
    std::fs::write(&p, planar_rgb_tiff(3, 2, &[r, g, b])).unwrap();
    let st = load_ok(&p, &ram_opts());
    let sh = st.shape();
    assert_eq!((sh.frames, sh.height, sh.width, sh.channels), (1, 2, 3, 3));
    let want: Vec<u8> = (0..6u8).flat_map(|i| [10 + i, 20 + i, 30 + i]).collect();
    assert_eq!(st.as_slice::<u8>().unwrap(), &want[..]);
}

#[test]
fn a_closed_stdout_ends_info_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(["info", "demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the reader goes away before blitz writes its first line
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?}: {err}", out.status);
}

#[test]
fn an_error_from_a_huge_header_is_capped_and_names_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("long.npy");
    let descr = "x".repeat(16_000);
    let mut b = blitz::export::npy_header(&descr, &[2, 2]);
    b.extend([0u8; 4]);
    std::fs::write(&p, b).unwrap();
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("long.npy"), "{err}");
    assert!(err.contains("more characters"), "{err}");
    assert!(err.len() < 1_000, "{} bytes of error", err.len());
}

#[test]
fn a_full_disk_is_said_once() {
    let d = tempfile::tempdir().unwrap();
    let full = d.path().join("full.npy");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    for cmd in [
        vec!["reduce", "demo", "--op", "mean", "-o", s(&full)],
        vec!["convert", "demo", "--last", "1", "-o", s(&full)],
    ] {
        let err = fails(&cmd);
        assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
        assert_eq!(err.matches("full.npy").count(), 1, "{err}");
    }
}

/// A (4, 5, 3) u8 `.npy` holding 0..60 in file order.
fn three_d(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("a.npy");
    let mut b = blitz::export::npy_header("|u1", &[4, 5, 3]);
    b.extend(0..60u8);
    std::fs::write(&p, b).unwrap();
    p
}

#[test]
fn info_says_a_3d_npy_ending_in_3_is_one_colour_image() {
    let d = tempfile::tempdir().unwrap();
    let p = three_d(d.path());
    let out = ok(&["info", s(&p)]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("colour image"), "{text}");
    assert!(text.contains("--as-frames"), "{text}");
    let st = load_ok(&p, &ram_opts());
    let sh = st.shape();
    assert_eq!((sh.frames, sh.height, sh.width, sh.channels), (1, 4, 5, 3));
}

#[test]
fn as_frames_reads_a_3d_npy_ending_in_3_as_gray_frames() {
    let d = tempfile::tempdir().unwrap();
    let p = three_d(d.path());
    let opts = blitz::LoadOptions {
        as_frames: true,
        ..ram_opts()
    };
    let st = load_ok(&p, &opts);
    let sh = st.shape();
    assert_eq!((sh.frames, sh.height, sh.width, sh.channels), (4, 5, 3, 1));
    // (t, y, x) of a C-order (4, 5, 3) array sits at 15 t + 3 y + x
    let want: Vec<u8> = (0..60).collect();
    assert_eq!(st.as_slice::<u8>().unwrap(), &want[..]);
    let out = ok(&["info", "--json", "--as-frames", s(&p)]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let dims: Vec<u64> = ["frames", "height", "width", "channels"]
        .iter()
        .map(|k| j[k].as_u64().unwrap())
        .collect();
    assert_eq!(dims, vec![4, 5, 3, 1], "{j}");
}
