//! The viewer's edits of the whole stack, driven through its state (no window): turns and
//! flips are a view (no copy; exports write what is shown), crops and masks follow the
//! `ops::transform` functions, every change is undone by Ctrl+Z, large copies run in a
//! background job that Cancel stops with nothing changed, and a copy that does not fit
//! in RAM is refused with a message. Also what the window says it shows: the caption,
//! the probe's kind of values and coordinates, the levels fit of each scope, and
//! playback that shows every frame (or says what it skipped).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use blitz::ops::reduce::ReduceOp;
use blitz::ops::{FrameRange, transform};
use blitz::viewer::state::caption::Values;
use blitz::viewer::state::pipeline::SourceKind;
use blitz::viewer::state::{Command, HistScope, JobKind, Loaded};
use blitz::viewer::ui::key_commands;
use blitz::{Shape, Stack};
use common::{demo_small as demo, viewer_of};
use egui::{Event, Key, Modifiers};

fn ctrl_z() -> Vec<Command> {
    key_commands(&[Event::Key {
        key: Key::Z,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::COMMAND,
    }])
}

#[test]
fn transforms_masks_and_timeline_crop_follow_the_ops_functions() {
    let stack = demo();
    let mut v = viewer_of(demo());
    // rotate and flip are a view: the stack is not copied, the frame is shown turned
    // (20 high and 30 wide, it is shown 20 wide and 30 high), and an export writes it
    // as shown
    let before = v.pipeline.stack.clone();
    v.rotate90();
    v.toggle_flip_x();
    assert!(Arc::ptr_eq(&before, &v.pipeline.stack), "no copy");
    assert_eq!(v.display_size(), (20, 30));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("turned.npy");
    v.export_stack(&out).unwrap();
    let written = blitz::load::load(&out, &Default::default(), &blitz::load::NoProgress).unwrap();
    assert_eq!(written.shape(), Shape::new(12, 30, 20, 1));
    // a quarter turn clockwise then a flip left to right is the transpose
    for t in [0, 5, 11] {
        for i in 0..30 {
            for j in 0..20 {
                assert_eq!(
                    written.value(t, i, j, 0),
                    stack.value(t, j, i, 0),
                    "{t} {i} {j}"
                );
            }
        }
    }
    v.reset_masks_and_transforms();
    assert!(v.pipeline.steps.transforms.is_identity());
    // timeline crop first, then a ROI mask; undo of the crop keeps the mask
    v.change_pipeline("crop", |p| p.timeline_crop = Some(FrameRange::new(4, 9)));
    v.change_pipeline("mask", |p| {
        p.roi_mask = Some(blitz::viewer::state::pipeline::RoiMask {
            x: 3,
            y: 2,
            w: 10,
            h: 5,
        })
    });
    let want = transform::roi_mask(
        &transform::crop_frames(&stack, FrameRange::new(4, 9)).unwrap(),
        3,
        2,
        10,
        5,
    )
    .unwrap();
    assert_eq!(v.pipeline.stack.shape(), want.shape());
    assert_eq!(v.pipeline.stack.as_slice::<u8>(), want.as_slice::<u8>());
    v.change_pipeline("uncrop", |p| p.timeline_crop = None);
    assert_eq!(v.pipeline.stack.shape(), Shape::new(12, 5, 10, 1));

    // a binary mask: zeros become NaN; one of the wrong size is refused, nothing changes
    v.change_pipeline("reset", |p| p.roi_mask = None);
    let dir = tempfile::tempdir().unwrap();
    let mask_path = dir.path().join("mask.npy");
    let mask: Vec<u8> = (0..600).map(|i| (i % 7 != 0) as u8).collect();
    blitz::export::write_npy(
        &mask_path,
        &Stack::from_vec(Shape::new(1, 20, 30, 1), mask.clone()).unwrap(),
    )
    .unwrap();
    v.load_mask(&mask_path);
    assert!(v.error.is_none(), "{:?}", v.error);
    let m = Stack::from_vec(Shape::new(1, 20, 30, 1), mask).unwrap();
    let want = transform::binary_mask(&stack, &m).unwrap();
    let got = v.pipeline.stack.as_slice::<f32>().unwrap();
    let exp = want.as_slice::<f32>().unwrap();
    assert!(
        got.iter()
            .zip(exp)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
    );
    let before = v.pipeline.stack.clone();
    let small = dir.path().join("small.npy");
    blitz::export::write_npy(
        &small,
        &Stack::from_vec(Shape::new(1, 5, 5, 1), vec![1u8; 25]).unwrap(),
    )
    .unwrap();
    v.load_mask(&small);
    let e = v.error.take().expect("a message");
    assert!(e.contains("small.npy"), "{e}");
    assert!(Arc::ptr_eq(&v.pipeline.stack, &before));
}

