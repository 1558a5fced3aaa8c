//! Video loading through FFmpeg, on clips made here by the `ffmpeg` command from raw frames
//! whose every pixel is known by formula. Lossless codecs (FFV1, x264 RGB at qp 0) are
//! compared exactly; lossy ones by mean absolute error.

mod common;

use std::path::{Path, PathBuf};

use blitz::load::{self, LoadError, LoadOptions, NoProgress, SourceKind, VideoSeek};
use blitz::{Dtype, Stack};
use common::video::{ffmpeg, has_encoder};
use tempfile::TempDir;

// ---------------------------------------------------------------- helpers

/// Source pixel formats of the raw frames handed to ffmpeg.
#[derive(Clone, Copy)]
enum Raw {
    Gray,
    Rgb,
}

impl Raw {
    fn channels(self) -> usize {
        match self {
            Raw::Gray => 1,
            Raw::Rgb => 3,
        }
    }
    fn pix_fmt(self) -> &'static str {
        match self {
            Raw::Gray => "gray",
            Raw::Rgb => "rgb24",
        }
    }
}

/// A clip's source: `t` frames of `h` x `w` x channels, pixel values from `f(t, y, x, c)`.
struct Source {
    t: usize,
    h: usize,
    w: usize,
    raw: Raw,
    frames: Vec<Vec<u8>>,
}

impl Source {
    fn new(
        t: usize,
        h: usize,
        w: usize,
        raw: Raw,
        f: fn(usize, usize, usize, usize) -> u8,
    ) -> Self {
        let c = raw.channels();
        let frames = (0..t)
            .map(|ti| {
                let mut v = Vec::with_capacity(h * w * c);
                for y in 0..h {
                    for x in 0..w {
                        for ch in 0..c {
                            v.push(f(ti, y, x, ch));
                        }
                    }
                }
                v
            })
            .collect();
        Source {
            t,
            h,
            w,
            raw,
            frames,
        }
    }

    /// Writes the frames as a raw file and encodes them into `dir/name` with `out_args`.
    fn encode(&self, dir: &Path, name: &str, out_args: &[&str]) -> PathBuf {
        let raw = dir.join(format!("{name}.raw"));
        std::fs::write(&raw, self.frames.concat()).unwrap();
        let out = dir.join(name);
        let size = format!("{}x{}", self.w, self.h);
        let mut args = vec![
            "-f",
            "rawvideo",
            "-pix_fmt",
            self.raw.pix_fmt(),
            "-s",
            &size,
            "-r",
            "25",
            "-i",
            raw.to_str().unwrap(),
        ];
        args.extend_from_slice(out_args);
        args.push(out.to_str().unwrap());
        ffmpeg(&args);
        out
    }
}

/// Exact-content pattern with wrap-around: frame t, row y, column x, channel c.
fn pattern(t: usize, y: usize, x: usize, c: usize) -> u8 {
    match c {
        0 => ((t * 16 + x * 3 + y * 5) % 256) as u8,
        1 => ((t * 7 + x * 11 + y * 2 + 40) % 256) as u8,
        _ => ((1000 - t * 9 - y * 4 - x) % 256) as u8,
    }
}

/// Smooth colour ramps well inside 16..235, for lossy codecs and area resizing
/// (frames up to 10 x 48 x 64).
fn smooth(t: usize, y: usize, x: usize, c: usize) -> u8 {
    (match c {
        0 => 30 + x + 2 * y + 5 * t,
        1 => 220 - 2 * x - y,
        _ => 60 + 2 * x + 3 * t,
    }) as u8
}

/// Smooth in space, with a large jump from each frame to the next, so that a frame
/// decoded for the wrong index is far from the expected one.
fn jumpy(t: usize, y: usize, x: usize, _c: usize) -> u8 {
    (20 + x + y + (t * 37) % 100) as u8
}

/// Luminance of an RGB source pixel by the documented weights (0.299, 0.587, 0.114).
fn luma(src: &Source, t: usize, y: usize, x: usize) -> f64 {
    let i = (y * src.w + x) * 3;
    let p = &src.frames[t][i..i + 3];
    0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
}

fn gray() -> LoadOptions {
    LoadOptions {
        grayscale: true,
        ..Default::default()
    }
}

