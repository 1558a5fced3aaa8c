//! The `blitz` binary: `info` (plain and `--json`) and `convert`, on every source kind,
//! with load options, bit-exact round trips and error reporting. Expected values come
//! from the formulas that generate the inputs, and `.npy` files are parsed here.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use blitz::export::write_npy;
use blitz::{Shape, Stack};
use common::{fails, ok, stderr};
use serde_json::Value;
use tempfile::TempDir;

/// `blitz info <path> --json [extra]` parsed.
fn info_json(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["info", path, "--json"];
    args.extend_from_slice(extra);
    let o = ok(&args);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "blitz {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Checks the shape, dtype and byte keys of an `info --json` object.
fn assert_shape(j: &Value, frames: u64, h: u64, w: u64, c: u64, dtype: &str) {
    let ctx = || serde_json::to_string_pretty(j).unwrap();
    assert_eq!(j["frames"], frames, "{}", ctx());
    assert_eq!(j["height"], h, "{}", ctx());
    assert_eq!(j["width"], w, "{}", ctx());
    assert_eq!(j["channels"], c, "{}", ctx());
    assert_eq!(j["dtype"], dtype, "{}", ctx());
    let size = match dtype {
        "u8" => 1,
        "u16" => 2,
        "f32" => 4,
        d => panic!("dtype {d}"),
    };
    assert_eq!(j["bytes"], frames * h * w * c * size, "{}", ctx());
}

// ---------------------------------------------------------------- .npy, written and read here

/// The header numpy writes (format 1.0): the dict, padded with spaces and a newline so
/// that the data starts at a multiple of 64.
fn numpy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims = if shape.len() == 1 {
        format!("({},)", shape[0])
    } else {
        format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    while 10 + dict.len() + 1 < total {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.bytes());
    out
}

/// A parsed `.npy`: dtype descr, shape and the raw data bytes.
struct Npy {
    descr: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Npy {
    fn read(path: &Path) -> Npy {
        let b = std::fs::read(path).unwrap();
        assert_eq!(&b[..6], b"\x93NUMPY", "{}: magic", path.display());
        let (hlen, start) = match b[6] {
            1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
            _ => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        };
        let header = std::str::from_utf8(&b[start..start + hlen]).unwrap();
        assert!(header.contains("'fortran_order': False"), "{header}");
        let descr = header
            .split("'descr': '")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        let dims = header
            .split("'shape': (")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        let shape = dims
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.parse().unwrap())
            .collect();
        Npy {
            descr,
            shape,
            data: b[start + hlen..].to_vec(),
        }
    }

    fn u8s(&self) -> &[u8] {
        assert_eq!(self.descr, "|u1");
        &self.data
    }

    fn u16s(&self) -> Vec<u16> {
        assert_eq!(self.descr, "<u2");
        self.data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    }
}

/// Writes samples with the library's writer and checks that the file is exactly what
/// numpy would write for them.
fn write_npy_checked<T: blitz::stack::StackSample>(
    path: &Path,
    shape: Shape,
    dims: &[usize],
    descr: &str,
    samples: Vec<T>,
) -> Vec<u8> {
    let mut want = numpy_header(descr, dims);
    want.extend_from_slice(bytemuck::cast_slice(&samples));
    let stack = Stack::from_vec(shape, samples).unwrap();
    write_npy(path, &stack).unwrap();
    let got = std::fs::read(path).unwrap();
    assert!(
        got == want,
        "{}: write_npy output differs from numpy's layout\n got header {:?}\nwant header {:?}",
        path.display(),
        String::from_utf8_lossy(&got[..want.len().min(got.len()).min(128)]),
        String::from_utf8_lossy(&want[..want.len().min(128)])
    );
    got
}

fn u16_value(t: usize, y: usize, x: usize) -> u16 {
    (t * 9000 + y * 611 + x * 97 + 5) as u16
}

/// A (t, h, w) u16 `.npy` of `u16_value`.
fn u16_npy(path: &Path, t: usize, h: usize, w: usize) -> Vec<u16> {
    let v: Vec<u16> = (0..t * h * w)
        .map(|i| u16_value(i / (h * w), i / w % h, i % w))
        .collect();
    write_npy_checked(path, Shape::new(t, h, w, 1), &[t, h, w], "<u2", v.clone());
    v
}

// ---------------------------------------------------------------- other inputs

fn rgb_value(t: usize, y: usize, x: usize, c: usize) -> u8 {
    ((t * 40 + y * 7 + x * 13 + c * 85) % 256) as u8
}

/// A folder of RGB PNGs named with numbers that sort differently as text and as numbers;
/// returns the frame numbers in natural order.
fn png_folder(dir: &Path, h: u32, w: u32) -> Vec<usize> {
    let numbers = [1usize, 2, 3, 9, 10, 11];
    for (t, n) in numbers.iter().enumerate() {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb(std::array::from_fn(|c| {
                rgb_value(t, y as usize, x as usize, c)
            }))
        });
        img.save(dir.join(format!("img_{n}.png"))).unwrap();
    }
    (0..numbers.len()).collect()
}

