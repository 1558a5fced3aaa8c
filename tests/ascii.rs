//! ASCII grids (spec §2.10) as their own loader, single files and folders, and the
//! dispatch of the formats FFmpeg must not get: FITS and Princeton `.spe` read from
//! their simple headers, text and unknown files refused with an error naming them, and
//! only files that probe as video sent to FFmpeg.

mod common;

use std::path::{Path, PathBuf};

use blitz::load::{LoadError, LoadOptions, NoProgress, SourceKind, load, plan};
use blitz::{Dtype, Stack};
use common::{load_ok, ram_opts};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn f32s(s: &Stack) -> Vec<f32> {
    s.as_slice::<f32>().expect("an f32 stack").to_vec()
}

fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || x.is_nan() && y.is_nan())
}

#[test]
fn a_tab_grid_reads_its_values_and_nan_for_empty_or_text_cells() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.asc", "1.5\t-2\t3e2\n4\t\tabc\n7\t8\t9\n");
    let pl = plan(&p, &ram_opts()).unwrap();
    assert_eq!(pl.kind, SourceKind::Ascii);
    assert_eq!(
        (pl.shape.frames, pl.shape.height, pl.shape.width, pl.dtype),
        (1, 3, 3, Dtype::F32)
    );
    let s = load_ok(&p, &ram_opts());
    let n = f32::NAN;
    assert!(
        same(&f32s(&s), &[1.5, -2.0, 300.0, 4.0, n, n, 7.0, 8.0, 9.0]),
        "{:?}",
        f32s(&s)
    );
    assert_eq!(s.source.kind, "ascii grid");
}

#[test]
fn row_numbers_are_dropped_and_numeric_txt_and_csv_read_as_grids() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.dat", "1 10 11\n2 20 21\n3 30 31\n");
    let s = load_ok(&p, &ram_opts());
    assert_eq!((s.shape().height, s.shape().width), (3, 2));
    assert_eq!(f32s(&s), vec![10.0, 11.0, 20.0, 21.0, 30.0, 31.0]);
    assert!(s.source.notes.join("\n").contains("first column"));
    let p = write(d.path(), "m.txt", "x,y\n0.5,0.25\n0.125,1\n");
    let s = load_ok(&p, &ram_opts());
    assert_eq!(f32s(&s), vec![0.5, 0.25, 0.125, 1.0]);
    let p = write(d.path(), "m.csv", "5;6\n7;8\n");
    assert_eq!(f32s(&load_ok(&p, &ram_opts())), vec![5.0, 6.0, 7.0, 8.0]);
}

#[test]
fn a_folder_of_grids_is_a_stack_in_natural_order() {
    let d = tempfile::tempdir().unwrap();
    for (name, v) in [("f10.asc", 10), ("f2.asc", 2), ("f1.asc", 1)] {
        write(d.path(), name, format!("{v} {v}\n{v} {}\n", v + 100));
    }
    write(d.path(), "readme.md", "not a grid");
    let p = plan(d.path(), &ram_opts()).unwrap();
    assert_eq!(p.kind, SourceKind::AsciiFolder);
    let s = load_ok(d.path(), &ram_opts());
    assert_eq!(s.shape().frames, 3);
    assert_eq!(
        f32s(&s),
        vec![
            1.0, 1.0, 1.0, 101.0, 2.0, 2.0, 2.0, 102.0, 10.0, 10.0, 10.0, 110.0
        ]
    );
    assert_eq!(s.source.frame_index, vec![0, 1, 2]);
    let s = load_ok(
        d.path(),
        &LoadOptions {
            step: Some(2),
            ..ram_opts()
        },
    );
    assert_eq!(
        (s.shape().frames, s.source.frame_index.clone()),
        (2, vec![0, 2])
    );
    // a grid of another size is an error that names it
    write(d.path(), "f3.asc", "1 2 3\n4 5 6\n");
    let e = load(d.path(), &ram_opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("f3.asc") && e.contains("one size"), "{e}");
}

#[test]
fn a_folder_of_numeric_txt_files_is_a_stack_too() {
    let d = tempfile::tempdir().unwrap();
    for t in 0..3 {
        write(d.path(), &format!("{t}.txt"), format!("{t}\t1\n7\t3\n"));
    }
    let s = load_ok(d.path(), &ram_opts());
    assert_eq!(s.shape().frames, 3);
    assert_eq!(s.value(2, 0, 0, 0), 2.0);
}

