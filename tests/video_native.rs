//! Videos at their own bit depth and channels: gray stays one channel, 9 to 16-bit samples
//! are u16 and equal FFmpeg's own decode in that pixel format (not rescaled), colour above
//! 8 bits is u16 RGB; `--gray` and `--8bit` still convert. Clips are made here by the
//! `ffmpeg` command (lossless FFV1) from frames whose every sample is known by formula.

mod common;

use std::path::{Path, PathBuf};

use blitz::Dtype;
use blitz::load::{self, LoadOptions};
use common::video::{decode_raw, encode_raw};
use common::{load_ok, ram_opts};
use tempfile::TempDir;

const T: usize = 5;
const H: usize = 18;
const W: usize = 22;

/// A sample of `bits` bits at frame t, row y, column x, spread over the whole range.
fn value(bits: u32, t: usize, y: usize, x: usize) -> u16 {
    let max = (1u32 << bits) - 1;
    ((t as u32 * 7919 + y as u32 * 977 + x as u32 * 131) % (max + 1)) as u16
}

fn le_bytes(v: impl IntoIterator<Item = u16>) -> Vec<u8> {
    v.into_iter().flat_map(u16::to_le_bytes).collect()
}

fn le_u16(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// Gray frames of `bits` bits as an FFV1 clip in `pix_fmt`; returns the clip and its samples.
fn gray_clip(dir: &Path, bits: u32, pix_fmt: &str) -> (PathBuf, Vec<u16>) {
    let want: Vec<u16> = (0..T)
        .flat_map(|t| (0..H).flat_map(move |y| (0..W).map(move |x| value(bits, t, y, x))))
        .collect();
    let path = encode_raw(
        dir,
        &format!("{pix_fmt}.mkv"),
        &le_bytes(want.iter().copied()),
        pix_fmt,
        (W, H),
        &["-c:v", "ffv1", "-pix_fmt", pix_fmt],
    );
    (path, want)
}

/// A yuv420p10 FFV1 clip; returns it and its luma samples.
fn yuv10_clip(dir: &Path) -> (PathBuf, Vec<u16>) {
    let mut raw = Vec::new();
    let mut luma = Vec::new();
    for t in 0..T {
        let y_plane: Vec<u16> = (0..H)
            .flat_map(|y| (0..W).map(move |x| 64 + value(10, t, y, x) % 877))
            .collect();
        luma.extend_from_slice(&y_plane);
        raw.extend(le_bytes(y_plane));
        for k in 0..2 {
            let c =
                (0..H / 2).flat_map(|y| (0..W / 2).map(move |x| 64 + value(10, t + k, y, x) % 897));
            raw.extend(le_bytes(c));
        }
    }
    let path = encode_raw(
        dir,
        "yuv10.mkv",
        &raw,
        "yuv420p10le",
        (W, H),
        &["-c:v", "ffv1", "-pix_fmt", "yuv420p10le"],
    );
    (path, luma)
}

fn u16s(s: &blitz::Stack) -> Vec<u16> {
    assert_eq!(s.dtype(), Dtype::U16);
    s.as_slice::<u16>().unwrap().to_vec()
}

fn gray_opts() -> LoadOptions {
    LoadOptions {
        grayscale: true,
        ..ram_opts()
    }
}

#[test]
fn gray16_video_is_one_channel_u16_equal_to_ffmpegs_decode() {
    let dir = TempDir::new().unwrap();
    let (path, want) = gray_clip(dir.path(), 16, "gray16le");
    let plan = load::plan(&path, &ram_opts()).unwrap();
    assert_eq!(plan.shape.dims(), (T, H, W, 1));
    assert_eq!(plan.dtype, Dtype::U16);
    assert_eq!(plan.source_channels, 1);
    // the estimate counts two bytes a sample, one channel
    assert_eq!(plan.guard.estimate_bytes, (T * H * W * 2) as u64);

    let s = load_ok(&path, &ram_opts());
    assert_eq!(s.shape().dims(), (T, H, W, 1));
    let got = u16s(&s);
    assert_eq!(got, le_u16(&decode_raw(&path, "gray16le")));
    assert_eq!(got, want);
}

#[test]
fn gray10_video_keeps_its_10_bit_values() {
    let dir = TempDir::new().unwrap();
    let (path, want) = gray_clip(dir.path(), 10, "gray10le");
    let s = load_ok(&path, &ram_opts());
    assert_eq!(s.shape().dims(), (T, H, W, 1));
    let got = u16s(&s);
    assert_eq!(got, le_u16(&decode_raw(&path, "gray10le")));
    assert_eq!(got, want);
    assert!(got.iter().all(|&v| v < 1024), "not rescaled to 16 bits");
    assert!(got.iter().any(|&v| v > 1000));
}

#[test]
fn gray_of_yuv420p10_is_the_decoded_luma() {
    let dir = TempDir::new().unwrap();
    let (path, luma) = yuv10_clip(dir.path());
    let s = load_ok(&path, &gray_opts());
    assert_eq!(s.shape().dims(), (T, H, W, 1));
    let got = u16s(&s);
    // FFmpeg's decode in the source's own format: the Y plane of each frame
    let raw = le_u16(&decode_raw(&path, "yuv420p10le"));
    let per_frame = H * W + 2 * (H / 2) * (W / 2);
    let ffmpeg_luma: Vec<u16> = raw
        .chunks_exact(per_frame)
        .flat_map(|f| f[..H * W].to_vec())
        .collect();
    assert_eq!(got, ffmpeg_luma);
    assert_eq!(got, luma);
}

#[test]
fn colour_above_8_bits_is_u16_rgb() {
    let dir = TempDir::new().unwrap();
    let (path, _) = yuv10_clip(dir.path());
    let plan = load::plan(&path, &ram_opts()).unwrap();
    assert_eq!(plan.dtype, Dtype::U16);
    assert_eq!(plan.guard.estimate_bytes, (T * H * W * 3 * 2) as u64);
    let s = load_ok(&path, &ram_opts());
    assert_eq!(s.shape().dims(), (T, H, W, 3));
    let got = u16s(&s);
    // RGB at the source's 10 bits: FFmpeg's own RGB48 conversion (nearest chroma, as
    // blitz converts at full size) brought back to 10 bits, within one unit of rounding
    let raw = dir.path().join("rgb48.raw");
    common::video::ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-sws_flags",
        "neighbor",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb48le",
        raw.to_str().unwrap(),
    ]);
    let rgb48 = le_u16(&std::fs::read(&raw).unwrap());
    assert_eq!(got.len(), rgb48.len());
    for (i, (&g, &f)) in got.iter().zip(&rgb48).enumerate() {
        let want = f >> 6;
        assert!(
            g.abs_diff(want) <= 1,
            "sample {i}: blitz {g}, ffmpeg rgb48 {f} >> 6 = {want}"
        );
    }
    assert!(got.iter().all(|&v| v <= 1023));
    assert!(got.iter().any(|&v| v > 255), "max {:?}", got.iter().max());
    let notes = plan.notes.join("; ");
    assert!(notes.contains("converted to RGB of 10 bits"), "{notes}");
}