fn tiff_value(t: usize, y: usize, x: usize) -> u16 {
    (t * 20000 + y * 300 + x * 7 + 1) as u16
}

/// A 3-page u16 gray TIFF of `tiff_value`.
fn tiff_stack(path: &Path, h: usize, w: usize) {
    use tiff::encoder::{TiffEncoder, colortype::Gray16};
    let mut enc = TiffEncoder::new(BufWriter::new(File::create(path).unwrap())).unwrap();
    for t in 0..3 {
        let page: Vec<u16> = (0..h * w).map(|i| tiff_value(t, i / w, i % w)).collect();
        enc.write_image::<Gray16>(w as u32, h as u32, &page)
            .unwrap();
    }
}

fn gray_value(t: usize, y: usize, x: usize) -> u8 {
    ((t * 16 + x * 3 + y * 5) % 256) as u8
}

/// An FFV1 gray video (lossless) of `gray_value`.
fn ffv1_video(dir: &Path, t: usize, h: usize, w: usize) -> PathBuf {
    let raw = dir.join("frames.raw");
    let v: Vec<u8> = (0..t * h * w)
        .map(|i| gray_value(i / (h * w), i / w % h, i % w))
        .collect();
    std::fs::write(&raw, v).unwrap();
    let out = dir.join("clip.mkv");
    let size = format!("{w}x{h}");
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args([
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", &size, "-r", "25",
        ])
        .args(["-i", s(&raw), "-c:v", "ffv1", "-pix_fmt", "gray", s(&out)])
        .output()
        .expect("the ffmpeg command must be installed");
    assert!(o.status.success(), "ffmpeg: {}", stderr(&o));
    std::fs::remove_file(raw).unwrap();
    out
}

// ---------------------------------------------------------------- info

#[test]
fn info_demo_json() {
    let j = info_json("demo:8,32,48", &[]);
    assert_shape(&j, 8, 32, 48, 1, "u8");
    assert_eq!(j["kind"], "demo");
    assert_eq!(j["source"]["frames"], 8);
    assert_eq!(j["selection"]["first"], 0);
    assert_eq!(j["selection"]["last"], 7);
    assert_eq!(j["selection"]["step"], 1);
    assert_eq!(j["mapped"], false);
}

#[test]
fn info_full_json_adds_time_and_value_range() {
    let j = info_json("demo:4,16,16", &["--full"]);
    assert_shape(&j, 4, 16, 16, 1, "u8");
    let secs = j["seconds"].as_f64().expect("seconds is a number");
    assert!(secs >= 0.0);
    let (mn, mx) = (j["min"].as_f64().unwrap(), j["max"].as_f64().unwrap());
    assert!((0.0..=255.0).contains(&mn) && mn <= mx && mx <= 255.0);

    // on known data the range is exact
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("r.npy");
    let v = u16_npy(&p, 3, 5, 6);
    let j = info_json(s(&p), &["--full"]);
    assert!(j["seconds"].is_number());
    assert_eq!(j["min"].as_f64(), Some(*v.iter().min().unwrap() as f64));
    assert_eq!(j["max"].as_f64(), Some(*v.iter().max().unwrap() as f64));
}

