//! Line profiles, envelopes and ROI time series against naive, obviously-correct
//! implementations (plain loops over `Stack::value`, sort-based percentiles, an
//! independent point-in-polygon test) on random stacks of every dtype, odd sizes and
//! NaNs; and the `blitz profile` / `blitz roi` commands, whose CSV is parsed here.

mod common;

use std::path::Path;

use blitz::export::write_npy;
use blitz::ops::FrameRange;
use blitz::ops::profile::{Orientation, band_envelope, dataset_envelope, image_envelope, profile};
use blitz::ops::roi::{Roi, Stat, roi_series};
use blitz::{LoadOptions, NoProgress, Shape, Stack};
use common::naive;
use common::naive::{
    band_lines, dataset_env as naive_dataset_env, env_of, frame_env as naive_frame_env, mean, pct,
    profile as naive_profile, sizes,
};
use common::{Kind, REDUCE_REL, Values, close as close_f64, fails, kinds, ok, read_csv};
use proptest::prelude::*;
use tempfile::TempDir;

// ---------------------------------------------------------------- random stacks

fn make(kind: Kind, shape: Shape, seed: &[u32], nan_every: usize) -> Stack {
    common::make(
        kind,
        shape,
        seed,
        Values::floats(-100.0, 65436.0).nan_every(nan_every),
    )
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(1usize), 1usize..6],
        prop_oneof![Just(1usize), Just(3), 1usize..8],
        prop_oneof![Just(1usize), Just(3), Just(65), 1usize..9],
        prop_oneof![Just(1usize), Just(3)],
    )
        .prop_map(|(t, h, w, c)| Shape::new(t, h, w, c))
}

fn orients() -> impl Strategy<Value = Orientation> {
    prop_oneof![Just(Orientation::Row), Just(Orientation::Col)]
}

// ---------------------------------------------------------------- naive references

fn close(got: f32, want: f64, rel: f64) -> bool {
    close_f64(got as f64, want, rel)
}

