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
    // keeping the rate: frames advance by the clock, skipped ones counted
    st.playback.skip_frames = true;
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
    assert_eq!(st.probe_text(2, 1), "x 2  y 1  60000 (u16, raw)");
}

use std::sync::atomic::{AtomicUsize, Ordering};

use blitz::ops::FrameRange;
use blitz::ops::histogram::histogram;
use blitz::ops::reduce::ReduceOp;
use blitz::ops::roi::Roi;
use blitz::viewer::ViewerError;
use blitz::viewer::state::files::{LoadPlan, OpenDialog, plan_text};
use blitz::viewer::state::histogram::{
    full_histogram, full_histogram_in_runs, sample_frames, sampled_histogram,
};
use blitz::viewer::state::pipeline::Aggregate;
use blitz::viewer::state::{Command as Cmd, Job, JobCtx, SelectionEnd, Tool};

/// A stack of `frames` frames of 4 x 5 whose frame t holds t (mod 200) everywhere, except
/// one pixel of frame 1 that holds 250.
fn ramp(frames: usize) -> Stack {
    let mut v: Vec<u8> = (0..frames).flat_map(|t| [(t % 200) as u8; 20]).collect();
    v[20 + 7] = 250;
    Stack::from_vec(Shape::new(frames, 4, 5, 1), v).unwrap()
}

/// `stack` written as .npy under `dir` and opened again: memory-mapped.
fn mapped(dir: &Path, stack: &Stack) -> Stack {
    let p = dir.join("mapped.npy");
    blitz::export::write_npy(&p, stack).unwrap();
    let s = blitz::load(&p, &LoadOptions::default(), &blitz::NoProgress).unwrap();
    assert!(s.is_mapped());
    s
}

#[test]
fn a_cancelled_job_stops_its_work_and_a_dropped_one_too() {
    for drop_it in [false, true] {
        let steps = Arc::new(AtomicUsize::new(0));
        let s = steps.clone();
        let job: Job<()> = Job::spawn("counting", move |ctx: &JobCtx| {
            ctx.begin("steps", 10_000);
            for _ in 0..10_000 {
                ctx.check()?;
                s.fetch_add(1, Ordering::Relaxed);
                ctx.step(1);
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        });
        while steps.load(Ordering::Relaxed) < 5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(job.status().fraction().is_some_and(|f| f > 0.0 && f < 1.0));
        if drop_it {
            drop(job);
        } else {
            job.cancel();
            assert!(matches!(job.wait(), Err(ViewerError::Cancelled)));
        }
        std::thread::sleep(Duration::from_millis(50));
        let at = steps.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(steps.load(Ordering::Relaxed), at, "the work goes on");
        assert!(at < 1000, "{at} steps");
    }
    // a job that fails gives its error, one that panics says it crashed
    let failing: Job<()> = Job::spawn("failing", |_| Err(ViewerError::Refused("no".into())));
    assert_eq!(failing.wait().unwrap_err().to_string(), "no");
    let crashing: Job<()> = Job::spawn("the reduce", |_| panic!("boom"));
    assert_eq!(
        crashing.wait().unwrap_err().to_string(),
        "the reduce crashed"
    );
}

#[test]
fn the_histogram_starts_from_a_sample_and_the_full_pass_is_the_ops_histogram() {
    // the sample: first and last frame, evenly spread, within the byte budget
    assert_eq!(sample_frames(5, 100, 64, 1 << 20), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        sample_frames(101, 100, 5, 1 << 20),
        vec![0, 25, 50, 75, 100]
    );
    assert_eq!(sample_frames(101, 100, 64, 300), vec![0, 50, 100]);
    assert_eq!(sample_frames(101, 1000, 64, 10), vec![0]);

    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(EngineChoice::Cpu);
    let s = mapped(dir.path(), &ramp(300));
    let sample = sampled_histogram(&s, &engine).unwrap();
    assert_eq!((sample.counted, sample.frames), (64, 300));
    assert!(!sample.is_complete());
    // the sample's own histogram: 64 frames of 20 samples, frame 1 (and its 250) left out
    assert_eq!(sample.hist.total, 64 * 20);
    assert_eq!(sample.hist.max(), Some(199.0));
    // the full pass, in one chunk or in runs of 7 frames, equals the histogram of every
    // frame exactly
    let full = full_histogram(&s, &JobCtx::default()).unwrap();
    assert_eq!(
        full,
        full_histogram_in_runs(&s, 7, &JobCtx::default()).unwrap()
    );
    assert!(full.is_complete());
    assert_eq!(
        full.hist,
        histogram(&s, FrameRange::all(300), None).unwrap()
    );
    assert_eq!(full.hist.max(), Some(250.0));
    let u16s: Vec<u16> = (0..3000u32).map(|i| (i * 37 % 5000) as u16 + 7).collect();
    let s16 = mapped(
        dir.path(),
        &Stack::from_vec(Shape::new(150, 4, 5, 1), u16s).unwrap(),
    );
    let full = full_histogram_in_runs(&s16, 7, &JobCtx::default()).unwrap();
    assert_eq!(
        full.hist,
        histogram(&s16, FrameRange::all(150), None).unwrap()
    );
    let mut f: Vec<f32> = (0..3000)
        .map(|i| ((i * 7919) % 1000) as f32 / 7.0 - 40.0)
        .collect();
    f[11] = f32::NAN;
    f[2000] = f32::INFINITY;
    let sf = Stack::from_vec(Shape::new(150, 4, 5, 1), f).unwrap();
    let full = full_histogram_in_runs(&sf, 7, &JobCtx::default()).unwrap();
    assert_eq!(
        full.hist,
        histogram(&sf, FrameRange::all(150), None).unwrap()
    );
}

#[test]
fn a_mapped_stack_shows_at_once_with_sampled_levels_refined_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("big.npy");
    blitz::export::write_npy(&npy, &ramp(300)).unwrap();
    let mut v = viewer(npy.to_str().unwrap());
    assert!(v.pipeline.stack.is_mapped());
    // levels from the sample at first (frame 1's 250 not among them) ...
    assert_eq!(v.display.params.levels.max, 199.0);
    let known = v.display.stack_histogram_known().unwrap();
    assert_eq!((known.counted, known.frames), (64, 300));
    assert!(
        v.jobs.histogram.is_some(),
        "the full pass runs in the background"
    );
    // ... then from every frame, as the levels were not touched
    v.wait_jobs();
    assert!(v.display.stack_histogram_known().unwrap().is_complete());
    assert_eq!(v.display.params.levels.max, 250.0);
    // levels the user set stay when the full histogram arrives
    v.set_loaded(
        LoadJob::start(&npy, LoadOptions::default(), engine())
            .wait()
            .unwrap(),
    );
    v.display.keep_fitting = false;
    v.display.set_levels(10.0, 20.0);
    v.wait_jobs();
    assert_eq!(v.display.params.levels.max, 20.0);
    // scrubbing reads frames from the map: nothing waits, nothing runs
    v.set_frame(150);
    v.update_shown();
    assert_eq!(v.probe_text(0, 0), "x 0  y 0  150 (u8, raw)");
    assert!(!v.jobs.busy());
}