#[test]
fn ctrl_z_takes_back_each_change_in_turn() {
    let stack = Arc::new(demo());
    let mut v = viewer_of(demo());
    v.set_frame(7);
    v.rotate90();
    v.toggle_flip_x();
    v.crop_to_rect(2, 3, 10, 8);
    assert_eq!(v.pipeline.stack.shape(), Shape::new(12, 8, 10, 1));
    v.crop_timeline(FrameRange::new(2, 9));
    assert_eq!(v.pipeline.stack.shape(), Shape::new(8, 8, 10, 1));
    assert_eq!(v.playback.frame, 5, "frame 7 is the 6th kept");
    assert_eq!(v.undo.len(), 4);
    // Ctrl+Z is the undo command; the timeline crop goes, frame 7 is shown again
    assert_eq!(ctrl_z(), vec![Command::Undo]);
    for c in ctrl_z() {
        v.command(c);
    }
    assert_eq!(v.pipeline.stack.shape(), Shape::new(12, 8, 10, 1));
    assert_eq!(v.playback.frame, 7);
    assert!(v.status.contains("undone"), "{}", v.status);
    // the ROI crop goes: the loaded stack itself is shown again, still turned
    v.undo();
    assert!(Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw));
    assert_eq!(v.pipeline.steps.transforms.rot90, 1);
    assert!(v.pipeline.steps.transforms.flip_x);
    v.undo();
    assert!(!v.pipeline.steps.transforms.flip_x);
    v.undo();
    assert!(v.pipeline.steps.transforms.is_identity());
    assert!(v.undo.is_empty());
    v.undo();
    assert_eq!(v.status, "nothing to undo");

    // an apply to full is undone too: back to the loaded samples
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    v.ops_changed();
    v.start_apply();
    v.wait_jobs();
    assert!(v.error.is_none(), "{:?}", v.error);
    assert_eq!(v.pipeline.stack.dtype(), blitz::Dtype::F32);
    v.undo();
    assert!(Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw));
    assert_eq!(v.pipeline.stack.as_slice::<u8>(), stack.as_slice::<u8>());
    // a new stack forgets the history of the old one
    v.rotate90();
    v.set_loaded(Loaded {
        path: "other".into(),
        stack: demo(),
        histogram: None,
        seconds: 0.0,
    });
    assert!(v.undo.is_empty());
}

#[test]
fn a_large_copy_runs_in_the_background_and_cancel_changes_nothing() {
    let mut v = viewer_of(demo());
    // every copy counts as large here
    v.jobs.background_above = 0;
    let before = v.pipeline.stack.clone();
    v.crop_to_rect(2, 3, 10, 8);
    assert!(v.jobs.rebuild.is_some(), "the crop runs as a job");
    assert!(Arc::ptr_eq(&before, &v.pipeline.stack), "shown until done");
    assert!(
        v.jobs.running().iter().any(|(k, _)| *k == JobKind::Rebuild),
        "listed with a progress bar"
    );
    // a second change waits for the first
    v.crop_timeline(FrameRange::new(0, 3));
    assert!(v.error.take().unwrap().contains("wait until"));
    v.cancel_job(JobKind::Rebuild);
    v.wait_jobs();
    assert!(Arc::ptr_eq(&before, &v.pipeline.stack), "nothing changed");
    assert!(v.pipeline.steps.roi_mask.is_none());
    assert!(v.undo.is_empty(), "nothing to undo");
    assert!(v.status.contains("cancelled"), "{}", v.status);
    // run to the end, it is in and undoable
    v.crop_to_rect(2, 3, 10, 8);
    v.wait_jobs();
    let want = transform::roi_mask(&before, 2, 3, 10, 8).unwrap();
    assert_eq!(v.pipeline.stack.as_slice::<u8>(), want.as_slice::<u8>());
    assert_eq!(v.undo.len(), 1);
}