#[test]
fn info_plain_text_names_the_essentials() {
    let o = ok(&["info", "demo:5,20,30"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("demo"), "{out}");
    assert!(out.contains("20 x 30"), "{out}");
    assert!(out.contains(&(5 * 20 * 30).to_string()), "{out}");
}

// ---------------------------------------------------------------- every source kind

#[test]
fn png_folder_info_and_convert() {
    let dir = TempDir::new().unwrap();
    let frames = dir.path().join("pngs");
    std::fs::create_dir(&frames).unwrap();
    let (h, w) = (10, 12);
    let order = png_folder(&frames, h as u32, w as u32);
    let n = order.len();

    let j = info_json(s(&frames), &[]);
    assert_shape(&j, n as u64, h as u64, w as u64, 3, "u8");
    assert_eq!(j["kind"], "image_folder");

    let out = dir.path().join("out.npy");
    ok(&["convert", s(&frames), "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![n, h, w, 3]);
    let d = npy.u8s();
    for (k, &t) in order.iter().enumerate() {
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let got = d[((k * h + y) * w + x) * 3 + c];
                    assert_eq!(got, rgb_value(t, y, x, c), "frame {k} y={y} x={x} c={c}");
                }
            }
        }
    }
}

#[test]
fn gray_option_on_rgb_pngs_gives_one_channel_of_luminance() {
    let dir = TempDir::new().unwrap();
    let frames = dir.path().join("pngs");
    std::fs::create_dir(&frames).unwrap();
    let (h, w) = (6, 8);
    let order = png_folder(&frames, h as u32, w as u32);
    let j = info_json(s(&frames), &["--gray"]);
    assert_shape(&j, order.len() as u64, h as u64, w as u64, 1, "u8");

    let out = dir.path().join("g.npy");
    ok(&["convert", s(&frames), "--gray", "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![order.len(), h, w]);
    for (k, &t) in order.iter().enumerate() {
        for y in 0..h {
            for x in 0..w {
                let l = 0.299 * rgb_value(t, y, x, 0) as f64
                    + 0.587 * rgb_value(t, y, x, 1) as f64
                    + 0.114 * rgb_value(t, y, x, 2) as f64;
                let got = npy.u8s()[(k * h + y) * w + x] as f64;
                assert!(
                    (got - l).abs() <= 0.5 + 1e-3,
                    "frame {k} y={y} x={x}: {got} vs {l:.3}"
                );
            }
        }
    }
}

#[test]
fn video_info_and_convert() {
    let dir = TempDir::new().unwrap();
    let (t, h, w) = (6, 16, 24);
    let video = ffv1_video(dir.path(), t, h, w);

    // a gray video stays one channel
    let j = info_json(s(&video), &[]);
    assert_eq!(j["kind"], "video");
    assert_eq!(j["height"], h);
    assert_eq!(j["width"], w);
    assert_eq!(j["channels"], 1);
    assert_eq!(j["dtype"], "u8");
    assert_eq!(j["source"]["height"], h);
    assert_eq!(j["source"]["width"], w);

    let j = info_json(s(&video), &["--gray", "--full"]);
    assert_shape(&j, t as u64, h as u64, w as u64, 1, "u8");
    let vals: Vec<u8> = (0..t * h * w)
        .map(|i| gray_value(i / (h * w), i / w % h, i % w))
        .collect();
    assert_eq!(j["min"].as_f64(), Some(*vals.iter().min().unwrap() as f64));
    assert_eq!(j["max"].as_f64(), Some(*vals.iter().max().unwrap() as f64));

    let out = dir.path().join("v.npy");
    ok(&["convert", s(&video), "--gray", "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![t, h, w]);
    assert!(npy.u8s() == &vals[..], "FFV1 gray converts exactly");

    let out = dir.path().join("v1.npy");
    ok(&["convert", s(&video), "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![t, h, w]);
    assert!(
        npy.u8s() == &vals[..],
        "a gray video stays gray without --gray"
    );
}

#[test]
fn tiff_stack_info_and_convert() {
    let dir = TempDir::new().unwrap();
    let (h, w) = (9, 11);
    let p = dir.path().join("pages.tif");
    tiff_stack(&p, h, w);

    let j = info_json(s(&p), &[]);
    assert_shape(&j, 3, h as u64, w as u64, 1, "u16");
    assert_eq!(j["kind"], "tiff_stack");
    assert_eq!(j["source"]["dtype"], "u16");

    let out = dir.path().join("t.npy");
    ok(&["convert", s(&p), "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![3, h, w]);
    let want: Vec<u16> = (0..3 * h * w)
        .map(|i| tiff_value(i / (h * w), i / w % h, i % w))
        .collect();
    assert_eq!(npy.u16s(), want);

    // --8bit: u16 / 65535 * 255, truncated
    let out8 = dir.path().join("t8.npy");
    ok(&["convert", s(&p), "--8bit", "-o", s(&out8)]);
    let npy = Npy::read(&out8);
    assert_eq!(npy.shape, vec![3, h, w]);
    let want8: Vec<u8> = want
        .iter()
        .map(|&v| (v as u32 * 255 / 65535) as u8)
        .collect();
    assert_eq!(npy.u8s(), &want8[..]);
}

#[test]
fn npy_info_and_convert() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("a.npy");
    let v = u16_npy(&p, 4, 6, 7);
    let j = info_json(s(&p), &[]);
    assert_shape(&j, 4, 6, 7, 1, "u16");
    assert_eq!(j["kind"], "npy");
    assert_eq!(j["mapped"], true);

    let out = dir.path().join("sub.npy");
    ok(&[
        "convert",
        s(&p),
        "--first",
        "1",
        "--last",
        "3",
        "-o",
        s(&out),
    ]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![3, 6, 7]);
    assert_eq!(npy.u16s(), &v[6 * 7..4 * 6 * 7]);
}

// ---------------------------------------------------------------- bit-exact round trips

fn assert_same_file(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(
        x == y,
        "{} ({} bytes) and {} ({} bytes) differ",
        a.display(),
        x.len(),
        b.display(),
        y.len()
    );
}

/// in.npy -> out.npy, and in.npy -> out.tif -> back.npy, must all be byte-identical.
fn round_trips(dir: &Path, input: &Path) {
    let out = dir.join("out.npy");
    ok(&["convert", s(input), "-o", s(&out)]);
    assert_same_file(input, &out);

    let tif = dir.join("out.tif");
    ok(&["convert", s(input), "-o", s(&tif)]);
    let back = dir.join("back.npy");
    ok(&["convert", s(&tif), "-o", s(&back)]);
    assert_same_file(input, &back);
}

#[test]
fn round_trip_u16() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("in.npy");
    u16_npy(&p, 5, 7, 9);
    round_trips(dir.path(), &p);
}

#[test]
fn round_trip_u8() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("in.npy");
    let v: Vec<u8> = (0..5 * 7 * 9).map(|i| (i * 31 % 256) as u8).collect();
    write_npy_checked(&p, Shape::new(5, 7, 9, 1), &[5, 7, 9], "|u1", v);
    round_trips(dir.path(), &p);
}

#[test]
fn round_trip_f32() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("in.npy");
    // negative, fractional, huge, tiny: f32 must pass through untouched
    let v: Vec<f32> = (0..5 * 7 * 9)
        .map(|i| (i as f32 - 100.0) * 0.37 + if i % 11 == 0 { 1e30 } else { 1e-30 })
        .collect();
    write_npy_checked(&p, Shape::new(5, 7, 9, 1), &[5, 7, 9], "<f4", v);
    round_trips(dir.path(), &p);
}

#[test]
fn round_trip_rgb_u8() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("in.npy");
    let v: Vec<u8> = (0..4 * 6 * 5 * 3).map(|i| (i * 7 % 256) as u8).collect();
    write_npy_checked(&p, Shape::new(4, 6, 5, 3), &[4, 6, 5, 3], "|u1", v);
    round_trips(dir.path(), &p);
}

// ---------------------------------------------------------------- load options

#[test]
fn range_and_step_options() {
    let j = info_json(
        "demo:10,16,16",
        &["--first", "2", "--last", "5", "--step", "2"],
    );
    assert_shape(&j, 2, 16, 16, 1, "u8");
    assert_eq!(j["selection"]["first"], 2);
    assert_eq!(j["selection"]["last"], 5);
    assert_eq!(j["selection"]["step"], 2);
    // subset ratio 1/3 -> every 3rd frame of 10: 0, 3, 6, 9
    let j = info_json("demo:10,16,16", &["--subset-ratio", "0.3334"]);
    assert_eq!(j["frames"], 4);
}

#[test]
fn range_and_step_pick_the_right_frames_of_a_npy() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("a.npy");
    let (t, h, w) = (10, 3, 4);
    let v = u16_npy(&p, t, h, w);
    let out = dir.path().join("o.npy");
    ok(&[
        "convert",
        s(&p),
        "--first",
        "2",
        "--last",
        "8",
        "--step",
        "3",
        "-o",
        s(&out),
    ]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![3, h, w]);
    let n = h * w;
    let want: Vec<u16> = [2, 5, 8]
        .iter()
        .flat_map(|&k| v[k * n..(k + 1) * n].iter().copied())
        .collect();
    assert_eq!(npy.u16s(), want);
}

#[test]
fn size_ratio_halves() {
    let j = info_json("demo:3,16,20", &["--size-ratio", "0.5"]);
    assert_shape(&j, 3, 8, 10, 1, "u8");
    let j = info_json("demo:3,15,21", &["--size-ratio", "0.5"]);
    assert_shape(&j, 3, 7, 10, 1, "u8");

    // values: the mean of each 2x2 block
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("a.npy");
    let (t, h, w) = (2, 6, 8);
    let v = u16_npy(&p, t, h, w);
    let out = dir.path().join("half.npy");
    ok(&["convert", s(&p), "--size-ratio", "0.5", "-o", s(&out)]);
    let npy = Npy::read(&out);
    assert_eq!(npy.shape, vec![t, 3, 4]);
    let got = npy.u16s();
    for k in 0..t {
        for y in 0..3 {
            for x in 0..4 {
                let m = [(0, 0), (0, 1), (1, 0), (1, 1)]
                    .iter()
                    .map(|&(dy, dx)| v[(k * h + 2 * y + dy) * w + 2 * x + dx] as f64)
                    .sum::<f64>()
                    / 4.0;
                let g = got[(k * 3 + y) * 4 + x] as f64;
                assert!((g - m).abs() <= 0.5, "t={k} y={y} x={x}: {g} vs {m}");
            }
        }
    }
}

#[test]
fn eight_bit_option_on_u16() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("a.npy");
    // every multiple of 257 maps to an exact integer (65535 = 255 * 257): the edge where
    // truncation is most fragile; plus the values in between
    let mut v: Vec<u16> = (0..=255u16).map(|k| k * 257).collect();
    v.extend((0..256u32).map(|i| (i * 256 + 128) as u16));
    let (t, h, w) = (2, 16, 16);
    write_npy_checked(&p, Shape::new(t, h, w, 1), &[t, h, w], "<u2", v.clone());
    let j = info_json(s(&p), &["--8bit"]);
    assert_shape(&j, 2, 16, 16, 1, "u8");
    assert_eq!(j["source"]["dtype"], "u16");
    let out = dir.path().join("o8.npy");
    ok(&["convert", s(&p), "--8bit", "-o", s(&out)]);
    let npy = Npy::read(&out);
    let bad: Vec<(u16, u8, u32)> = v
        .iter()
        .zip(npy.u8s())
        .map(|(&x, &g)| (x, g, x as u32 * 255 / 65535))
        .filter(|&(_, g, want)| g as u32 != want)
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} values differ from floor(v * 255 / 65535), (v, got, want): {:?}",
        bad.len(),
        v.len(),
        &bad[..bad.len().min(10)]
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn missing_path_is_named() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("no-such-stack.npy");
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("no-such-stack.npy"), "{err}");
    let err = fails(&["convert", s(&p), "-o", s(&dir.path().join("o.npy"))]);
    assert!(err.contains("no-such-stack.npy"), "{err}");
    assert!(!dir.path().join("o.npy").exists());
}

