//! Helpers every test binary shares: one generator of random stacks, one policy for
//! tests that need a GPU adapter, the tolerances of design.md, the naive oracles
//! (`naive`), and the runners of the `blitz` binary. Each test binary uses a part.

#![allow(dead_code)]

pub mod naive;
pub mod video;

use std::path::Path;
use std::process::{Command, Output};

use blitz::gpu::{GpuDevice, GpuError};
use blitz::{Shape, Stack};

// ---------------------------------------------------------------- loading

/// Load options with a 1 GiB RAM budget and RAM storage (never the user's disk cache).
pub fn ram_opts() -> blitz::load::LoadOptions {
    blitz::load::LoadOptions {
        max_ram_gib: Some(1.0),
        storage: blitz::load::StorageChoice::Ram,
        ..Default::default()
    }
}

/// Loads `p` with `o`, panicking with the load's own message.
pub fn load_ok(p: &Path, o: &blitz::load::LoadOptions) -> Stack {
    blitz::load::load(p, o, &blitz::load::NoProgress).unwrap_or_else(|e| panic!("{e}"))
}

/// Every sample of the stack as f32, in storage order (frame, row, column, channel).
pub fn all_values(s: &Stack) -> Vec<f32> {
    let sh = s.shape();
    let mut v = Vec::with_capacity(sh.len());
    for t in 0..sh.frames {
        for y in 0..sh.height {
            for x in 0..sh.width {
                for c in 0..sh.channels {
                    v.push(s.value(t, y, x, c));
                }
            }
        }
    }
    v
}

/// The samples of a u8 or u16 stack as u16.
pub fn values_u16(s: &Stack) -> Vec<u16> {
    match s.dtype() {
        blitz::Dtype::U16 => s.as_slice::<u16>().unwrap().to_vec(),
        blitz::Dtype::U8 => s
            .as_slice::<u8>()
            .unwrap()
            .iter()
            .map(|&v| v as u16)
            .collect(),
        d => panic!("unexpected {d}"),
    }
}

/// The bytes of a version 1.0 `.npy` whose header is `dict` as given (padded to 64
/// bytes), followed by `data`: for files numpy would write and files it would refuse.
pub fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.as_bytes().to_vec();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h);
    b.extend(data);
    b
}

/// A `w` x `h` RGB JPEG (quality 90) of a known gradient.
pub fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
    let img =
        image::ImageBuffer::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 9) as u8, 77]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

// ---------------------------------------------------------------- tolerances

/// Relative error allowed for a mean or a std (design.md).
pub const REDUCE_REL: f64 = 1e-5;
/// Relative error allowed after normalization (design.md).
pub const NORMALIZE_REL: f64 = 1e-4;

/// `got` is `want` within `rel` of `max(|want|, 1)` (values near zero computed from
/// larger ones keep an absolute error); NaN matches NaN, an infinity only itself.
pub fn close(got: f64, want: f64, rel: f64) -> bool {
    within(got, want, rel * want.abs().max(1.0))
}

/// `got` is `want` within `rel` of `|want|`, with no floor near zero.
pub fn close_rel(got: f64, want: f64, rel: f64) -> bool {
    within(got, want, rel * want.abs())
}

fn within(got: f64, want: f64, tol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol
}

/// Asserts `close` for every sample, naming the first that is not.
pub fn assert_all_close(got: &[f32], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(g as f64, w, rel),
            "{what} sample {i}: got {g}, want {w}"
        );
    }
}

// ---------------------------------------------------------------- random stacks

/// The sample type of a generated stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    U8,
    U16,
    F32,
}

/// How the values of a generated stack are drawn.
#[derive(Clone, Copy, Debug)]
pub struct Values {
    /// Distinct values: 0 for any value of the dtype (floats: continuous in lo..hi).
    pub levels: u32,
    /// Floats: values in `lo..hi`.
    pub lo: f32,
    pub hi: f32,
    /// Floats: about one sample in `nan_every` is special (NaN; 0: none).
    pub nan_every: usize,
    /// Floats: sample 0 of every frame is NaN too (a pixel with a NaN in each frame).
    pub nan_pixel: bool,
    /// Floats: a third of the special samples are +inf and a third -inf.
    pub infinities: bool,
}

impl Default for Values {
    /// Any value of the dtype, floats in 0..1, no NaN.
    fn default() -> Self {
        Values {
            levels: 0,
            lo: 0.0,
            hi: 1.0,
            nan_every: 0,
            nan_pixel: false,
            infinities: false,
        }
    }
}

