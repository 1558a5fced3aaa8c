//! `blitz normalize` with every kind of reference (`range:`, `file:`, `sliding:`), a
//! reference file loaded as the data is and refused when its shape is not the data's;
//! and `blitz view`'s set-up flags: refused with the option's name before any window
//! opens, and all of them at once in a real window under Xvfb. Expected values come
//! from the formulas that make the inputs and from `common::naive`.

mod common;

use std::path::{Path, PathBuf};

use blitz::export::write_npy;
use blitz::ops::FrameRange;
use blitz::ops::reduce::ReduceOp;
use blitz::{LoadOptions, NoProgress, Shape, Stack};
use common::{NORMALIZE_REL, assert_all_close, fails, naive, ok};

/// Frame `t` of the data: `20 + 7 t + 3 y + x`.
fn data_value(t: usize, y: usize, x: usize) -> u8 {
    (20 + 7 * t + 3 * y + x) as u8
}

/// A (5, 4, 6) u8 `.npy` of `data_value`.
fn data(dir: &Path) -> PathBuf {
    let (t, h, w) = (5, 4, 6);
    let v: Vec<u8> = (0..t * h * w)
        .map(|i| data_value(i / (h * w), i / w % h, i % w))
        .collect();
    let p = dir.join("data.npy");
    write_npy(&p, &Stack::from_vec(Shape::new(t, h, w, 1), v).unwrap()).unwrap();
    p
}

/// A one-frame f32 `.npy` of `frames` x `h` x `w`: `(y * w + x) % 5`, so some are 0.
fn reference(dir: &Path, name: &str, frames: usize, h: usize, w: usize) -> PathBuf {
    let v: Vec<f32> = (0..frames * h * w)
        .map(|i| (i % (h * w) % 5) as f32)
        .collect();
    let p = dir.join(name);
    write_npy(
        &p,
        &Stack::from_vec(Shape::new(frames, h, w, 1), v).unwrap(),
    )
    .unwrap();
    p
}

fn read(p: &Path) -> Stack {
    blitz::load(p, &LoadOptions::default(), &NoProgress).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_range_reference_subtracts_the_reduce_of_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (d, out) = (data(dir.path()), dir.path().join("n.npy"));
    ok(&[
        "normalize",
        s(&d),
        "--subtract",
        "range:mean:1:3",
        "--amount-sub",
        "0.5",
        "-o",
        s(&out),
    ]);
    let got = read(&out);
    assert_eq!(got.shape(), Shape::new(5, 4, 6, 1));
    // the mean of frames 1..=3 is frame 2; half of it is subtracted
    let want: Vec<f64> = (0..5 * 24)
        .map(|i| {
            let (t, y, x) = (i / 24, i / 6 % 4, i % 6);
            data_value(t, y, x) as f64 - 0.5 * data_value(2, y, x) as f64
        })
        .collect();
    assert_all_close(
        got.as_slice().unwrap(),
        &want,
        NORMALIZE_REL,
        "range:mean:1:3",
    );
}

#[test]
fn a_file_reference_divides_and_a_zero_denominator_gives_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (d, out) = (data(dir.path()), dir.path().join("n.npy"));
    let r = reference(dir.path(), "ref.npy", 1, 4, 6);
    let file = format!("file:{}", s(&r));
    ok(&["normalize", s(&d), "--divide", &file, "-o", s(&out)]);
    let got = read(&out);
    let want: Vec<f64> = (0..5 * 24)
        .map(|i| {
            let (t, y, x) = (i / 24, i / 6 % 4, i % 6);
            let den = ((y * 6 + x) % 5) as f64;
            if den == 0.0 {
                0.0
            } else {
                data_value(t, y, x) as f64 / den
            }
        })
        .collect();
    assert_all_close(got.as_slice().unwrap(), &want, NORMALIZE_REL, "file:");
}

#[test]
fn a_sliding_reference_gives_one_frame_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let (d, out) = (data(dir.path()), dir.path().join("n.npy"));
    ok(&[
        "normalize",
        s(&d),
        "--subtract",
        "sliding:max:2:1",
        "-o",
        s(&out),
    ]);
    let got = read(&out);
    // 5 frames, window 2 at lag 1: frames 0..=2, each minus the max of t+1, t+2 (= t+2)
    assert_eq!(got.shape().frames, 3);
    let input = read(&d);
    let want = naive::subtract_sliding(&input, ReduceOp::Max, 2, 1);
    assert_all_close(got.as_slice().unwrap(), &want, NORMALIZE_REL, "sliding");
    assert_eq!(got.as_slice::<f32>().unwrap()[0], -14.0);
}

#[test]
fn a_file_reference_loads_with_the_datas_options_but_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (d, out) = (data(dir.path()), dir.path().join("n.npy"));
    // a reference of the source's size for data loaded at half size, frames 1..=3
    let r = reference(dir.path(), "ref.npy", 1, 4, 6);
    let file = format!("file:{}", s(&r));
    let load = ["--size-ratio", "0.5", "--first", "1", "--last", "3"];
    let mut args = vec!["normalize", s(&d), "--subtract", &file, "-o", s(&out)];
    args.extend(load);
    ok(&args);
    let got = read(&out);
    // (3, 2, 3) frames of 2 x 3; read back, a trailing 3 reads as one RGB frame
    // (spec §2.9), so only the samples are compared
    assert_eq!(got.shape().len(), 3 * 2 * 3);
    // what the data and the reference are once loaded with those options (the
    // reference whole: its one frame, not frames 1..=3 of it)
    let opts = LoadOptions {
        size_ratio: 0.5,
        first: Some(1),
        last: Some(3),
        ..Default::default()
    };
    let x = blitz::load(&d, &opts, &NoProgress).unwrap();
    let half = LoadOptions {
        size_ratio: 0.5,
        ..Default::default()
    };
    let rf = blitz::load(&r, &half, &NoProgress).unwrap();
    assert_eq!(rf.shape(), Shape::new(1, 2, 3, 1));
    let rf: Vec<f64> = naive::reduce(&rf, ReduceOp::Mean, FrameRange::all(1));
    let want: Vec<f64> = (0..3 * 6)
        .map(|i| x.frame(i / 6).get_f32(i % 6) as f64 - rf[i % 6])
        .collect();
    assert_all_close(got.as_slice().unwrap(), &want, NORMALIZE_REL, "options");
}