fn load_ok(path: &Path, opts: &LoadOptions) -> Stack {
    load::load(path, opts, &NoProgress)
        .unwrap_or_else(|e| panic!("loading {} failed: {e}", path.display()))
}

fn u8s(stack: &Stack) -> &[u8] {
    assert_eq!(stack.dtype(), Dtype::U8, "video stacks are u8");
    stack.as_slice::<u8>().unwrap()
}

/// Mean absolute difference of two equally long sample runs.
fn mae(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&p, &q)| (p as f64 - q as f64).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// Asserts that frame `k` of `stack` equals source frame `t` sample for sample.
fn assert_frame_exact(stack: &Stack, k: usize, src: &Source, t: usize) {
    let n = stack.shape().frame_len();
    let got = &u8s(stack)[k * n..(k + 1) * n];
    let want = &src.frames[t];
    if got != &want[..] {
        let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap();
        let c = src.raw.channels();
        let (y, x, ch) = (i / c / src.w, i / c % src.w, i % c);
        panic!(
            "stack frame {k} (source frame {t}) differs at y={y} x={x} c={ch}: got {}, want {}",
            got[i], want[i]
        );
    }
}

fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut z = seed;
    (0..len)
        .map(|_| {
            z = z
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (z >> 33) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- lossless content

#[test]
fn ffv1_gray_is_decoded_exactly() {
    let dir = TempDir::new().unwrap();
    // odd width and height: rows of the decoded frame are padded, the stack's are not
    let src = Source::new(12, 23, 37, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);

    let plan = load::plan(&path, &gray()).unwrap();
    assert_eq!(plan.kind, SourceKind::Video);
    assert_eq!((plan.source_height, plan.source_width), (23, 37));
    assert_eq!(plan.source_frames, 12);
    assert_eq!(plan.shape.dims(), (12, 23, 37, 1));
    assert_eq!(plan.dtype, Dtype::U8);

    let s = load_ok(&path, &gray());
    assert_eq!(s.shape().dims(), (12, 23, 37, 1));
    assert_eq!(s.source.frame_index, (0..12).collect::<Vec<_>>());
    assert_eq!(s.source.kind, "video");
    for t in 0..12 {
        assert_frame_exact(&s, t, &src, t);
    }
}

#[test]
fn gray_video_stays_one_channel() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(4, 10, 14, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let s = load_ok(&path, &LoadOptions::default());
    assert_eq!(s.shape().dims(), (4, 10, 14, 1));
    for t in 0..4 {
        assert_frame_exact(&s, t, &src, t);
    }
}

#[test]
fn ffv1_rgb_is_decoded_exactly() {
    // FFV1 stores RGB losslessly (as bgr0 / planar RGB); the decoded frame reaches RGB24 by
    // reordering bytes only, with no colourspace matrix, so the values are exact.
    let dir = TempDir::new().unwrap();
    let src = Source::new(6, 21, 35, Raw::Rgb, pattern);
    for pix in ["bgr0", "gbrp"] {
        let path = src.encode(
            dir.path(),
            &format!("c_{pix}.mkv"),
            &["-c:v", "ffv1", "-pix_fmt", pix],
        );
        let s = load_ok(&path, &LoadOptions::default());
        assert_eq!(s.shape().dims(), (6, 21, 35, 3), "{pix}");
        assert_eq!(s.source.frame_index, (0..6).collect::<Vec<_>>());
        for t in 0..6 {
            assert_frame_exact(&s, t, &src, t);
        }
    }
}

#[test]
fn x264rgb_lossless_is_decoded_exactly() {
    if !has_encoder("libx264rgb") {
        eprintln!("skipped: ffmpeg has no libx264rgb encoder");
        return;
    }
    // libx264rgb at qp 0 is lossless on planar GBR: again no colourspace conversion
    let dir = TempDir::new().unwrap();
    let src = Source::new(8, 24, 32, Raw::Rgb, pattern);
    let path = src.encode(
        dir.path(),
        "x.mkv",
        &["-c:v", "libx264rgb", "-qp", "0", "-g", "4"],
    );
    let s = load_ok(&path, &LoadOptions::default());
    assert_eq!(s.shape().dims(), (8, 24, 32, 3));
    assert_eq!(s.source.frame_index, (0..8).collect::<Vec<_>>());
    for t in 0..8 {
        assert_frame_exact(&s, t, &src, t);
    }
}

#[test]
fn grayscale_of_rgb_video_is_the_documented_luminance() {
    // LoadOptions::grayscale: 0.299 R + 0.587 G + 0.114 B; ±1 for rounding in the
    // fixed-point conversion.
    let dir = TempDir::new().unwrap();
    let src = Source::new(3, 16, 24, Raw::Rgb, pattern);
    let path = src.encode(dir.path(), "c.mkv", &["-c:v", "ffv1", "-pix_fmt", "bgr0"]);
    let s = load_ok(&path, &gray());
    assert_eq!(s.shape().dims(), (3, 16, 24, 1));
    let d = u8s(&s);
    let mut worst = (0.0f64, 0, 0, 0, 0u8, 0.0f64);
    for t in 0..3 {
        for y in 0..16 {
            for x in 0..24 {
                let want = luma(&src, t, y, x);
                let got = d[(t * 16 + y) * 24 + x];
                let err = (got as f64 - want).abs();
                if err > worst.0 {
                    worst = (err, t, y, x, got, want);
                }
            }
        }
    }
    let (err, t, y, x, got, want) = worst;
    assert!(
        err <= 1.0,
        "gray of RGB at t={t} y={y} x={x}: got {got}, luminance {want:.2} (off by {err:.2})"
    );
}

// ---------------------------------------------------------------- containers and lossy codecs

/// Encodes the smooth colour clip with `args` into `name`, loads it in colour and in
/// gray, and checks shape, dtype, frame numbering and closeness to the source.
fn check_lossy(name: &str, args: &[&str]) {
    let dir = TempDir::new().unwrap();
    let (t, h, w) = (10, 48, 64);
    let src = Source::new(t, h, w, Raw::Rgb, smooth);
    let path = src.encode(dir.path(), name, args);

    let plan = load::plan(&path, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: plan failed: {e}"));
    assert_eq!(plan.kind, SourceKind::Video, "{name}");
    assert_eq!((plan.source_height, plan.source_width), (h, w), "{name}");
    // the count is the container's estimate (documented as such): only its presence is
    // checked here; the full load below must still return every frame
    assert!(plan.source_frames > 0, "{name}: no frame count");

    let s = load_ok(&path, &LoadOptions::default());
    assert_eq!(s.dtype(), Dtype::U8, "{name}");
    assert_eq!(s.shape().dims(), (t, h, w, 3), "{name}");
    assert_eq!(
        s.source.frame_index,
        (0..t).collect::<Vec<_>>(),
        "{name}: frame numbers"
    );
    let n = h * w * 3;
    for k in 0..t {
        let e = mae(&u8s(&s)[k * n..(k + 1) * n], &src.frames[k]);
        assert!(e < 6.0, "{name}: frame {k} mean abs error {e:.2} (colour)");
    }

    let g = load_ok(&path, &gray());
    assert_eq!(g.shape().dims(), (t, h, w, 1), "{name}");
    let want: Vec<u8> = (0..t)
        .flat_map(|k| {
            let src = &src;
            (0..h).flat_map(move |y| (0..w).map(move |x| luma(src, k, y, x).round() as u8))
        })
        .collect();
    let n = h * w;
    for k in 0..t {
        let e = mae(&u8s(&g)[k * n..(k + 1) * n], &want[k * n..(k + 1) * n]);
        assert!(e < 6.0, "{name}: frame {k} mean abs error {e:.2} (gray)");
    }
}

#[test]
fn mp4_h264() {
    if !has_encoder("libx264") {
        eprintln!("skipped mp4/libx264: no libx264 encoder");
        return;
    }
    check_lossy(
        "a.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12"],
    );
}

#[test]
fn mp4_mpeg4() {
    check_lossy("b.mp4", &["-c:v", "mpeg4", "-q:v", "2"]);
}

#[test]
fn avi_mjpeg() {
    check_lossy("a.avi", &["-c:v", "mjpeg", "-q:v", "2"]);
}

#[test]
fn avi_mpeg4() {
    check_lossy("b.avi", &["-c:v", "mpeg4", "-q:v", "2"]);
}

#[test]
fn mov_h264_or_mpeg4() {
    if has_encoder("libx264") {
        check_lossy(
            "a.mov",
            &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12"],
        );
    } else {
        check_lossy("a.mov", &["-c:v", "mpeg4", "-q:v", "2"]);
    }
}

#[test]
fn mkv_ffv1_yuv() {
    // yuv420p FFV1: lossless in YUV, lossy only through the RGB -> YUV -> RGB round trip
    check_lossy("a.mkv", &["-c:v", "ffv1", "-pix_fmt", "yuv420p"]);
}

#[test]
fn webm_vp8() {
    if !has_encoder("libvpx") {
        eprintln!("skipped webm: ffmpeg has no libvpx encoder");
        return;
    }
    check_lossy(
        "a.webm",
        &[
            "-c:v", "libvpx", "-b:v", "2M", "-crf", "4", "-pix_fmt", "yuv420p",
        ],
    );
}

#[test]
fn mpeg_ps_mpeg2() {
    // MPEG program stream: 90 kHz clock and a start time above zero
    check_lossy(
        "a.mpeg",
        &["-c:v", "mpeg2video", "-q:v", "2", "-pix_fmt", "yuv420p"],
    );
}

#[test]
fn underestimated_frame_count_still_loads_every_frame() {
    // A tiny MPEG program stream: FFmpeg estimates its duration from the last timestamp
    // it sees near the end and gets 0.04 s (1 frame) for 10 frames (ffprobe agrees). The
    // plan notes that the count is the container's estimate; a load without --last must
    // still decode to the end of the stream and keep all 10 frames.
    let dir = TempDir::new().unwrap();
    let src = Source::new(10, 48, 64, Raw::Rgb, smooth);
    let path = src.encode(
        dir.path(),
        "short.mpeg",
        &["-c:v", "mpeg2video", "-q:v", "2", "-pix_fmt", "yuv420p"],
    );
    let plan = load::plan(&path, &LoadOptions::default()).unwrap();
    eprintln!(
        "estimate {} frames (exact: {})",
        plan.source_frames, plan.frames_exact
    );
    let s = load_ok(&path, &LoadOptions::default());
    assert_eq!(
        s.source.frame_index,
        (0..10).collect::<Vec<_>>(),
        "a full load must count the frames exactly (plan estimated {})",
        plan.source_frames
    );
    let n = 48 * 64 * 3;
    for k in 0..10 {
        let e = mae(&u8s(&s)[k * n..(k + 1) * n], &src.frames[k]);
        assert!(e < 6.0, "frame {k} error {e:.2}");
    }
}

// ---------------------------------------------------------------- range, step and seeking

fn seek_modes() -> [VideoSeek; 3] {
    [VideoSeek::Never, VideoSeek::Always, VideoSeek::Auto]
}

#[test]
fn range_and_step_pick_the_right_frames_with_every_seek_mode() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(30, 12, 20, Raw::Gray, pattern);
    // keyframe every 5 frames, so that seeking really skips decoding
    let path = src.encode(
        dir.path(),
        "g.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray", "-g", "5"],
    );
    // (first, last, step) -> expected source frames (inclusive last, clamped to the clip)
    type Case = (Option<usize>, Option<usize>, Option<usize>, Vec<usize>);
    let cases: &[Case] = &[
        (Some(3), Some(27), Some(7), vec![3, 10, 17, 24]),
        (None, None, Some(6), vec![0, 6, 12, 18, 24]),
        (Some(4), Some(9), None, vec![4, 5, 6, 7, 8, 9]),
        (Some(11), None, Some(9), vec![11, 20, 29]),
        (Some(2), Some(100), Some(13), vec![2, 15, 28]),
        (Some(29), None, None, vec![29]),
        (Some(5), Some(5), Some(3), vec![5]),
    ];
    for (first, last, step, want) in cases {
        for mode in seek_modes() {
            let opts = LoadOptions {
                grayscale: true,
                first: *first,
                last: *last,
                step: *step,
                video_seek: mode,
                ..Default::default()
            };
            let what = format!("first {first:?} last {last:?} step {step:?} seek {mode:?}");
            let plan = load::plan(&path, &opts).unwrap();
            assert_eq!(plan.shape.frames, want.len(), "{what}: planned frames");
            let s = load::load(&path, &opts, &NoProgress).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(&s.source.frame_index, want, "{what}");
            assert_eq!(s.shape().dims(), (want.len(), 12, 20, 1), "{what}");
            for (k, &t) in want.iter().enumerate() {
                assert_frame_exact(&s, k, &src, t);
            }
        }
    }
}