/// Distance from (px, py) to the nearest polygon edge.
fn edge_distance(poly: &[(f32, f32)], px: f64, py: f64) -> f64 {
    (0..poly.len())
        .map(|i| {
            let (ax, ay) = (poly[i].0 as f64, poly[i].1 as f64);
            let j = (i + 1) % poly.len();
            let (bx, by) = (poly[j].0 as f64, poly[j].1 as f64);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            let t = if len2 == 0.0 {
                0.0
            } else {
                (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
            };
            ((ax + t * dx - px).powi(2) + (ay + t * dy - py).powi(2)).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Per frame and channel: (stat, min, max) over the masked pixels.
fn naive_series(s: &Stack, mask: &[bool], stat: Stat, a: usize, b: usize) -> Vec<(f64, f64, f64)> {
    let sh = s.shape();
    let mut out = Vec::new();
    for t in a..=b {
        for c in 0..sh.channels {
            let mut v = Vec::new();
            for y in 0..sh.height {
                for x in 0..sh.width {
                    let val = s.value(t, y, x, c) as f64;
                    if mask[y * sh.width + x] && !val.is_nan() {
                        v.push(val);
                    }
                }
            }
            let value = match stat {
                Stat::Mean => mean(&v),
                Stat::Median => pct(&v, 50.0),
            };
            let (lo, hi) = env_of(&v, 0);
            out.push((value, lo, hi));
        }
    }
    out
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn profiles_and_envelopes_match_naive(
        kind in kinds(), shape in shapes(), seed in prop::collection::vec(any::<u32>(), 1..6),
        nan_every in prop_oneof![Just(0usize), 2usize..6], o in orients(),
        pos_seed in 0usize..1000, k in prop_oneof![Just(0usize), 0usize..4, Just(1000)],
        frame_seed in 0usize..100, q in prop_oneof![Just(0u32), 0u32..=49, Just(49)],
    ) {
        let s = make(kind, shape, &seed, nan_every);
        let (lines, n) = sizes(&s, o);
        let pos = pos_seed % lines;
        let t = frame_seed % shape.frames;
        let c = shape.channels;

        let p = profile(&s, t, o, pos, k).unwrap();
        let want = naive_profile(&s, t, o, pos, k);
        prop_assert_eq!(p.channels, c);
        prop_assert_eq!(p.values.len(), n * c);
        for (i, (&g, &w)) in p.values.iter().zip(&want).enumerate() {
            prop_assert!(close(g, w, 1e-6), "{:?} {:?} profile[{}]: got {} want {}", kind, o, i, g, w);
        }

        let check = |name: &str, e: blitz::ops::profile::Envelope, want: Vec<(f64, f64)>| -> Result<(), TestCaseError> {
            prop_assert_eq!(e.lo.len(), n);
            prop_assert_eq!(e.hi.len(), n);
            for (i, &(lo, hi)) in want.iter().enumerate() {
                // min/max are picked values: exact; percentiles interpolate in f64
                let rel = if q == 0 && name != "dataset" { 0.0 } else { 1e-5 };
                prop_assert!(close(e.lo[i], lo, rel) && close(e.hi[i], hi, rel),
                    "{:?} {:?} {} q={} [{}]: got ({}, {}) want ({}, {})",
                    kind, o, name, q, i, e.lo[i], e.hi[i], lo, hi);
            }
            Ok(())
        };
        let all: Vec<usize> = (0..lines).collect();
        check("image", image_envelope(&s, t, o, q).unwrap(), naive_frame_env(&s, t, o, &all, q))?;
        check("band", band_envelope(&s, t, o, pos, k, q).unwrap(),
              naive_frame_env(&s, t, o, &band_lines(pos, k, lines), q))?;
        check("dataset", dataset_envelope(&s, o, pos, k, q).unwrap(), naive_dataset_env(&s, o, pos, k, q))?;
    }

    #[test]
    fn rectangle_series_match_naive(
        kind in kinds(), shape in shapes(), seed in prop::collection::vec(any::<u32>(), 1..6),
        nan_every in prop_oneof![Just(0usize), 2usize..6],
        x in -4i64..70, y in -4i64..10, w in 0usize..70, h in 0usize..10,
        median in any::<bool>(), a in 0usize..8, len in 0usize..8,
    ) {
        let s = make(kind, shape, &seed, nan_every);
        let roi = Roi::Rect { x, y, w, h };
        let stat = if median { Stat::Median } else { Stat::Mean };
        let first = a % shape.frames;
        let last = (first + len).min(shape.frames - 1);
        let mask = naive::roi_mask(&roi, shape.height, shape.width);
        let got = roi_series(&s, &roi, stat, FrameRange::new(first, last));
        if !mask.contains(&true) {
            prop_assert!(got.is_err(), "an empty rectangle must be an error");
            return Ok(());
        }
        let r = got.unwrap();
        prop_assert_eq!(r.pixels, mask.iter().filter(|m| **m).count());
        prop_assert_eq!(&r.frames, &(first..=last).collect::<Vec<_>>());
        let want = naive_series(&s, &mask, stat, first, last);
        prop_assert_eq!(r.value.len(), want.len());
        for (i, &(v, lo, hi)) in want.iter().enumerate() {
            let rel = if median { 1e-6 } else { 1e-5 };
            prop_assert!(close(r.value[i], v, rel), "{:?} value[{}]: got {} want {}", kind, i, r.value[i], v);
            prop_assert!(close(r.min[i], lo, 0.0) && close(r.max[i], hi, 0.0),
                "{:?} min/max[{}]: got ({}, {}) want ({}, {})", kind, i, r.min[i], r.max[i], lo, hi);
        }
    }

    #[test]
    fn polygon_pixels_and_series_match_naive(
        kind in kinds(), shape in shapes(), seed in prop::collection::vec(any::<u32>(), 1..6),
        nan_every in prop_oneof![Just(0usize), 2usize..6],
        verts in prop::collection::vec((-3f32..70.0, -3f32..10.0), 3..8),
        snap in any::<bool>(), median in any::<bool>(),
    ) {
        // snapped vertices (integers and halves) put centres exactly on edges and
        // vertices on scanlines: the cases where rounding could differ
        let verts: Vec<(f32, f32)> = if snap {
            verts.iter().map(|&(x, y)| ((x * 2.0).round() / 2.0, (y * 2.0).round() / 2.0)).collect()
        } else {
            verts
        };
        let s = make(kind, shape, &seed, nan_every);
        let (h, w) = (shape.height, shape.width);
        let roi = Roi::Polygon(verts.clone());
        let mask = naive::roi_mask(&roi, h, w);
        // pixels whose centre lies on (or within rounding of) an edge may go either way
        // between two correct implementations
        let ambiguous: Vec<bool> = (0..h * w)
            .map(|i| edge_distance(&verts, (i % w) as f64 + 0.5, (i / w) as f64 + 0.5) < 1e-6)
            .collect();
        let got = roi.spans(h, w);
        let mut lib = vec![false; h * w];
        if let Ok(spans) = &got {
            for sp in spans {
                prop_assert!(sp.x0 < sp.x1 && sp.x1 <= w && sp.y < h, "bad span {:?}", sp);
                for x in sp.x0..sp.x1 {
                    prop_assert!(!lib[sp.y * w + x], "pixel ({}, {}) listed twice", x, sp.y);
                    lib[sp.y * w + x] = true;
                }
            }
        }
        for i in 0..h * w {
            prop_assert!(ambiguous[i] || lib[i] == mask[i],
                "pixel ({}, {}) of {:?}: library {} naive {}", i % w, i / w, verts, lib[i], mask[i]);
        }
        prop_assume!(!ambiguous.iter().zip(&mask).zip(&lib).any(|((a, m), l)| *a && m != l));
        if !mask.contains(&true) {
            prop_assert!(got.is_err(), "a polygon without pixels must be an error");
            return Ok(());
        }
        let stat = if median { Stat::Median } else { Stat::Mean };
        let r = roi_series(&s, &roi, stat, FrameRange::all(shape.frames)).unwrap();
        let want = naive_series(&s, &mask, stat, 0, shape.frames - 1);
        for (i, &(v, lo, hi)) in want.iter().enumerate() {
            prop_assert!(close(r.value[i], v, 1e-5), "{:?} value[{}]: got {} want {}", kind, i, r.value[i], v);
            prop_assert!(close(r.min[i], lo, 0.0) && close(r.max[i], hi, 0.0));
        }
    }
}

#[test]
fn polygon_inside_test_agrees_with_naive_on_a_fine_grid() {
    // a concave, self-intersecting star; points off the pixel-centre grid
    let star = [(5.0, 0.0), (6.5, 9.0), (0.0, 3.3), (10.0, 3.3), (3.5, 9.0)];
    let mut n_in = 0;
    for iy in 0..200 {
        for ix in 0..200 {
            let (px, py) = (ix as f64 * 0.0517, iy as f64 * 0.0499);
            if edge_distance(&star, px, py) < 1e-9 {
                continue;
            }
            let want = naive::inside(&star, px, py);
            n_in += want as usize;
            assert_eq!(blitz::ops::roi::inside(&star, px, py), want, "({px}, {py})");
        }
    }
    // the even-odd rule leaves the pentagon in the middle of a pentagram outside
    assert!(!naive::inside(&star, 5.0, 4.5));
    assert!(n_in > 1000);
}

// ---------------------------------------------------------------- the CLI

fn csv_close(got: f64, want: f64) -> bool {
    close_f64(got, want, REDUCE_REL)
}

fn demo() -> Stack {
    blitz::load(
        Path::new("demo:6,20,30"),
        &LoadOptions::default(),
        &NoProgress,
    )
    .unwrap()
}

#[test]
fn cli_profile_on_demo_matches_naive() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("p.csv");
    let o = out.to_str().unwrap();
    let s = demo();

    // row 7, width 2, frame 3, dataset envelope at q = 10: 30 positions along x
    ok(&[
        "profile",
        "demo:6,20,30",
        "--row",
        "7",
        "--width",
        "2",
        "--frame",
        "3",
        "--envelope",
        "10",
        "-o",
        o,
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["position", "value", "env_min", "env_max"]);
    assert_eq!(rows.len(), 30);
    let want = naive_profile(&s, 3, Orientation::Row, 7, 2);
    let env = naive_dataset_env(&s, Orientation::Row, 7, 2, 10);
    for (i, r) in rows.iter().enumerate() {
        // the pixel centre (spec §4.1), as the viewer's export writes it
        assert_eq!(r[0], i as f64 + 0.5);
        assert!(
            csv_close(r[1], want[i]),
            "value {i}: {} vs {}",
            r[1],
            want[i]
        );
        assert!(
            csv_close(r[2], env[i].0) && csv_close(r[3], env[i].1),
            "env {i}: {r:?} vs {:?}",
            env[i]
        );
    }

    // column 29 without an envelope: 20 positions along y, frame 0
    ok(&[
        "profile",
        "demo:6,20,30",
        "--col",
        "29",
        "--width",
        "1",
        "-o",
        o,
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["position", "value"]);
    assert_eq!(rows.len(), 20);
    let want = naive_profile(&s, 0, Orientation::Col, 29, 1);
    for (i, r) in rows.iter().enumerate() {
        assert!(
            csv_close(r[1], want[i]),
            "value {i}: {} vs {}",
            r[1],
            want[i]
        );
    }

    // q = 0: min/max over raw band pixels of all frames
    ok(&[
        "profile",
        "demo:6,20,30",
        "--col",
        "0",
        "--envelope",
        "0",
        "-o",
        o,
    ]);
    let (_, rows) = read_csv(&out);
    let env = naive_dataset_env(&s, Orientation::Col, 0, 0, 0);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!((r[2], r[3]), env[i]);
    }
}

#[test]
fn cli_roi_on_demo_matches_naive() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("r.csv");
    let o = out.to_str().unwrap();
    let s = demo();

    // rectangle partly outside the frame, frames 1..=4, mean
    ok(&[
        "roi",
        "demo:6,20,30",
        "--rect",
        "-3,5,10,40",
        "--from",
        "1",
        "--to",
        "4",
        "-o",
        o,
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        ["frame", "source_frame", "time_s", "value", "min", "max"]
    );
    assert_eq!(rows.len(), 4);
    let roi = Roi::Rect {
        x: -3,
        y: 5,
        w: 10,
        h: 40,
    };
    let want = naive_series(&s, &naive::roi_mask(&roi, 20, 30), Stat::Mean, 1, 4);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1) as f64);
        // a demo stack is its own source, with no recording rate
        assert_eq!(r[1], (i + 1) as f64);
        assert!(r[2].is_nan(), "row {i}: {r:?}");
        let (v, lo, hi) = want[i];
        assert!(
            csv_close(r[3], v) && r[4] == lo && r[5] == hi,
            "row {i}: {r:?} vs {:?}",
            want[i]
        );
    }

    // polygon, median, all frames
    let poly = [(2.3f32, 1.7f32), (27.1, 4.2), (15.6, 18.9), (8.2, 9.9)];
    ok(&[
        "roi",
        "demo:6,20,30",
        "--polygon",
        "2.3,1.7,27.1,4.2,15.6,18.9,8.2,9.9",
        "--median",
        "-o",
        o,
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        ["frame", "source_frame", "time_s", "value", "min", "max"]
    );
    assert_eq!(rows.len(), 6);
    let want = naive_series(
        &s,
        &naive::roi_mask(&Roi::Polygon(poly.to_vec()), 20, 30),
        Stat::Median,
        0,
        5,
    );
    for (i, r) in rows.iter().enumerate() {
        let (v, lo, hi) = want[i];
        assert!(
            csv_close(r[3], v) && r[4] == lo && r[5] == hi,
            "row {i}: {r:?} vs {:?}",
            want[i]
        );
    }
}

#[test]
fn cli_rgb_npy_has_per_channel_columns() {
    let dir = TempDir::new().unwrap();
    let npy = dir.path().join("rgb.npy");
    // 3 frames of 4 x 5 RGB u8: value = 40 t + 7 y + 3 x + 50 c
    let shape = Shape::new(3, 4, 5, 3);
    let mut v = Vec::new();
    for t in 0..3 {
        for y in 0..4 {
            for x in 0..5 {
                for c in 0..3 {
                    v.push((40 * t + 7 * y + 3 * x + 50 * c) as u8);
                }
            }
        }
    }
    let s = Stack::from_vec(shape, v).unwrap();
    write_npy(&npy, &s).unwrap();
    let p = npy.to_str().unwrap();
    let out = dir.path().join("o.csv");
    let o = out.to_str().unwrap();

    ok(&[
        "profile",
        p,
        "--col",
        "2",
        "--width",
        "1",
        "--frame",
        "2",
        "--envelope",
        "20",
        "-o",
        o,
    ]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "position", "value_r", "value_g", "value_b", "env_min", "env_max"
        ]
    );
    assert_eq!(rows.len(), 4);
    let want = naive_profile(&s, 2, Orientation::Col, 2, 1);
    let env = naive_dataset_env(&s, Orientation::Col, 2, 1, 20);
    for (i, r) in rows.iter().enumerate() {
        for c in 0..3 {
            assert!(csv_close(r[1 + c], want[i * 3 + c]));
        }
        // column 2 band 1..=3 at y: mean 80 t + 7 y + 6 + 50 c; percentiles over t of
        // R, G, B, averaged over channels
        assert!(
            csv_close(r[4], env[i].0) && csv_close(r[5], env[i].1),
            "{r:?} vs {:?}",
            env[i]
        );
    }
    // by hand for position 0, frame 2: 80 + 0 + 3 * 2 + 50 c = 86, 136, 186
    assert_eq!(&rows[0][1..4], &[86.0, 136.0, 186.0]);

    ok(&["roi", p, "--rect", "1,1,2,2", "-o", o]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "frame",
            "source_frame",
            "time_s",
            "value_r",
            "min_r",
            "max_r",
            "value_g",
            "min_g",
            "max_g",
            "value_b",
            "min_b",
            "max_b"
        ]
    );
    assert_eq!(rows.len(), 3);
    // frame 0, R over x 1..=2, y 1..=2: 7y + 3x in {10, 13, 17, 20}: mean 15, 10, 20
    assert_eq!(rows[0][0], 0.0);
    assert_eq!(&rows[0][3..6], &[15.0, 10.0, 20.0]);
    // G adds 50, frame 1 adds 40
    assert_eq!(&rows[1][6..9], &[105.0, 100.0, 110.0]);
}