#[test]
fn a_copy_that_does_not_fit_in_ram_is_refused_with_a_message() {
    let mut v = viewer_of(demo());
    let before = v.pipeline.stack.clone();
    // 1000 bytes of RAM: a timeline crop of 6 frames copies 3600
    v.jobs.ram_limit = Some(1000);
    v.crop_timeline(FrameRange::new(0, 5));
    let e = v.error.take().unwrap();
    assert!(
        e.contains("copies 3.6 kB") && e.contains("1.0 kB available"),
        "{e}"
    );
    assert!(e.contains("Nothing was changed"), "{e}");
    assert!(Arc::ptr_eq(&before, &v.pipeline.stack));
    assert!(v.undo.is_empty());
    // apply to full: 12 frames of f32, refused before any work, naming the way out
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    v.ops_changed();
    v.start_apply();
    let e = v.error.take().unwrap();
    assert!(
        e.contains("apply to full") && e.contains("blitz normalize"),
        "{e}"
    );
    assert!(v.jobs.apply.is_none());
    // a turn is a view: no memory needed
    v.pipeline.ops.subtract.kind = SourceKind::Off;
    v.ops_changed();
    v.rotate90();
    assert!(v.error.is_none());
    assert_eq!(v.display_size(), (20, 30));
    // but writing the stack turned needs a copy: refused, no file written
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("turned.npy");
    let e = v.export_stack(&out).unwrap_err().to_string();
    assert!(e.contains("copy"), "{e}");
    assert!(!out.exists());
}

#[test]
fn the_caption_and_the_probe_say_what_is_shown() {
    let mut v = viewer_of(demo());
    v.set_frame(4);
    assert_eq!(v.caption(), "frame 4");
    assert!(v.probe_text(1, 1).ends_with("(u8, raw)"));
    // a sliding window of 3 fits frames 0..=9 of 12: frame 11 is shown raw, and says so
    let sub = &mut v.pipeline.ops.subtract;
    sub.kind = SourceKind::Sliding;
    sub.window = 3;
    v.ops_changed();
    v.update_shown();
    assert_eq!(v.caption(), "frame 4, ops previewed");
    assert_eq!(v.shown_values(), Values::Preview);
    assert!(v.probe_text(1, 1).ends_with("(f32, ops preview)"));
    v.set_frame(11);
    v.update_shown();
    assert!(v.preview_is_raw());
    assert_eq!(
        v.caption(),
        "frame 11 raw: the sliding window (3 frames, lag 0) does not fit (it fits frames 0..=9)"
    );
    assert!(v.probe_text(1, 1).ends_with("(f32, raw)"));
    // the pixel series read the displayed stack: raw until the ops are applied
    assert_eq!(v.stack_values(), Values::Raw);
    v.pipeline.ops.subtract.kind = SourceKind::Off;
    v.ops_changed();
    // an aggregate
    v.set_selection(3, 8);
    v.set_agg_op(ReduceOp::Std);
    v.set_aggregate(true);
    v.update_shown();
    assert_eq!(v.caption(), "std of frames 3..=8");
    assert!(v.probe_text(0, 0).ends_with("(f32, std)"));
    v.set_aggregate(false);
    v.update_shown();
    // after a crop to a ROI the probe keeps the loaded frame's coordinates
    v.crop_to_rect(5, 4, 10, 10);
    let p = v.probe_text(0, 0);
    assert!(p.starts_with("x 5  y 4 "), "{p}");
    assert_eq!(v.loaded_xy(2, 3), (7, 7));
    assert!(v.caption().contains("cropped to x 5 y 4, 10 x 10"));
    v.rotate90();
    assert!(
        v.caption().ends_with("shown turned 90° clockwise"),
        "{}",
        v.caption()
    );
}

#[test]
fn fit_now_fits_the_histogram_of_its_scope() {
    // frame 0 holds 0..=9, frame 1 holds 100..=199
    let data: Vec<u8> = (0..100u32)
        .map(|i| (i % 10) as u8)
        .chain((0..100u32).map(|i| 100 + i as u8))
        .collect();
    let mut v = viewer_of(Stack::from_vec(Shape::new(2, 10, 10, 1), data).unwrap());
    v.display.auto_colormap = false;
    v.display.keep_fitting = false;
    v.display.scope = HistScope::Frame;
    v.fit_levels();
    let l = v.display.params.levels;
    assert!(
        l.min <= 0.5 && l.max <= 10.5 && l.max >= 9.0,
        "frame 0: {l:?}"
    );
    v.display.scope = HistScope::Stack;
    v.fit_levels();
    let l = v.display.params.levels;
    assert!(l.min <= 0.5 && l.max >= 199.0, "stack: {l:?}");
}