#[test]
fn subset_ratio_keeps_every_kth_frame() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(10, 8, 8, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let opts = LoadOptions {
        grayscale: true,
        subset_ratio: 1.0 / 3.0,
        ..Default::default()
    };
    let s = load_ok(&path, &opts);
    assert_eq!(s.source.frame_index, vec![0, 3, 6, 9]);
    for (k, t) in [0, 3, 6, 9].into_iter().enumerate() {
        assert_frame_exact(&s, k, &src, t);
    }
}

/// Encodes the `jumpy` clip (30 frames) with `args` and loads frames 2, 9, 16, 23 with
/// every seek mode: each stack frame must be closest to the source frame of its index.
fn check_lossy_seek(name: &str, args: &[&str]) {
    let dir = TempDir::new().unwrap();
    let src = Source::new(30, 48, 64, Raw::Gray, jumpy);
    let path = src.encode(dir.path(), name, args);
    let want = vec![2, 9, 16, 23];
    let mut wrong = Vec::new();
    for mode in seek_modes() {
        let opts = LoadOptions {
            grayscale: true,
            first: Some(2),
            last: Some(25),
            step: Some(7),
            video_seek: mode,
            ..Default::default()
        };
        let s = load::load(&path, &opts, &NoProgress)
            .unwrap_or_else(|e| panic!("{name} {mode:?}: {e}"));
        let n = 48 * 64;
        let mut looks_like = Vec::new();
        for k in 0..s.shape().frames {
            let got = &u8s(&s)[k * n..(k + 1) * n];
            let errs: Vec<f64> = src.frames.iter().map(|f| mae(got, f)).collect();
            let best = (0..30)
                .min_by(|&a, &b| errs[a].total_cmp(&errs[b]))
                .unwrap();
            looks_like.push(best);
            assert!(
                errs[best] < 6.0,
                "{name} {mode:?}: frame {k} is far from every source frame (error {:.2})",
                errs[best]
            );
        }
        if s.source.frame_index != want {
            wrong.push(format!(
                "{mode:?}: frame numbers {:?}, expected {want:?}",
                s.source.frame_index
            ));
        }
        if looks_like != s.source.frame_index {
            wrong.push(format!(
                "{mode:?}: frames labelled {:?} hold the pixels of source frames {looks_like:?}",
                s.source.frame_index
            ));
        }
    }
    assert!(wrong.is_empty(), "{name}:\n{}", wrong.join("\n"));
}