#[test]
fn planar_rgb_above_8_bits_keeps_every_sample() {
    if !common::video::has_encoder("ffv1") {
        eprintln!("SKIPPED: ffmpeg has no ffv1 encoder");
        return;
    }
    let dir = TempDir::new().unwrap();
    // gbrp12: planes G, B, R of 12-bit samples; stored RGB must be them, exactly
    let plane = |t: usize, k: usize| -> Vec<u16> {
        (0..H)
            .flat_map(move |y| (0..W).map(move |x| value(12, t + 3 * k, y, x)))
            .collect()
    };
    let mut raw = Vec::new();
    let mut want = Vec::new();
    for t in 0..T {
        let (g, b, r) = (plane(t, 0), plane(t, 1), plane(t, 2));
        for i in 0..H * W {
            want.extend([r[i], g[i], b[i]]);
        }
        for p in [g, b, r] {
            raw.extend(le_bytes(p));
        }
    }
    let path = encode_raw(
        dir.path(),
        "gbrp12.mkv",
        &raw,
        "gbrp12le",
        (W, H),
        &["-c:v", "ffv1", "-pix_fmt", "gbrp12le"],
    );
    let s = load_ok(&path, &ram_opts());
    assert_eq!(s.shape().dims(), (T, H, W, 3));
    assert_eq!(u16s(&s), want);
}

