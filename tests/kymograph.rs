//! Kymographs (`ops::kymograph`, `blitz kymograph`): a row or column line gives, in row t,
//! exactly the row or column profile of frame t; off-grid lines read bilinearly (exact on
//! a linear ramp); polylines turn at their vertices; bad lines are clear errors.

mod common;

use blitz::ops::FrameRange;
use blitz::ops::kymograph::{Line, kymograph};
use blitz::ops::profile::{Orientation, profile};
use blitz::{Shape, Stack};
use common::{Kind, Values, make};

fn same(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-4 * b.abs().max(1.0)
}

#[test]
fn rows_and_columns_are_the_profiles_of_each_frame() {
    let shape = Shape::new(5, 9, 13, 1);
    let stacks = [
        make(Kind::U8, shape, &[1], Values::default()),
        make(Kind::U16, shape, &[2], Values::default()),
        make(Kind::F32, shape, &[3], Values::default().nan_every(5)),
        make(Kind::U8, Shape::new(3, 7, 6, 3), &[4], Values::default()),
    ];
    for s in &stacks {
        let sh = s.shape();
        for k in [0usize, 1, 3] {
            for (orient, pos) in [
                (Orientation::Row, 0),
                (Orientation::Row, 4),
                (Orientation::Col, sh.width - 1),
                (Orientation::Col, 2),
            ] {
                let line = match orient {
                    Orientation::Row => Line::row(pos, sh.width, k),
                    Orientation::Col => Line::col(pos, sh.height, k),
                };
                let img = kymograph(s, &line, FrameRange::all(sh.frames)).unwrap();
                assert_eq!((img.height, img.channels), (sh.frames, sh.channels));
                for t in 0..sh.frames {
                    let p = profile(s, t, orient, pos, k).unwrap();
                    assert_eq!(img.width, p.len(), "{orient} {pos}");
                    let row = &img.data[t * img.width * sh.channels..][..img.width * sh.channels];
                    for (i, (&g, &w)) in row.iter().zip(&p.values).enumerate() {
                        assert!(
                            same(g, w),
                            "{} {orient} {pos} k {k} frame {t} sample {i}: {g} vs {w}",
                            s.dtype().name()
                        );
                    }
                }
            }
        }
    }
}

/// Frames of f(x, y) = a x + b y + 10 t: bilinear reading is exact on it.
fn ramp(frames: usize, h: usize, w: usize, a: f32, b: f32) -> Stack {
    let mut v = Vec::with_capacity(frames * h * w);
    for t in 0..frames {
        for y in 0..h {
            for x in 0..w {
                v.push(a * x as f32 + b * y as f32 + 10.0 * t as f32);
            }
        }
    }
    Stack::from_vec(Shape::new(frames, h, w, 1), v).unwrap()
}