#[test]
fn keys_and_clicks_act_through_state_methods() {
    let s = Stack::from_vec(Shape::new(10, 6, 8, 1), vec![1u8; 480]).unwrap();
    let mut v = ViewerState::new(loaded(s), LoadOptions::default(), engine(), "none".into());
    v.command(Cmd::LastFrame);
    assert_eq!(v.playback.frame, 9);
    v.command(Cmd::NextFrame);
    assert_eq!(v.playback.frame, 9, "stays on the last frame");
    v.command(Cmd::PreviousFrame);
    v.command(Cmd::PreviousFrame);
    assert_eq!(v.playback.frame, 7);
    v.command(Cmd::FirstFrame);
    v.command(Cmd::TogglePlay);
    assert!(v.playback.playing);
    v.jump_to_frame(4);
    assert!(!v.playback.playing && v.playback.frame == 4);
    v.command(Cmd::ToggleAggregate);
    assert!(v.pipeline.aggregate.is_some());
    v.command(Cmd::ToggleAggregate);
    v.command(Cmd::OneToOne);
    v.layout_view(egui::Vec2::new(100.0, 100.0), 2.0);
    assert_eq!(v.view.zoom, 0.5);
    assert!(!v.view.fit);

    // the selection with a fixed width: either end drags the whole window
    v.set_selection(2, 5);
    v.pipeline.aggregate = Some(Aggregate {
        op: ReduceOp::Mean,
        range: v.pipeline.selection,
        fixed_width: true,
    });
    v.move_selection(SelectionEnd::Start, 8);
    assert_eq!(
        v.pipeline.selection,
        FrameRange::new(6, 9),
        "clamped at the end"
    );
    v.move_selection(SelectionEnd::End, 1);
    assert_eq!(v.pipeline.selection, FrameRange::new(0, 3));
    v.pipeline.aggregate = None;
    v.move_selection(SelectionEnd::End, 7);
    assert_eq!(v.pipeline.selection, FrameRange::new(0, 7));

    // a rectangle drawn from (1.2, 1.7) to (4.5, 3.1) covers pixels 1..5 x 1..4, clamped
    v.tool = Tool::Rect;
    v.roi_drag((1.2, 1.7), (3.0, 2.0), true);
    v.roi_drag((1.2, 1.7), (4.5, 3.1), false);
    v.roi_drag_end();
    let rect = |x, y, w, h| Some(Roi::Rect { x, y, w, h });
    assert_eq!(v.roi.region, rect(1, 1, 4, 3));
    assert_eq!(v.roi.series.as_ref().map(|s| s.frames.len()), Some(10));
    // a drag starting inside moves it by the rounded distance
    v.roi_drag((2.0, 2.0), (4.6, 1.2), true);
    assert_eq!(v.roi.region, rect(4, 0, 4, 3));
    v.roi_drag_end();
    // a drag outside draws a new one, clamped to the frame
    v.roi_drag((7.5, 5.5), (20.0, -3.0), true);
    assert_eq!(v.roi.region, rect(7, 0, 1, 6));
    // polygon: two clicks are not enough to close it; three are
    v.command(Cmd::Escape);
    assert_eq!(v.tool, Tool::Navigate);
    v.polygon_click(0.0, 0.0);
    v.polygon_click(4.0, 0.0);
    v.polygon_close();
    assert_eq!(v.roi.polygon_draft.len(), 2);
    v.polygon_click(0.0, 4.0);
    v.polygon_close();
    assert!(matches!(&v.roi.region, Some(Roi::Polygon(p)) if p.len() == 3));
    assert!(v.roi.polygon_draft.is_empty());
    // pins: outside ignored, at most four, the oldest goes
    v.pin_at(-1.0, 2.0);
    v.pin_at(8.0, 2.0);
    assert!(v.roi.pins.is_empty());
    for x in 0..5 {
        v.pin_at(x as f32 + 0.5, 1.0);
    }
    assert_eq!(v.roi.pins, vec![(1, 1), (2, 1), (3, 1), (4, 1)]);
    assert_eq!(v.pixel_series_at(2, 1).unwrap().as_slice(), &[1.0; 10]);
    v.clear_roi_and_pins();
    assert!(v.roi.pins.is_empty() && v.roi.region.is_none() && v.roi.series.is_none());
    // crosshair outside the image stays where it was
    v.set_crosshair_at(3.9, 2.0);
    v.set_crosshair_at(30.0, 2.0);
    assert_eq!(v.profile.crosshair, Some((3, 2)));
    // level lines: the nearer one follows without crossing; typed levels are swapped
    v.display.set_levels(200.0, 100.0);
    assert_eq!(
        (v.display.params.levels.min, v.display.params.levels.max),
        (100.0, 200.0)
    );
    v.display.drag_level(120.0);
    v.display.drag_level(260.0);
    assert_eq!(
        (v.display.params.levels.min, v.display.params.levels.max),
        (120.0, 260.0)
    );
    v.display.drag_level(150.0);
    assert_eq!(v.display.params.levels.min, 150.0);
}