#[test]
fn h264_with_b_frames_seeks_to_the_right_frames() {
    if !has_encoder("libx264") {
        eprintln!("skipped: no libx264 encoder");
        return;
    }
    // B-frames reorder packets and an mp4 edit list shifts the timestamps
    check_lossy_seek(
        "j.mp4",
        &[
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "10", "-g", "5", "-bf", "2",
        ],
    );
}

#[test]
fn mpeg2_program_stream_seeks_to_the_right_frames() {
    // timestamps on a 90 kHz clock starting at 0.54 s, GOP of 5 frames with B-frames.
    // (At 64 x 48 FFmpeg estimates 27 of the 30 frames: enough for frames up to 25; see
    // underestimated_frame_count_still_loads_every_frame for what happens beyond.)
    check_lossy_seek(
        "j.mpeg",
        &[
            "-c:v",
            "mpeg2video",
            "-q:v",
            "2",
            "-g",
            "5",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
        ],
    );
}

#[test]
fn vp8_webm_seeks_to_the_right_frames() {
    if !has_encoder("libvpx") {
        eprintln!("skipped webm: ffmpeg has no libvpx encoder");
        return;
    }
    check_lossy_seek(
        "j.webm",
        &[
            "-c:v", "libvpx", "-b:v", "2M", "-crf", "4", "-g", "5", "-pix_fmt", "yuv420p",
        ],
    );
}