impl Values {
    /// Floats in `lo..hi`.
    pub fn floats(lo: f32, hi: f32) -> Values {
        Values {
            lo,
            hi,
            ..Values::default()
        }
    }

    /// At most `n` distinct values (1: a constant stack).
    pub fn levels(self, n: u32) -> Values {
        Values { levels: n, ..self }
    }

    /// About one float sample in `n` special (NaN, or ±inf with [`Values::infinities`]).
    pub fn nan_every(self, n: usize) -> Values {
        Values {
            nan_every: n,
            ..self
        }
    }

    /// Sample 0 of every frame NaN.
    pub fn nan_pixel(self) -> Values {
        Values {
            nan_pixel: true,
            ..self
        }
    }

    /// Specials are NaN, +inf or -inf.
    pub fn infinities(self) -> Values {
        Values {
            infinities: true,
            ..self
        }
    }
}

/// splitmix64: a well-mixed hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A stack of `kind` and `shape` with values drawn as `v` says from `seed` (a
/// proptest vector, or one number): the same arguments give the same stack.
pub fn make(kind: Kind, shape: Shape, seed: &[u32], v: Values) -> Stack {
    let seed = if seed.is_empty() { &[0][..] } else { seed };
    let frame = shape.frame_len().max(1);
    let bits = |i: usize| mix(((seed[i % seed.len()] as u64) << 32) ^ i as u64);
    let unit = |b: u64| (b >> 40) as f32 / (1u64 << 24) as f32;
    let pick = |b: u64, n: u32| (b % n as u64) as u32;
    let n = shape.len();
    match kind {
        Kind::U8 => {
            let s: Vec<u8> = (0..n)
                .map(|i| match v.levels {
                    0 => (bits(i) >> 56) as u8,
                    l => pick(bits(i), l.min(256)) as u8,
                })
                .collect();
            Stack::from_vec(shape, s).unwrap()
        }
        Kind::U16 => {
            let s: Vec<u16> = (0..n)
                .map(|i| match v.levels {
                    0 => (bits(i) >> 48) as u16,
                    l => {
                        let l = l.min(65536);
                        (pick(bits(i), l) * (65535 / l).max(1)) as u16
                    }
                })
                .collect();
            Stack::from_vec(shape, s).unwrap()
        }
        Kind::F32 => {
            let s: Vec<f32> = (0..n)
                .map(|i| {
                    let b = bits(i);
                    let special = mix(b);
                    if v.nan_pixel && i % frame == 0 {
                        return f32::NAN;
                    }
                    if v.nan_every > 0 && (special >> 8).is_multiple_of(v.nan_every as u64) {
                        return match (v.infinities, special % 3) {
                            (true, 1) => f32::INFINITY,
                            (true, 2) => f32::NEG_INFINITY,
                            _ => f32::NAN,
                        };
                    }
                    let t = match v.levels {
                        0 => unit(b),
                        l => pick(b, l) as f32 / l as f32,
                    };
                    v.lo + (v.hi - v.lo) * t
                })
                .collect();
            Stack::from_vec(shape, s).unwrap()
        }
    }
}

/// `s` with NaN at every storage index `i` (frame `i / frame_len`, sample
/// `i % frame_len`) where `nan(i)`: a fixed NaN placement of a test's own, next to the
/// random one of [`Values::nan_every`]. Integer stacks hold no NaN: they come back as
/// they are.
pub fn nan_where(s: Stack, nan: impl Fn(usize) -> bool) -> Stack {
    let Some(v) = s.as_slice::<f32>() else {
        return s;
    };
    let v = v
        .iter()
        .enumerate()
        .map(|(i, &x)| if nan(i) { f32::NAN } else { x })
        .collect();
    Stack::from_vec(s.shape(), v).unwrap()
}

/// Any value of the dtype (floats in 0..1), no NaN: the usual test stack.
pub fn random(kind: Kind, shape: Shape, seed: u32) -> Stack {
    make(kind, shape, &[seed], Values::default())
}

// ---------------------------------------------------------------- the GPU