#[test]
fn cli_bad_input_fails_with_a_clear_message() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("x.csv");
    let o = out.to_str().unwrap();
    let d = "demo:6,20,30";

    let e = fails(&["profile", d, "--row", "20", "-o", o]);
    assert!(e.contains("row 20 is outside the frame's 20 rows"), "{e}");
    let e = fails(&["profile", d, "--col", "30", "-o", o]);
    assert!(e.contains("column 30 is outside"), "{e}");
    let e = fails(&["profile", d, "--row", "2", "--frame", "6", "-o", o]);
    assert!(e.contains("frame 6 is outside"), "{e}");
    let e = fails(&["profile", d, "--row", "2", "--envelope", "60", "-o", o]);
    assert!(e.contains("--envelope 60") && e.contains("0..=49"), "{e}");
    let e = fails(&["profile", d, "-o", o]);
    assert!(e.contains("--row") && e.contains("--col"), "{e}");
    // no GPU kernel for this yet: the CPU computes it and says so
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(["profile", d, "--row", "2", "--engine", "gpu", "-o", o])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{e}");
    assert!(e.contains("on the CPU"), "{e}");
    std::fs::remove_file(o).unwrap();

    let e = fails(&["roi", d, "--polygon", "1,1,5,5", "-o", o]);
    assert!(e.contains("at least 3 vertices"), "{e}");
    let e = fails(&["roi", d, "--polygon", "1,1,5,5,3", "-o", o]);
    assert!(e.contains("--polygon"), "{e}");
    let e = fails(&["roi", d, "--rect", "30,0,5,5", "-o", o]);
    assert!(e.contains("--rect") && e.contains("holds no pixel"), "{e}");
    let e = fails(&["roi", d, "--rect", "-10,-10,5,5", "-o", o]);
    assert!(e.contains("holds no pixel"), "{e}");
    let e = fails(&["roi", d, "--rect", "1,2,3", "-o", o]);
    assert!(e.contains("X,Y,W,H"), "{e}");
    let e = fails(&[
        "roi", d, "--rect", "1,1,2,2", "--from", "3", "--to", "9", "-o", o,
    ]);
    assert!(e.contains("--from/--to"), "{e}");
    // no GPU kernel for this yet: the CPU computes it and says so
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args([
            "roi", d, "--rect", "1,1,2,2", "--median", "--engine", "gpu", "-o", o,
        ])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{e}");
    assert!(e.contains("on the CPU"), "{e}");
    std::fs::remove_file(o).unwrap();
    // a polygon between pixel centres
    let e = fails(&["roi", d, "--polygon", "0,0.6,9,0.6,9,0.9", "-o", o]);
    assert!(e.contains("no pixel centre"), "{e}");
    assert!(
        !out.exists(),
        "a failed command must not leave an output file"
    );
}