#[test]
fn mpeg_transport_stream_seeks_to_the_right_frames() {
    // MPEG-TS has no index: FFmpeg seeks by bisecting the file on timestamps
    check_lossy_seek(
        "j.ts",
        &[
            "-c:v",
            "mpeg2video",
            "-q:v",
            "2",
            "-g",
            "5",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
        ],
    );
}

#[test]
fn avi_with_b_frames_seeks_to_the_right_frames() {
    // AVI stores no presentation timestamps: with B-frames FFmpeg has to guess them
    check_lossy_seek(
        "j.avi",
        &["-c:v", "mpeg4", "-q:v", "2", "-g", "5", "-bf", "2"],
    );
}

// ---------------------------------------------------------------- resizing

#[test]
fn size_ratio_half_averages_2x2_blocks() {
    let dir = TempDir::new().unwrap();
    // gray: a linear ramp, so every 2x2 block mean is exact up to the rounding of .5
    let src = Source::new(3, 48, 64, Raw::Gray, smooth);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let opts = LoadOptions {
        grayscale: true,
        size_ratio: 0.5,
        ..Default::default()
    };
    let plan = load::plan(&path, &opts).unwrap();
    assert_eq!(plan.shape.dims(), (3, 24, 32, 1));
    let s = load_ok(&path, &opts);
    assert_eq!(s.shape().dims(), (3, 24, 32, 1));
    let d = u8s(&s);
    for t in 0..3 {
        for y in 0..24 {
            for x in 0..32 {
                let m = [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .iter()
                    .map(|&(dy, dx)| src.frames[t][(2 * y + dy) * 64 + 2 * x + dx] as f64)
                    .sum::<f64>()
                    / 4.0;
                let got = d[(t * 24 + y) * 32 + x] as f64;
                assert!(
                    (got - m).abs() <= 1.5,
                    "t={t} y={y} x={x}: got {got}, 2x2 mean {m}"
                );
            }
        }
    }
}

#[test]
fn size_ratio_half_on_rgb_averages_each_channel() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(2, 48, 64, Raw::Rgb, smooth);
    let path = src.encode(dir.path(), "c.mkv", &["-c:v", "ffv1", "-pix_fmt", "bgr0"]);
    let opts = LoadOptions {
        size_ratio: 0.5,
        ..Default::default()
    };
    let s = load_ok(&path, &opts);
    assert_eq!(s.shape().dims(), (2, 24, 32, 3));
    let d = u8s(&s);
    for t in 0..2 {
        for y in 0..24 {
            for x in 0..32 {
                for c in 0..3 {
                    let m = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|&(dy, dx)| {
                            src.frames[t][((2 * y + dy) * 64 + 2 * x + dx) * 3 + c] as f64
                        })
                        .sum::<f64>()
                        / 4.0;
                    let got = d[((t * 24 + y) * 32 + x) * 3 + c] as f64;
                    assert!(
                        (got - m).abs() <= 2.0,
                        "t={t} y={y} x={x} c={c}: got {got}, 2x2 mean {m}"
                    );
                }
            }
        }
    }
}