/// The GPU device, or None after a loud note when the machine has no adapter at all; an
/// adapter that exists but fails to open is a failure, not a skip.
pub fn gpu(test: &str) -> Option<GpuDevice> {
    match GpuDevice::new() {
        Ok(g) => {
            eprintln!("{test}: running on {:?}", g.info().name);
            Some(g)
        }
        Err(GpuError::NoAdapter(why)) => {
            eprintln!("\n=== SKIPPED: no GPU adapter ({why}); {test} did not run on a GPU ===\n");
            None
        }
        Err(e) => panic!("{test}: a GPU adapter exists but the device failed to open: {e}"),
    }
}

// ---------------------------------------------------------------- the binary

/// Runs the `blitz` binary.
pub fn blitz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(args)
        .output()
        .expect("the blitz binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs blitz and requires success without a panic.
pub fn ok(args: &[&str]) -> Output {
    let o = blitz(args);
    assert!(
        o.status.success(),
        "blitz {args:?} failed ({:?}): {}",
        o.status,
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    o
}

/// Runs blitz, requires a clean failure (an exit code, no panic) and returns stderr.
pub fn fails(args: &[&str]) -> String {
    let o = blitz(args);
    check_failed(args, &o)
}

fn check_failed(args: &[&str], o: &Output) -> String {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "blitz {args:?} should fail; stdout: {}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "blitz {args:?} panicked: {err}");
    assert!(
        o.status.code().is_some(),
        "blitz {args:?} was killed by a signal"
    );
    err
}

/// Whether `xvfb-run` exists; says SKIPPED when not.
pub fn xvfb_run(test: &str) -> bool {
    let found = Command::new("xvfb-run").arg("--help").output().is_ok();
    if !found {
        eprintln!(
            "SKIPPED: xvfb-run is not installed (scripts/setup.sh installs it); {test} did not run"
        );
    }
    found
}

/// Runs blitz in a virtual display (xvfb-run).
pub fn blitz_in_xvfb(args: &[&str]) -> Output {
    Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1400x900x24"])
        .arg(env!("CARGO_BIN_EXE_blitz"))
        .args(args)
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("xvfb-run runs")
}

/// `blitz ARGS --screenshot OUT` in a virtual display; requires success, returns stderr.
pub fn screenshot(args: &[&str], out: &Path) -> String {
    let out = out.to_str().expect("a UTF-8 path");
    let all: Vec<&str> = args.iter().copied().chain(["--screenshot", out]).collect();
    let o = blitz_in_xvfb(&all);
    let err = stderr(&o);
    assert!(o.status.success(), "blitz view failed: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Every kind, for proptest.
pub fn kinds() -> impl proptest::strategy::Strategy<Value = Kind> {
    use proptest::prelude::*;
    prop_oneof![Just(Kind::U8), Just(Kind::U16), Just(Kind::F32)]
}

/// Runs the `blitz` binary with extra environment variables.
pub fn blitz_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blitz"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the blitz binary runs")
}

// ---------------------------------------------------------------- the viewer's state

/// A viewer (no window) showing `stack`, computing on the CPU engine.
pub fn viewer_of(stack: Stack) -> blitz::viewer::state::ViewerState {
    let loaded = blitz::viewer::state::Loaded {
        path: "memory".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    };
    blitz::viewer::state::ViewerState::new(
        loaded,
        blitz::LoadOptions::default(),
        std::sync::Arc::new(blitz::engine::Engine::new(blitz::engine::EngineChoice::Cpu)),
        "none".into(),
    )
}

/// The small demo stack the viewer tests share: 12 frames of 20 x 30 u8.
pub fn demo_small() -> Stack {
    blitz::load(
        Path::new("demo:12,20,30"),
        &blitz::LoadOptions::default(),
        &blitz::NoProgress,
    )
    .unwrap()
}

/// The export window's answer for `kind` to `path` (replacing nothing).
pub fn export_to(
    kind: blitz::viewer::state::ExportKind,
    path: &Path,
) -> blitz::viewer::state::ExportDialog {
    blitz::viewer::state::ExportDialog {
        kind,
        path: path.to_string_lossy().into_owned(),
        first: 0,
        last: 0,
        ext: "png",
        replace: false,
    }
}

/// Header and rows of a CSV written by blitz (its `# ` lines skipped).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

/// A ROI with its name, as a ROI set holds it.
pub fn named(name: &str, roi: blitz::ops::roi::Roi) -> blitz::ops::roi::set::NamedRoi {
    blitz::ops::roi::set::NamedRoi {
        name: name.into(),
        roi,
    }
}