#[test]
fn the_load_plan_and_the_folder_listing_come_from_jobs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for name in ["img10.png", "img2.png"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let mut d = OpenDialog::at(dir.path());
    let t0 = Instant::now();
    let names = loop {
        d.update();
        if let Some(r) = d.entries() {
            break r.as_ref().unwrap().clone();
        }
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    };
    let names: Vec<(&str, bool)> = names.iter().map(|e| (e.name.as_str(), e.is_dir)).collect();
    assert_eq!(
        names,
        [("img2.png", false), ("img10.png", false), ("sub", true)]
    );

    // the plan says where the stack goes: disk storage names its cache file
    let cache = dir.path().join("cache");
    let opts = LoadOptions {
        storage: blitz::load::StorageChoice::Disk,
        cache_dir: Some(cache.clone()),
        ..LoadOptions::default()
    };
    let text = plan_text(&blitz::load::plan(Path::new("demo:40,32,32"), &opts).unwrap());
    assert!(
        text.contains("storage: disk, cache file") && text.contains(cache.to_str().unwrap()),
        "{text}"
    );
    let ram = LoadOptions {
        storage: blitz::load::StorageChoice::Ram,
        ..LoadOptions::default()
    };
    let text = plan_text(&blitz::load::plan(Path::new("demo:40,32,32"), &ram).unwrap());
    assert!(
        text.contains("40 x 32 x 32 x 1 u8") && text.contains("storage: RAM"),
        "{text}"
    );
    let npy = dir.path().join("s.npy");
    blitz::export::write_npy(&npy, &ramp(3)).unwrap();
    let mut plan = LoadPlan::default();
    let t0 = Instant::now();
    let text = loop {
        let t = plan.text_for(&npy, &LoadOptions::default());
        if !t.contains("planning") {
            break t;
        }
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(text.contains("storage: mapped from the file"), "{text}");
    assert!(
        plan.text_for(&dir.path().join("missing.tif"), &LoadOptions::default())
            .contains("planning")
    );
}