#[test]
fn eight_bit_scales_zero_to_one_and_with_normalize_stretches_percentiles() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.asc", "0 0.5 1.5\n-1 0.999 nan\n");
    let s = load_ok(
        &p,
        &LoadOptions {
            to_8bit: true,
            ..ram_opts()
        },
    );
    assert_eq!(s.as_slice::<u8>().unwrap(), &[0, 127, 255, 0, 254, 0]);
    // 0..100 in steps of 1: the 2nd..98th percentiles are 2 and 98
    let text: String = (0..101).map(|v| format!("{v}\t")).collect::<String>()
        + "\n"
        + &(0..101).map(|_| "50\t").collect::<String>();
    let p = write(d.path(), "r.asc", text);
    let s = load_ok(
        &p,
        &LoadOptions {
            to_8bit: true,
            normalize: true,
            ..ram_opts()
        },
    );
    let v = s.as_slice::<u8>().unwrap();
    assert_eq!(s.shape().width, 101);
    // v -> (v - lo) / (hi - lo) * 255 truncated, clipped: percentiles over all 202 values
    let mut all: Vec<f64> = (0..101)
        .map(f64::from)
        .chain(std::iter::repeat_n(50.0, 101))
        .collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let pos = p / 100.0 * 201.0;
        let i = pos.floor() as usize;
        all[i] + (all[i + 1] - all[i]) * (pos - pos.floor())
    };
    let (lo, hi) = (pct(2.0), pct(98.0));
    for x in [0usize, 3, 50, 97, 100] {
        let want = ((x as f64 - lo) / (hi - lo) * 255.0).clamp(0.0, 255.0) as u8;
        assert_eq!(v[x], want, "x {x}");
    }
    // --normalize alone leaves the values and says so
    let s = load_ok(
        &p,
        &LoadOptions {
            normalize: true,
            ..ram_opts()
        },
    );
    assert_eq!(s.value(0, 0, 100, 0), 100.0);
    assert!(s.source.notes.join("\n").contains("--normalize"));
}

#[test]
fn a_size_ratio_averages_areas() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.asc", "1 3 10 20\n5 7 30 40\n");
    let s = load_ok(
        &p,
        &LoadOptions {
            size_ratio: 0.5,
            ..ram_opts()
        },
    );
    assert_eq!(f32s(&s), vec![4.0, 25.0]);
}

/// A FITS file: header cards padded to 2880 bytes, then big-endian data.
fn fits(cards: &[(&str, String)], data: &[u8]) -> Vec<u8> {
    let mut h = String::new();
    for (k, v) in cards {
        h += &format!("{k:<8}= {v:>20}{:50}", "");
    }
    h += &format!("{:<80}", "END");
    while !h.len().is_multiple_of(2880) {
        h.push(' ');
    }
    let mut b = h.into_bytes();
    b.extend(data);
    b
}

#[test]
fn fits_images_load_as_u16_or_f32() {
    let d = tempfile::tempdir().unwrap();
    // unsigned 16-bit convention: stored value - 32768, big-endian; 2 frames of 3 x 2
    let vals: Vec<u16> = vec![0, 1, 2, 1000, 65535, 40000, 7, 8, 9, 10, 11, 12];
    let data: Vec<u8> = vals
        .iter()
        .flat_map(|&v| ((v as i32 - 32768) as i16).to_be_bytes())
        .collect();
    let cards = |bitpix: &str, extra: Vec<(&'static str, String)>| {
        let mut c = vec![
            ("SIMPLE", "T".to_string()),
            ("BITPIX", bitpix.to_string()),
            ("NAXIS", "3".into()),
            ("NAXIS1", "3".into()),
            ("NAXIS2", "2".into()),
            ("NAXIS3", "2".into()),
        ];
        c.extend(extra);
        c
    };
    let p = write(
        d.path(),
        "u.fits",
        fits(
            &cards(
                "16",
                vec![("BZERO", "32768".into()), ("BSCALE", "1".into())],
            ),
            &data,
        ),
    );
    let pl = plan(&p, &ram_opts()).unwrap();
    assert_eq!(
        (pl.kind, pl.dtype, pl.shape.frames),
        (SourceKind::Fits, Dtype::U16, 2)
    );
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.as_slice::<u16>().unwrap(), &vals[..]);
    // scaled 16-bit becomes f32
    let p = write(
        d.path(),
        "s.fit",
        fits(
            &cards(
                "16",
                vec![("BZERO", "10.0".into()), ("BSCALE", "0.5".into())],
            ),
            &data,
        ),
    );
    let s = load_ok(&p, &ram_opts());
    let want: Vec<f32> = vals
        .iter()
        .map(|&v| (v as i32 - 32768) as f32 * 0.5 + 10.0)
        .collect();
    assert_eq!(f32s(&s), want);
    // float data, one frame, NaN kept
    let fl: Vec<f32> = vec![0.5, f32::NAN, -3.25, 1e6, 2.0, 0.0];
    let data: Vec<u8> = fl.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut c = cards("-32", vec![]);
    c[2].1 = "2".into();
    c.truncate(5);
    let p = write(d.path(), "f.fits", fits(&c, &data));
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.shape().frames, 1);
    assert!(same(&f32s(&s), &fl));
    // a file whose image is in an extension: a clear refusal naming it
    let p = write(
        d.path(),
        "ext.fits",
        fits(
            &[
                ("SIMPLE", "T".into()),
                ("BITPIX", "8".into()),
                ("NAXIS", "0".into()),
            ],
            &[],
        ),
    );
    let e = load(&p, &ram_opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("ext.fits"), "{e}");
    // a truncated data unit keeps the whole frames
    let data: Vec<u8> = vals
        .iter()
        .flat_map(|&v| ((v as i32 - 32768) as i16).to_be_bytes())
        .collect();
    let p = write(
        d.path(),
        "cut.fits",
        fits(&cards("16", vec![("BZERO", "32768".into())]), &data[..20]),
    );
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.shape().frames, 1);
    assert!(s.source.notes.join("\n").contains("1 lost"));
}