#[test]
fn a_reference_file_of_another_shape_is_refused_naming_the_option_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (d, out) = (data(dir.path()), dir.path().join("n.npy"));
    for (name, frames, h, w) in [("narrow.npy", 1, 4, 5), ("two.npy", 2, 4, 6)] {
        let r = reference(dir.path(), name, frames, h, w);
        let file = format!("file:{}", s(&r));
        let e = fails(&["normalize", s(&d), "--subtract", &file, "-o", s(&out)]);
        assert!(e.contains(&format!("--subtract '{file}'")), "{e}");
        assert!(e.contains(name), "{e}");
        assert!(
            e.contains(&format!("{frames} frame(s) of {h} x {w} x 1")),
            "{e}"
        );
        assert!(
            e.contains("one frame of the data's 4 x 6 x 1 is needed"),
            "{e}"
        );
        assert!(!out.exists(), "a refused reference leaves no output");
    }
    let e = fails(&[
        "normalize",
        s(&d),
        "--divide",
        "file:/no/such/ref.png",
        "-o",
        s(&out),
    ]);
    assert!(
        e.contains("--divide") && e.contains("/no/such/ref.png"),
        "{e}"
    );
}

#[test]
fn bad_reference_specs_name_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n.npy");
    let d = "demo:6,8,8";
    for (option, spec, want) in [
        (
            "--subtract",
            "range:mean:1",
            "expected range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG",
        ),
        ("--divide", "mean", "expected range:OP:A:B"),
        ("--subtract", "range:avg:0:1", "unknown reduce op 'avg'"),
        (
            "--divide",
            "sliding:mean:0:0",
            "the sliding WINDOW must be at least 1",
        ),
        (
            "--subtract",
            "range:mean:4:1",
            "the range 4..=1 is reversed",
        ),
    ] {
        let e = fails(&["normalize", d, option, spec, "-o", s(&out)]);
        assert!(
            e.contains(&format!("{option} '{spec}': {want}")),
            "{option} {spec}: {e}"
        );
    }
    // a range past the stack, checked once it is loaded, named too
    let e = fails(&[
        "normalize",
        d,
        "--subtract",
        "range:mean:2:9",
        "-o",
        s(&out),
    ]);
    assert!(e.contains("--subtract 'range:mean:2:9'"), "{e}");
    assert!(e.contains("2..=9") && e.contains("6 frames"), "{e}");
}

#[test]
fn bad_view_set_up_flags_fail_before_any_window_opens() {
    let dir = tempfile::tempdir().unwrap();
    let small = reference(dir.path(), "small.npy", 1, 4, 4);
    let file = format!("file:{}", s(&small));
    for (args, want) in [
        (vec!["--aggregate", "mean:2"], "--aggregate 'mean:2'"),
        (
            vec!["--subtract", "sliding:mean:3"],
            "--subtract 'sliding:mean:3'",
        ),
        (vec!["--divide", &file], "one frame of the data's 8 x 8 x 1"),
        (vec!["--crosshair", "1,2,3"], "--crosshair '1,2,3'"),
        (vec!["--rect", "0,0,0,4"], "--rect '0,0,0,4'"),
    ] {
        let mut all = vec!["view", "demo:4,8,8"];
        all.extend(&args);
        // no display: a failure after parsing would name xvfb instead
        let o = common::blitz_with_env(&all, &[("DISPLAY", ""), ("WAYLAND_DISPLAY", "")]);
        let e = common::stderr(&o);
        assert!(!o.status.success(), "{args:?}");
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(
            !e.contains("panicked") && !e.contains("display"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn every_view_set_up_flag_at_once_in_a_window() {
    if !common::xvfb_run("every_view_set_up_flag_at_once_in_a_window") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = reference(dir.path(), "ref.npy", 1, 60, 80);
    let file = format!("file:{}", s(&r));
    for setup in [
        vec![
            "--aggregate",
            "max:1:4",
            "--crosshair",
            "10,20",
            "--line-width",
            "2",
            "--envelopes",
            "--rect",
            "-5,5,20,10",
        ],
        vec![
            "--subtract",
            "range:mean:0:2",
            "--divide",
            &file,
            "--apply",
            "--crosshair",
            "79,59",
        ],
        vec!["--subtract", "sliding:median:2:1", "--rect", "0,0,80,60"],
    ] {
        let out = dir.path().join("window.png");
        let mut args = vec!["view", "demo:6,60,80", "--exit-after-frames", "3"];
        args.extend(&setup);
        let err = common::screenshot(&args, &out);
        assert!(err.contains("screenshot written"), "{setup:?}: {err}");
        let shot = image::open(&out).unwrap().to_rgb8();
        assert!(shot.width() >= 800, "{setup:?}");
        std::fs::remove_file(&out).unwrap();
    }
}