#[test]
fn slow_playback_shows_every_frame_or_says_what_it_skipped() {
    let s = Stack::from_vec(Shape::new(50, 1, 1, 1), (0..50u8).collect()).unwrap();
    let mut v = viewer_of(s);
    // 8 fps: a frame every 125 ms, a time binary fractions hold exactly
    v.playback.set_fps(8.0);
    v.playback.playing = true;
    let t0 = Instant::now();
    let ms = |m: u64| t0 + Duration::from_millis(m);
    // draws every 375 ms: each draw shows the next frame, none is skipped
    for (i, m) in [0, 375, 750, 1125, 1500, 1875].into_iter().enumerate() {
        v.tick(ms(m));
        assert_eq!(v.playback.frame, i, "at {m} ms");
    }
    let got = v.playback.achieved_fps().unwrap();
    assert!((got - 1000.0 / 375.0).abs() < 0.01, "{got}");
    let says = v.playback.shortfall().unwrap();
    assert!(says.contains("every frame is shown"), "{says}");
    // keeping the rate instead: the frames of the clock, the skipped ones counted
    v.playback.toggle();
    v.tick(ms(1900));
    v.playback.toggle();
    v.playback.skip_frames = true;
    v.set_frame(0);
    for (k, want) in [0, 3, 6, 9, 12, 15].into_iter().enumerate() {
        v.tick(ms(2000 + 375 * k as u64));
        assert_eq!(v.playback.frame, want, "draw {k}");
    }
    assert_eq!(v.playback.skipped, 10);
    let says = v.playback.shortfall().unwrap();
    assert!(says.contains("10 frames skipped"), "{says}");
    // a machine that keeps up says nothing
    v.playback.toggle();
    v.tick(ms(4900));
    v.playback.toggle();
    v.playback.skip_frames = false;
    for k in 0..10u64 {
        v.tick(ms(5000 + 125 * k));
    }
    assert_eq!(v.playback.frame, 15 + 9);
    assert_eq!(v.playback.shortfall(), None);
}

#[test]
fn edits_that_race_a_load_or_an_apply_change_nothing_behind_the_users_back() {
    // a rebuild still running when another stack loads is dropped with the old stack
    let mut v = viewer_of(demo());
    v.jobs.background_above = 0;
    v.crop_to_rect(2, 3, 10, 8);
    assert!(v.jobs.rebuild.is_some());
    v.set_loaded(Loaded {
        path: "other".into(),
        stack: Stack::from_vec(Shape::new(3, 4, 5, 1), vec![7u8; 60]).unwrap(),
        histogram: None,
        seconds: 0.0,
    });
    v.wait_jobs();
    assert!(Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw));
    assert_eq!(v.pipeline.stack.shape(), Shape::new(3, 4, 5, 1));
    assert!(v.pipeline.steps.roi_mask.is_none() && v.undo.is_empty());

    // while an apply to full runs, a crop waits for it (and an apply for a crop)
    let mut v = viewer_of(demo());
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    v.ops_changed();
    v.start_apply();
    v.crop_timeline(FrameRange::new(0, 5));
    let e = v.error.take().unwrap();
    assert!(e.contains("wait until \"apply to full\""), "{e}");
    v.wait_jobs();
    assert_eq!(v.pipeline.stack.shape().frames, 12, "the crop was not made");
    assert!(v.pipeline.steps.applied.is_some(), "the apply was kept");
    v.jobs.background_above = 0;
    v.undo();
    v.crop_to_rect(1, 1, 5, 5);
    v.start_apply();
    assert!(v.error.take().unwrap().contains("wait until"));
    v.wait_jobs();
    assert!(v.pipeline.steps.applied.is_none());
}

#[test]
fn undo_keeps_the_frame_unless_the_timeline_crop_changes() {
    let mut v = viewer_of(demo());
    v.set_frame(3);
    v.toggle_flip_x();
    v.set_frame(8);
    v.set_selection(2, 9);
    v.undo();
    assert_eq!(v.playback.frame, 8, "a flip's undo leaves the frame");
    assert_eq!(v.pipeline.selection, FrameRange::new(2, 9));
    // undoing a timeline crop shows the same loaded frame
    v.crop_timeline(FrameRange::new(4, 10));
    assert_eq!(v.playback.frame, 4);
    v.set_frame(5);
    v.undo();
    assert_eq!(v.playback.frame, 9, "frame 5 of the crop is loaded frame 9");
    // a change that changes nothing is not an undo step
    v.reset_masks_and_transforms();
    assert!(v.undo.is_empty());
    // an undo that turns the frame back fits the view again
    v.rotate90();
    v.crop_to_rect(0, 0, 30, 10);
    v.view.fit = false;
    v.reset_masks_and_transforms();
    assert!(v.view.fit, "20 x 30 shown 30 wide again: refitted");
}