#[test]
fn a_slanted_line_reads_bilinearly() {
    let s = ramp(4, 20, 30, 0.7, -1.3);
    // a 3-4-5 direction: 16 px long, samples one pixel apart at off-grid points
    let line = Line::parse("2.5,3,15.3,12.6", 2).unwrap();
    assert!((line.length() - 16.0).abs() < 1e-4);
    let img = kymograph(&s, &line, FrameRange::new(1, 3)).unwrap();
    assert_eq!((img.height, img.width), (3, 17));
    for t in 0..3 {
        for i in 0..17 {
            let (x, y) = (2.5 + 0.8 * i as f32, 3.0 + 0.6 * i as f32);
            // the band is symmetric across the line: its mean is the centre's value
            let want = 0.7 * x - 1.3 * y + 10.0 * (t + 1) as f32;
            let got = img.data[t * 17 + i];
            assert!(
                (got - want).abs() < 1e-3,
                "frame {t} position {i}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn a_polyline_turns_at_its_vertices() {
    let s = ramp(2, 12, 12, 1.0, 100.0);
    let line = Line::parse("1,1,8,1,8,6", 0).unwrap();
    let img = kymograph(&s, &line, FrameRange::all(2)).unwrap();
    assert_eq!(img.width, 13, "7 + 5 px long: 13 positions");
    let want: Vec<f32> = (1..=8)
        .map(|x| x as f32 + 100.0)
        .chain((2..=6).map(|y| 8.0 + 100.0 * y as f32))
        .collect();
    assert_eq!(&img.data[..13], &want[..]);
    let frame1: Vec<f32> = want.iter().map(|v| v + 10.0).collect();
    assert_eq!(&img.data[13..], &frame1[..]);
}

#[test]
fn points_off_the_frame_are_skipped_and_a_line_wholly_off_it_is_refused() {
    let s = ramp(1, 10, 10, 1.0, 0.0);
    // from x = -3 to 12 along row 5: positions off the frame are NaN
    let img = kymograph(
        &s,
        &Line::parse("-3,5,12,5", 0).unwrap(),
        FrameRange::all(1),
    )
    .unwrap();
    assert_eq!(img.width, 16);
    for (i, &v) in img.data.iter().enumerate() {
        let x = i as f32 - 3.0;
        if (0.0..=9.0).contains(&x) {
            assert_eq!(v, x);
        } else {
            assert!(v.is_nan(), "position {i} (x {x}) is off the frame: {v}");
        }
    }
    let err = |t: &str| {
        kymograph(&s, &Line::parse(t, 0).unwrap(), FrameRange::all(1))
            .unwrap_err()
            .to_string()
    };
    assert!(
        err("20,20,30,25").contains("outside the 10 x 10 frame"),
        "{}",
        err("20,20,30,25")
    );
    assert!(err("3,3,3,3").contains("length 0"), "{}", err("3,3,3,3"));
    for bad in ["1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,inf,4", ""] {
        assert!(Line::parse(bad, 0).is_err(), "{bad:?} should not parse");
    }
    let range = kymograph(&s, &Line::row(2, 10, 0), FrameRange::new(0, 3)).unwrap_err();
    assert!(
        range.to_string().contains("outside the stack's 1 frames"),
        "{range}"
    );
}

#[test]
fn cli_writes_the_kymograph_as_npy_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("k.npy");
    let csv = dir.path().join("k.csv");
    let n = npy.to_str().unwrap();
    let out = common::stdout(&common::ok(&[
        "kymograph",
        "demo:6,32,40",
        "--row",
        "10",
        "--width",
        "1",
        "--from",
        "1",
        "--to",
        "4",
        "-o",
        n,
    ]));
    assert!(out.contains("kymograph along --row 10"), "{out}");
    let loaded = common::load_ok(&npy, &common::ram_opts());
    // the (T, L) result reads back as 4 frames of 1 x 40 ... or as one 4 x 40 image
    assert_eq!(loaded.shape().len(), 4 * 40, "{}", loaded.shape());
    common::ok(&[
        "kymograph",
        "demo:6,32,40",
        "--line",
        "0,0,30,16",
        "-o",
        csv.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("frame,source_frame,time_s,p0,p1,"),
        "{header}"
    );
    assert_eq!(
        header.split(',').count(),
        3 + 35,
        "34 px long: 35 positions"
    );
    assert_eq!(lines.count(), 6);
    let err = common::fails(&["kymograph", "demo:6,32,40", "--row", "32", "-o", n]);
    assert!(
        err.contains("--row 32 is outside the frame (height 32)"),
        "{err}"
    );
    let err = common::fails(&["kymograph", "demo:6,32,40", "--line", "5,5,5,5", "-o", n]);
    assert!(err.contains("length 0"), "{err}");
}

#[test]
fn the_gpu_kernel_gives_the_cpu_kymograph() {
    let Some(gpu) = common::gpu("the_gpu_kernel_gives_the_cpu_kymograph") else {
        return;
    };
    let k = blitz::gpu::kymograph::GpuKymograph::new(&gpu).unwrap();
    // a small chunk limit, so that the frames stream in several chunks
    let small = gpu.clone().with_chunk_limit(3 * 17 * 23 * 4);
    let k_small = blitz::gpu::kymograph::GpuKymograph::new(&small).unwrap();
    let shape = Shape::new(9, 17, 23, 1);
    let stacks = [
        make(Kind::U8, shape, &[7], Values::default()),
        make(Kind::U16, shape, &[8], Values::default()),
        make(Kind::F32, shape, &[9], Values::default().nan_every(4)),
        make(Kind::U8, Shape::new(4, 11, 13, 3), &[10], Values::default()),
    ];
    let lines = [
        Line::row(5, 23, 0),
        Line::col(3, 17, 2),
        Line::parse("1.5,2.25,20,14.5,4,16", 1).unwrap(),
        Line::parse("-4,8,30,8", 0).unwrap(),
    ];
    for s in &stacks {
        for line in &lines {
            let sh = s.shape();
            let range = FrameRange::new(1, sh.frames - 1);
            let Ok(want) = kymograph(s, line, range) else {
                continue; // a line off this smaller frame is refused by both
            };
            for kernel in [&k, &k_small] {
                let got = kernel.kymograph(s, line, range).unwrap();
                assert_eq!(
                    (got.height, got.width, got.channels),
                    (want.height, want.width, want.channels)
                );
                for (i, (&g, &w)) in got.data.iter().zip(&want.data).enumerate() {
                    assert!(
                        same(g, w),
                        "{} {line:?} sample {i}: gpu {g} cpu {w}",
                        s.dtype().name()
                    );
                }
            }
        }
    }
    let off = Line::parse("40,40,50,50", 0).unwrap();
    assert!(k.kymograph(&stacks[0], &off, FrameRange::all(9)).is_err());
}

#[test]
fn a_line_profile_and_its_envelope_come_from_the_kymograph() {
    let s = make(
        Kind::F32,
        Shape::new(7, 15, 19, 1),
        &[11],
        Values::default().nan_every(6),
    );
    let line = Line::parse("1,2,17,11,3,13", 1).unwrap();
    let k = kymograph(&s, &line, FrameRange::all(7)).unwrap();
    let p = blitz::ops::kymograph::line_profile(&s, 4, &line).unwrap();
    assert_eq!(p.values.len(), k.width);
    for (i, (&g, &w)) in p
        .values
        .iter()
        .zip(&k.data[4 * k.width..5 * k.width])
        .enumerate()
    {
        assert!(same(g, w), "position {i}: {g} vs {w}");
    }
    for q in [0u32, 10] {
        let e = blitz::ops::kymograph::line_envelope(&s, &line, q).unwrap();
        for pos in 0..k.width {
            let mut col: Vec<f64> = (0..7)
                .map(|t| k.data[t * k.width + pos] as f64)
                .filter(|v| !v.is_nan())
                .collect();
            col.sort_by(f64::total_cmp);
            // numpy's linear percentile
            let pct = |p: f64| {
                let r = p / 100.0 * (col.len() - 1) as f64;
                let (i, t) = (r.floor() as usize, r - r.floor());
                col[i] + (col[(i + 1).min(col.len() - 1)] - col[i]) * t
            };
            let (lo, hi) = (pct(q as f64), pct(100.0 - q as f64));
            assert!(
                (e.lo[pos] as f64 - lo).abs() < 1e-5 && (e.hi[pos] as f64 - hi).abs() < 1e-5,
                "q {q} position {pos}: {:?} vs {:?}",
                (e.lo[pos], e.hi[pos]),
                (lo, hi)
            );
        }
    }
    assert!(blitz::ops::kymograph::line_envelope(&s, &line, 50).is_err());
}

#[test]
fn a_row_or_column_line_has_the_band_envelope_of_the_crosshair() {
    use blitz::ops::kymograph::line_band_envelope;
    use blitz::ops::profile::band_envelope;
    let (h, w) = (12, 17);
    for (kind, c) in [(Kind::U8, 3), (Kind::F32, 1)] {
        let s = make(
            kind,
            Shape::new(4, h, w, c),
            &[5],
            Values::default().nan_every(9),
        );
        // bands cut by the frame's edge (row 1, col 15) and inside it
        for (pos, k) in [(1usize, 2usize), (6, 1), (15, 3)] {
            for q in [0u32, 10] {
                let lines = [
                    (Orientation::Row, Line::row(pos.min(h - 1), w, k)),
                    (Orientation::Col, Line::col(pos, h, k)),
                ];
                for (orient, line) in lines {
                    let at = if orient == Orientation::Row {
                        pos.min(h - 1)
                    } else {
                        pos
                    };
                    let got = line_band_envelope(&s, 2, &line, q).unwrap();
                    let want = band_envelope(&s, 2, orient, at, k, q).unwrap();
                    let what = format!("{kind:?} {orient:?} {at} band {k} q {q}");
                    assert_eq!(got.lo.len(), want.lo.len(), "{what}");
                    for i in 0..got.lo.len() {
                        assert!(
                            same(got.lo[i], want.lo[i]) && same(got.hi[i], want.hi[i]),
                            "{what} position {i}: {:?} vs {:?}",
                            (got.lo[i], got.hi[i]),
                            (want.lo[i], want.hi[i])
                        );
                    }
                }
            }
        }
    }
    // a slanted line's band: each position's spread holds its band mean (the profile)
    let s = make(Kind::U16, Shape::new(3, h, w, 1), &[8], Values::default());
    let line = Line::parse("1,1,15,10", 2).unwrap();
    let e = line_band_envelope(&s, 1, &line, 0).unwrap();
    let p = blitz::ops::kymograph::line_profile(&s, 1, &line).unwrap();
    for (i, v) in p.values.iter().enumerate() {
        assert!(e.lo[i] <= *v && *v <= e.hi[i], "position {i}");
    }
    assert!(line_band_envelope(&s, 3, &line, 0).is_err(), "frame 3 of 3");
    assert!(line_band_envelope(&s, 1, &line, 50).is_err(), "q 50");
}

#[test]
fn cli_profile_along_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    let c = csv.to_str().unwrap();
    common::ok(&[
        "profile",
        "demo:5,20,30",
        "--line",
        "2,3,26,10",
        "--frame",
        "2",
        "--envelope",
        "0",
        "-o",
        c,
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "arc_px,value,dataset_min,dataset_max"
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 26, "25 px long: 26 positions");
    assert_eq!(rows[0][0], 0.0);
    assert!((rows[25][0] - 25.0).abs() < 1e-4);
    for r in &rows {
        assert!(
            r[2] <= r[1] && r[1] <= r[3],
            "{r:?}: the frame's value lies inside the envelope"
        );
    }
    let err = common::fails(&["profile", "demo:5,20,30", "--line", "2,3", "-o", c]);
    assert!(err.contains("expected an even count"), "{err}");
    let err = common::fails(&[
        "profile",
        "demo:5,20,30",
        "--line",
        "2,3,4,5",
        "--row",
        "2",
        "-o",
        c,
    ]);
    assert!(!err.is_empty());
}

#[test]
fn cli_gives_positions_in_units_with_a_pixel_size() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    let c = csv.to_str().unwrap();
    // the profile along a line: arc_mm beside arc_px
    common::ok(&[
        "profile",
        "demo:5,20,30",
        "--line",
        "2,3,26,10",
        "--pixel-size",
        "0.5mm",
        "-o",
        c,
    ]);
    let (header, rows) = common::read_csv(&csv);
    assert_eq!(header[..3], ["arc_px", "arc_mm", "value"]);
    assert_eq!(rows.len(), 26);
    for r in &rows {
        assert!((r[1] - 0.5 * r[0]).abs() < 1e-4, "{r:?}");
    }
    // a row profile: position_um beside the pixel position
    common::ok(&[
        "profile",
        "demo:5,20,30",
        "--row",
        "4",
        "--pixel-size",
        "2.5um",
        "-o",
        c,
    ]);
    let (header, rows) = common::read_csv(&csv);
    assert_eq!(header[..3], ["position", "position_um", "value"]);
    for r in &rows {
        assert!((r[1] - 2.5 * r[0]).abs() < 1e-4, "{r:?}");
    }
    // the kymograph CSV: a comment line with each column's position in units
    common::ok(&[
        "kymograph",
        "demo:6,32,40",
        "--col",
        "3",
        "--pixel-size",
        "2um",
        "-o",
        c,
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let first = text.lines().next().unwrap();
    let at: Vec<f64> = first
        .strip_prefix("# position_um of p0..p31: ")
        .unwrap_or_else(|| panic!("{first}"))
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(at.len(), 32);
    for (i, v) in at.iter().enumerate() {
        assert!((v - 2.0 * i as f64).abs() < 1e-4, "p{i}: {v}");
    }
    assert_eq!(common::read_csv(&csv).1.len(), 6);
    for bad in ["0um", "-1mm", "3furlongs"] {
        let option = format!("--pixel-size={bad}");
        let err = common::fails(&["kymograph", "demo:6,32,40", "--col", "3", &option, "-o", c]);
        assert!(err.contains(&format!("--pixel-size '{bad}'")), "{err}");
    }
}