#[test]
fn eight_bit_option_converts_a_16_bit_video() {
    let dir = TempDir::new().unwrap();
    let (path, want) = gray_clip(dir.path(), 16, "gray16le");
    let o = LoadOptions {
        to_8bit: true,
        ..ram_opts()
    };
    let plan = load::plan(&path, &o).unwrap();
    assert_eq!(plan.dtype, Dtype::U8);
    assert_eq!(plan.guard.estimate_bytes, (T * H * W) as u64);
    let s = load_ok(&path, &o);
    assert_eq!(s.shape().dims(), (T, H, W, 1));
    let got = s.as_slice::<u8>().unwrap();
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g as i32 - (w >> 8) as i32).abs() <= 1,
            "sample {i}: got {g}, 16-bit value {w}"
        );
    }
}

#[test]
fn size_ratio_on_a_gray16_video_averages_in_16_bits() {
    let dir = TempDir::new().unwrap();
    let (path, want) = gray_clip(dir.path(), 16, "gray16le");
    let o = LoadOptions {
        size_ratio: 0.5,
        ..ram_opts()
    };
    let s = load_ok(&path, &o);
    assert_eq!(s.shape().dims(), (T, H / 2, W / 2, 1));
    let got = u16s(&s);
    let (oh, ow) = (H / 2, W / 2);
    for t in 0..T {
        for y in 0..oh {
            for x in 0..ow {
                let at = |yy: usize, xx: usize| want[(t * H + yy) * W + xx] as f64;
                let m = (at(2 * y, 2 * x)
                    + at(2 * y, 2 * x + 1)
                    + at(2 * y + 1, 2 * x)
                    + at(2 * y + 1, 2 * x + 1))
                    / 4.0;
                let g = got[(t * oh + y) * ow + x] as f64;
                assert!((g - m).abs() <= 1.0, "t={t} y={y} x={x}: got {g}, want {m}");
            }
        }
    }
}

#[test]
fn info_json_gives_the_rate_and_the_time_range_of_the_kept_frames() {
    let dir = TempDir::new().unwrap();
    let (path, _) = gray_clip(dir.path(), 16, "gray16le");
    let p = path.to_str().unwrap();
    for full in [false, true] {
        let mut args = vec!["info", p, "--json", "--first", "1", "--step", "2"];
        if full {
            args.push("--full");
        }
        let o = common::ok(&args);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["fps"].as_f64(), Some(25.0), "full={full}: {j}");
        // frames 1 and 3 of 0..5 at 25 frames/s
        let t: Vec<f64> = j["time_range"]
            .as_array()
            .unwrap_or_else(|| panic!("full={full}: no time_range in {j}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(t.len(), 2);
        assert!(
            (t[0] - 0.04).abs() < 1e-9 && (t[1] - 0.12).abs() < 1e-9,
            "{t:?}"
        );
        assert_eq!(j["dtype"], "u16", "{j}");
    }
}

#[test]
fn a_video_stack_carries_each_frames_time() {
    let dir = TempDir::new().unwrap();
    let (path, _) = gray_clip(dir.path(), 10, "gray10le");
    let o = LoadOptions {
        first: Some(2),
        ..ram_opts()
    };
    let s = load_ok(&path, &o);
    assert_eq!(s.source.frame_index, vec![2, 3, 4]);
    assert_eq!(s.source.fps, Some(25.0));
    assert_eq!(s.source.frame_time, vec![0.08, 0.12, 0.16]);
}

#[test]
fn roi_and_kymograph_csvs_carry_each_rows_source_frame_and_time() {
    let dir = TempDir::new().unwrap();
    let (path, _) = gray_clip(dir.path(), 10, "gray10le");
    let p = path.to_str().unwrap();
    let roi = dir.path().join("roi.csv");
    let kymo = dir.path().join("k.csv");
    let step = ["--first", "1", "--step", "2"];
    let mut args = vec!["roi", p, "--rect", "2,2,4,4", "-o", roi.to_str().unwrap()];
    args.extend(step);
    common::ok(&args);
    let mut args = vec!["kymograph", p, "--row", "3", "-o", kymo.to_str().unwrap()];
    args.extend(step);
    common::ok(&args);
    for (csv, first_value) in [(&roi, "value"), (&kymo, "p0")] {
        let text = std::fs::read_to_string(csv).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(
            &header[..4],
            ["frame", "source_frame", "time_s", first_value]
        );
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        // frames 1, 3 of the 5 of a 25 fps clip
        assert_eq!(rows.len(), 2, "{text}");
        for (k, r) in rows.iter().enumerate() {
            let src = 1 + 2 * k;
            assert_eq!(r[0], k as f64, "{text}");
            assert_eq!(r[1], src as f64, "{text}");
            assert!((r[2] - src as f64 / 25.0).abs() < 1e-6, "{text}");
        }
    }
}