#[test]
fn size_ratio_floors_odd_sizes() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(2, 27, 35, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    for (ratio, h, w) in [(0.5, 13, 17), (0.25, 6, 8), (0.1, 2, 3)] {
        let opts = LoadOptions {
            grayscale: true,
            size_ratio: ratio,
            ..Default::default()
        };
        let s = load_ok(&path, &opts);
        assert_eq!(s.shape().dims(), (2, h, w, 1), "ratio {ratio}");
    }
    // a ratio that leaves no pixel is refused, naming the option
    let opts = LoadOptions {
        size_ratio: 0.02,
        ..Default::default()
    };
    let e = load::load(&path, &opts, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("--size-ratio"), "{e}");
}

// ---------------------------------------------------------------- memory guard

#[test]
fn memory_guard_steps_a_video_down_to_the_budget() {
    let dir = TempDir::new().unwrap();
    let (t, h, w) = (30, 24, 32);
    let src = Source::new(t, h, w, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let frame_bytes = (h * w) as u64; // gray u8
    // room for 10.5 frames: at most 10 fit, so every 3rd frame of 30
    let budget = frame_bytes * 21 / 2;
    let opts = LoadOptions {
        grayscale: true,
        max_ram_gib: Some(budget as f64 / (1u64 << 30) as f64),
        // RAM storage: the guard subsamples (auto would decode to the disk cache)
        storage: blitz::load::StorageChoice::Ram,
        ..Default::default()
    };
    let plan = load::plan(&path, &opts).unwrap();
    assert!(plan.guard.step > 1, "guard step {}", plan.guard.step);
    assert_eq!(plan.guard.step, 3);
    assert_eq!(plan.guard.frames_requested, t);
    assert!(plan.guard.budget_bytes.abs_diff(budget) <= 1);
    let s = load::load_plan(&plan, &opts, &NoProgress).unwrap();
    let kept = s.shape().frames as u64;
    assert!(
        kept > 0 && kept * frame_bytes <= budget,
        "{kept} frames over budget"
    );
    assert!(s.bytes() <= budget);
    let want: Vec<usize> = (0..t).step_by(3).collect();
    assert_eq!(s.source.frame_index, want);
    for (k, &t) in want.iter().enumerate() {
        assert_frame_exact(&s, k, &src, t);
    }
    assert!(
        s.source.notes.iter().any(|n| n.contains("memory guard")),
        "notes: {:?}",
        s.source.notes
    );
}

#[test]
fn memory_guard_refuses_a_budget_below_one_frame() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(3, 24, 32, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let opts = LoadOptions {
        max_ram_gib: Some(100.0 / (1u64 << 30) as f64),
        // RAM storage: the guard subsamples (auto would decode to the disk cache)
        storage: blitz::load::StorageChoice::Ram,
        ..Default::default()
    };
    match load::plan(&path, &opts) {
        Err(LoadError::TooLarge {
            frame_bytes,
            budget,
            ..
        }) => {
            // a gray source stays one channel
            assert_eq!(frame_bytes, 24 * 32);
            assert!(budget <= 100);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn audio_only_file_has_no_video_stream() {
    let dir = TempDir::new().unwrap();
    for name in ["a.wav", "a.mka"] {
        let path = dir.path().join(name);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            path.to_str().unwrap(),
        ]);
        let e = load::load(&path, &LoadOptions::default(), &NoProgress).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("no video stream"), "{name}: {msg}");
        assert!(msg.contains(name), "{name}: {msg}");
    }
}

/// A load of a damaged file either fails naming the file, or keeps at least one frame,
/// the first of which matches the source: exactly for FFV1 (frame 0 lies in the intact
/// part and is a keyframe), within the lossy tolerance otherwise.
fn check_damaged(path: &Path, src: &Source, exact: bool) {
    let name = path.file_name().unwrap().to_str().unwrap();
    match load::load(path, &gray(), &NoProgress) {
        Ok(s) => {
            let n = s.shape().frames;
            assert!(n > 0 && n <= src.t, "{name}: {n} frames");
            assert_eq!(s.source.frame_index.len(), n);
            assert_eq!(s.source.frame_index[0], 0, "{name}");
            if exact {
                assert_frame_exact(&s, 0, src, 0);
            } else {
                let fl = s.shape().frame_len();
                let e = mae(&u8s(&s)[..fl], &src.frames[0]);
                assert!(e < 6.0, "{name}: frame 0 error {e:.2}");
            }
            eprintln!(
                "{name}: kept {n} of {} frames; notes {:?}",
                src.t, s.source.notes
            );
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            assert!(e.to_string().contains(name), "{name}: {e}")
        }
    }
    // the plan alone must not panic either
    if let Err(e) = load::plan(path, &gray()) {
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
}

const FFV1: &[&str] = &["-c:v", "ffv1", "-pix_fmt", "gray"];
const MPEG4: &[&str] = &["-c:v", "mpeg4", "-q:v", "2"];
const MPEG4_FASTSTART: &[&str] = &["-c:v", "mpeg4", "-q:v", "2", "-movflags", "+faststart"];

/// Damaged clips: FFV1 in Matroska and AVI, MPEG-4 in MP4 with the index at the end
/// (lost with the tail) and at the start (`faststart`: the index survives, the data not).
fn damaged_cases() -> [(&'static str, &'static [&'static str], bool); 4] {
    [
        ("mkv", FFV1, true),
        ("avi", FFV1, true),
        ("mp4", MPEG4, false),
        ("fast.mp4", MPEG4_FASTSTART, false),
    ]
}

#[test]
fn corrupt_second_half_does_not_panic() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(20, 64, 96, Raw::Gray, pattern);
    for (ext, args, exact) in damaged_cases() {
        let name = format!("damaged.{ext}");
        let path = src.encode(dir.path(), &name, args);
        let mut bytes = std::fs::read(&path).unwrap();
        let half = bytes.len() / 2;
        let junk = garbage(bytes.len() - half, 7);
        bytes[half..].copy_from_slice(&junk);
        std::fs::write(&path, &bytes).unwrap();
        check_damaged(&path, &src, exact);
    }
}

#[test]
fn truncated_video_does_not_panic() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(20, 64, 96, Raw::Gray, pattern);
    for (ext, args, exact) in damaged_cases() {
        let name = format!("cut.{ext}");
        let path = src.encode(dir.path(), &name, args);
        let bytes = std::fs::read(&path).unwrap();
        let keep = bytes.len() * 3 / 5;
        std::fs::write(&path, &bytes[..keep]).unwrap();
        check_damaged(&path, &src, exact);
    }
}

#[test]
fn a_video_shorter_than_planned_says_so_in_the_notes() {
    // A truncated file keeps its header, so the plan promises every frame; the load can
    // only return those before the cut. SourceInfo::notes is documented to carry
    // "truncated decode" remarks: a stack shorter than its plan must come with one.
    let dir = TempDir::new().unwrap();
    let src = Source::new(20, 64, 96, Raw::Gray, pattern);
    for ext in ["mkv", "avi"] {
        let name = format!("short.{ext}");
        let path = src.encode(dir.path(), &name, FFV1);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() * 3 / 5]).unwrap();
        let plan = load::plan(&path, &gray()).unwrap();
        let s = load::load_plan(&plan, &gray(), &NoProgress).unwrap();
        let n = s.shape().frames;
        assert!(
            n > 0 && n < plan.shape.frames,
            "{name}: precondition: {n} frames of {} planned",
            plan.shape.frames
        );
        for (k, &t) in s.source.frame_index.iter().enumerate().take(n - 1) {
            // every frame but the last one before the cut is intact (decoded in order)
            assert_frame_exact(&s, k, &src, t);
        }
        let added: Vec<&String> = s
            .source
            .notes
            .iter()
            .filter(|n| !plan.notes.contains(n))
            .collect();
        assert!(
            !added.is_empty(),
            "{name}: {n} of {} planned frames loaded, but no note says the decode ended early \
             (notes: {:?})",
            plan.shape.frames,
            s.source.notes
        );
    }
}