/// A Princeton SPE 2.x file: the 4100-byte header and little-endian frames.
fn spe(w: u16, h: u16, frames: i32, dtype: i16, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 4100];
    b[42..44].copy_from_slice(&w.to_le_bytes());
    b[656..658].copy_from_slice(&h.to_le_bytes());
    b[108..110].copy_from_slice(&dtype.to_le_bytes());
    b[1446..1450].copy_from_slice(&frames.to_le_bytes());
    b[1992..1996].copy_from_slice(&2.5f32.to_le_bytes());
    b[4098..4100].copy_from_slice(&0x5555u16.to_le_bytes());
    b.extend(data);
    b
}

#[test]
fn princeton_spe_frames_are_mapped() {
    let d = tempfile::tempdir().unwrap();
    let vals: Vec<u16> = (0..24).map(|v| v * 1000).collect();
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = write(d.path(), "a.spe", spe(4, 3, 2, 3, &data));
    let pl = plan(&p, &ram_opts()).unwrap();
    assert_eq!(
        (pl.kind, pl.dtype, pl.mapped),
        (SourceKind::Spe, Dtype::U16, true)
    );
    let s = load_ok(&p, &ram_opts());
    assert!(s.is_mapped());
    assert_eq!(s.as_slice::<u16>().unwrap(), &vals[..]);
    assert_eq!(s.value(1, 2, 3, 0), 23000.0);
    let fl: Vec<f32> = (0..6).map(|v| v as f32 / 4.0).collect();
    let data: Vec<u8> = fl.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = write(d.path(), "f.spe", spe(3, 2, 1, 0, &data));
    assert_eq!(f32s(&load_ok(&p, &ram_opts())), fl);
    // no SPE mark: refused, named
    let mut b = spe(3, 2, 1, 0, &data);
    b[4098] = 0;
    let p = write(d.path(), "bad.spe", b);
    let e = load(&p, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(e.contains("bad.spe") && e.contains("SPE"), "{e}");
}

#[test]
fn text_and_unknown_files_are_refused_by_name_not_sent_to_ffmpeg() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "notes.txt", "hello, this is\nplain text\n");
    let e = load(&p, &ram_opts(), &NoProgress).unwrap_err();
    assert!(matches!(e, LoadError::Unsupported { .. }), "{e}");
    assert!(
        e.to_string().contains("notes.txt") && e.to_string().contains("grid"),
        "{e}"
    );
    let p = write(d.path(), "blob.xyz", [0u8, 1, 2, 3, 250, 251, 0, 7]);
    let e = load(&p, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(
        e.contains("blob.xyz") && e.contains("unsupported") && !e.contains("rewind"),
        "{e}"
    );
    let p = write(d.path(), "prose.log", "just some words\n");
    let e = load(&p, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(e.contains("prose.log") && e.contains("unsupported"), "{e}");
    // a numeric grid under an unknown extension is found by its content
    let p = write(d.path(), "grid.out", "1 2\n3 4\n");
    assert_eq!(f32s(&load_ok(&p, &ram_opts())), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn a_video_under_an_unknown_extension_goes_to_ffmpeg_after_the_probe() {
    let d = tempfile::tempdir().unwrap();
    let raw = write(d.path(), "in.gray", (0..32u8).collect::<Vec<u8>>());
    let out = d.path().join("clip.mkv");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            "4x4",
            "-i",
        ])
        .arg(&raw)
        .args(["-c:v", "ffv1"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("ffmpeg not available: skipped");
        return;
    }
    let renamed = d.path().join("clip.bin");
    std::fs::rename(&out, &renamed).unwrap();
    let s = load_ok(&renamed, &ram_opts());
    assert_eq!(s.source.kind, "video");
    assert_eq!(
        (s.shape().frames, s.shape().height, s.shape().width),
        (2, 4, 4)
    );
}
