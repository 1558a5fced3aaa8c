//! The viewer's state driven directly (no window): bad input keeps the stack shown,
//! levels fit the whole stack with symmetric levels and the diverging map for data
//! straddling zero, playback loops, zoom keeps the point under the cursor.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blitz::engine::{Engine, EngineChoice};
use blitz::viewer::colormap::Colormap;
use blitz::viewer::state::{LoadJob, Loaded, ViewerState};
use blitz::{LoadOptions, Shape, Stack};

fn engine() -> Arc<Engine> {
    Arc::new(Engine::new(EngineChoice::Cpu))
}

fn viewer(path: &str) -> ViewerState {
    let e = engine();
    let loaded = LoadJob::start(Path::new(path), LoadOptions::default(), e.clone())
        .wait()
        .unwrap();
    ViewerState::new(loaded, LoadOptions::default(), e, "none".into())
}

fn finish_job(v: &mut ViewerState) {
    let t0 = Instant::now();
    while v.jobs.load.is_some() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "load never finished"
        );
        std::thread::sleep(Duration::from_millis(10));
        v.poll_jobs();
    }
}

#[test]
fn bad_input_shows_an_error_naming_the_file_and_keeps_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG but not really").unwrap();
    let texts = dir.path().join("notes");
    std::fs::create_dir(&texts).unwrap();
    std::fs::write(texts.join("a.txt"), "hello").unwrap();
    std::fs::write(texts.join("b.csv"), "1,2").unwrap();
    let mut bad = vec![corrupt, texts, dir.path().join("missing.tif")];
    // a video container with a video stream and no frame in it
    let empty = dir.path().join("empty.mkv");
    let made = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=32x32:rate=10",
        ])
        .args(["-frames:v", "0", "-c:v", "ffv1"])
        .arg(&empty)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        bad.push(empty);
    } else {
        eprintln!("note: ffmpeg missing, the empty-video case did not run");
    }
    let mut v = viewer("demo:5,16,24");
    v.set_frame(3);
    let before = v.pipeline.stack.clone();
    for path in bad {
        v.open(&path);
        finish_job(&mut v);
        let err = v.error.take().expect("an error is shown");
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name), "{err}");
        assert!(
            Arc::ptr_eq(&v.pipeline.stack, &before),
            "{name}: the stack shown stays"
        );
        assert_eq!(v.playback.frame, 3);
    }
    // a good file still loads afterwards
    let npy = dir.path().join("ok.npy");
    let s = Stack::from_vec(Shape::new(2, 3, 4, 1), (0..24u16).collect()).unwrap();
    blitz::export::write_npy(&npy, &s).unwrap();
    v.open(&npy);
    finish_job(&mut v);
    assert!(v.error.is_none(), "{:?}", v.error);
    assert_eq!(v.pipeline.stack.shape(), Shape::new(2, 3, 4, 1));
    assert_eq!(
        (v.display.params.levels.min, v.display.params.levels.max),
        (0.0, 23.0)
    );
}

fn loaded(stack: Stack) -> Loaded {
    Loaded {
        path: "memory".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    }
}

#[test]
fn levels_fit_the_stack_and_zero_straddling_data_gets_the_diverging_map() {
    let v: Vec<f32> = vec![-2.0, -1.0, 0.5, 1.0, f32::NAN, 3.0, 0.0, 1.0];
    let s = Stack::from_vec(Shape::new(2, 2, 2, 1), v).unwrap();
    let mut st = ViewerState::new(loaded(s), LoadOptions::default(), engine(), "none".into());
    assert_eq!(st.display.params.colormap, Colormap::Diverging);
    assert_eq!(
        (st.display.params.levels.min, st.display.params.levels.max),
        (-3.0, 3.0)
    );
    // all-positive data: plasma, levels min..max of every frame
    let s = Stack::from_vec(Shape::new(2, 1, 2, 1), vec![5u8, 9, 7, 200]).unwrap();
    st.set_loaded(loaded(s));
    assert_eq!(st.display.params.colormap, Colormap::Plasma);
    assert_eq!(
        (st.display.params.levels.min, st.display.params.levels.max),
        (5.0, 200.0)
    );
    // keep fitting off: a new dataset is fitted once (spec §6), then a change of the
    // displayed stack (a timeline crop to frame 1) keeps the levels
    st.display.keep_fitting = false;
    let s = Stack::from_vec(Shape::new(2, 1, 2, 1), vec![0u8, 50, 100, 120]).unwrap();
    st.set_loaded(loaded(s));
    assert_eq!(
        (st.display.params.levels.min, st.display.params.levels.max),
        (0.0, 120.0)
    );
    st.crop_timeline(blitz::ops::FrameRange::new(1, 1));
    st.update_shown(); // what every UI frame does
    assert_eq!(st.pipeline.stack.shape().frames, 1);
    assert_eq!(
        (st.display.params.levels.min, st.display.params.levels.max),
        (0.0, 120.0)
    );
    // on again: the next change refits to what is shown
    st.display.keep_fitting = true;
    st.undo_timeline_crop();
    st.crop_timeline(blitz::ops::FrameRange::new(1, 1));
    st.update_shown();
    assert_eq!(
        (st.display.params.levels.min, st.display.params.levels.max),
        (100.0, 120.0)
    );
}

#[test]
fn playback_loops_or_stops_at_the_end() {
    let s = Stack::from_vec(Shape::new(4, 1, 1, 1), vec![0u8, 1, 2, 3]).unwrap();
    let mut st = ViewerState::new(loaded(s), LoadOptions::default(), engine(), "none".into());
    st.playback.fps = 10.0;
    st.playback.playing = true;
    let t0 = Instant::now();
    st.tick(t0);
    st.tick(t0 + Duration::from_millis(250));
    assert_eq!(st.playback.frame, 2);
    st.tick(t0 + Duration::from_millis(550));
    assert_eq!(st.playback.frame, 1, "5 frames on from 0 in 4 loops to 1");
    st.playback.looping = false;
    st.tick(t0 + Duration::from_millis(2000));
    assert_eq!(st.playback.frame, 3);
    assert!(!st.playback.playing);
}

#[test]
fn zoom_keeps_the_data_under_the_cursor_and_probe_reads_raw_values() {
    let s = Stack::from_vec(Shape::new(1, 2, 3, 1), vec![1u16, 2, 3, 4, 5, 60000]).unwrap();
    let mut st = ViewerState::new(loaded(s), LoadOptions::default(), engine(), "none".into());
    st.fit_view(egui::Vec2::new(300.0, 100.0));
    assert_eq!(st.view.zoom, 50.0);
    assert_eq!(st.view.offset, egui::Vec2::new(75.0, 0.0));
    let at = egui::Vec2::new(180.0, 70.0);
    let data_before = (at - st.view.offset) / st.view.zoom;
    st.zoom_at(at, 2.5);
    let data_after = (at - st.view.offset) / st.view.zoom;
    assert!((data_before - data_after).length() < 1e-4);
    assert_eq!(st.probe_text(2, 1), "x 2  y 1  60000 (u16)");
}