#[test]
fn random_bytes_with_a_video_extension_are_refused_naming_the_file() {
    let dir = TempDir::new().unwrap();
    for (name, seed) in [("noise.mp4", 1u64), ("noise.mkv", 2), ("noise.avi", 3)] {
        let path = dir.path().join(name);
        std::fs::write(&path, garbage(8192, seed)).unwrap();
        let e = load::load(&path, &LoadOptions::default(), &NoProgress).unwrap_err();
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
}

#[test]
fn empty_video_file_is_refused_naming_the_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("empty.mp4");
    std::fs::write(&path, b"").unwrap();
    let e = load::load(&path, &LoadOptions::default(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("empty.mp4"), "{e}");
}

#[test]
fn missing_video_is_not_found() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nothing-here.mp4");
    match load::load(&path, &LoadOptions::default(), &NoProgress) {
        Err(LoadError::NotFound(p)) => assert_eq!(p, path),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(matches!(
        load::plan(&path, &LoadOptions::default()),
        Err(LoadError::NotFound(_))
    ));
}

#[test]
fn first_frame_beyond_the_clip_is_an_option_error() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(5, 8, 8, Raw::Gray, pattern);
    let path = src.encode(dir.path(), "g.mkv", &["-c:v", "ffv1", "-pix_fmt", "gray"]);
    let opts = LoadOptions {
        first: Some(50),
        ..Default::default()
    };
    let e = load::load(&path, &opts, &NoProgress).unwrap_err();
    assert!(
        matches!(
            e,
            LoadError::Option {
                option: "--first",
                ..
            }
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------- folders holding a video

#[test]
fn folder_with_one_video_loads_the_video() {
    let dir = TempDir::new().unwrap();
    let src = Source::new(4, 8, 12, Raw::Gray, pattern);
    let path = src.encode(
        dir.path(),
        "only.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray"],
    );
    // the raw file written beside it has an unknown extension and must be ignored
    assert!(dir.path().join("only.mkv.raw").exists());
    let s = load_ok(dir.path(), &gray());
    assert_eq!(s.shape().dims(), (4, 8, 12, 1));
    for t in 0..4 {
        assert_frame_exact(&s, t, &src, t);
    }
    assert!(path.exists());
}