#[test]
fn empty_folder_is_named() {
    let dir = TempDir::new().unwrap();
    let empty = dir.path().join("nothing-inside");
    std::fs::create_dir(&empty).unwrap();
    let err = fails(&["info", s(&empty)]);
    assert!(err.contains("nothing-inside"), "{err}");
}

#[test]
fn zero_size_ratio_names_the_option() {
    let err = fails(&["info", "demo:4,8,8", "--size-ratio", "0"]);
    assert!(err.contains("--size-ratio"), "{err}");
}

#[test]
fn reversed_range_names_the_option() {
    let err = fails(&["info", "demo:10,8,8", "--first", "5", "--last", "2"]);
    assert!(err.contains("--first"), "{err}");
}

#[test]
fn truncated_npy_is_named() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("cut.npy");
    u16_npy(&p, 4, 8, 8);
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..b.len() - 100]).unwrap();
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("cut.npy"), "{err}");
    let err = fails(&["convert", s(&p), "-o", s(&dir.path().join("o.npy"))]);
    assert!(err.contains("cut.npy"), "{err}");
    // only the header survives
    std::fs::write(&p, &b[..40]).unwrap();
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("cut.npy"), "{err}");
}

#[test]
fn unsupported_output_extension_is_named() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.xyz");
    let err = fails(&["convert", "demo:2,8,8", "-o", s(&out)]);
    assert!(err.contains("out.xyz"), "{err}");
    assert!(!out.exists());
    // nothing else was left behind either (no temporary file)
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
