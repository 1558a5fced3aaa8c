//! Analysis in the viewer, driven through the viewer's state (no window): aggregate mode,
//! each ops source (preview and apply-to-full, undo), profiles with envelopes, a ROI
//! curve, and every export (turns, flips, crops and masks: `viewer_edits.rs`), checked against the CPU engine
//! (`ops`) the CLI tests cover. Bad input (a reference or mask of the wrong shape, an
//! export that cannot be written) gives a message and changes nothing.

mod common;

use std::path::Path;
use std::sync::Arc;

use blitz::engine::{Engine, EngineChoice};
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::profile::{self, Orientation};
use blitz::ops::reduce::{ReduceOp, reduce};
use blitz::ops::roi::{Roi, Stat, roi_series};
use blitz::ops::{FrameRange, transform};
use blitz::viewer::colormap::render_cpu;
use blitz::viewer::state::pipeline::SourceKind;
use blitz::viewer::state::{ExportDialog, ExportKind, Loaded, ViewerState};
use blitz::{LoadOptions, NoProgress, Shape, Stack};
use common::{demo_small as demo, viewer_of};

fn shown_values(v: &ViewerState) -> Vec<f32> {
    let (s, t) = v.shown();
    let f = s.frame(t);
    (0..f.len()).map(|i| f.get_f32(i)).collect()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            common::close(*x as f64, *y as f64, common::NORMALIZE_REL),
            "{what}: sample {i}: {x} vs {y}"
        );
    }
}

#[test]
fn aggregate_mode_shows_the_engine_reduce_of_the_selection() {
    let stack = demo();
    let mut v = viewer_of(demo());
    v.set_selection(3, 8);
    for op in ReduceOp::ALL {
        v.pipeline.agg_op = op;
        v.set_aggregate(true);
        v.update_shown();
        let want = reduce(&stack, op, FrameRange::new(3, 8)).unwrap();
        assert_close(&shown_values(&v), &want.data, op.name());
    }
    // dragging the range recomputes
    v.set_selection(0, 1);
    v.update_shown();
    let want = reduce(&stack, v.pipeline.agg_op, FrameRange::new(0, 1)).unwrap();
    assert_close(&shown_values(&v), &want.data, "moved range");
    // a large stack reduces off the UI thread: the same image once it arrives, and the
    // newest range wins when the range moves while one runs
    v.jobs.background_above = 0;
    v.set_selection(1, 9);
    v.update_shown();
    assert!(v.jobs.shown.is_some());
    v.set_selection(2, 10);
    v.wait_shown();
    let want = reduce(&stack, v.pipeline.agg_op, FrameRange::new(2, 10)).unwrap();
    assert_close(&shown_values(&v), &want.data, "background aggregate");
    // a result for a range already left is shown, but does not fix the levels: the
    // newest range's image refits them (keep fitting)
    v.pipeline.agg_op = ReduceOp::Sum;
    v.set_aggregate(true);
    v.set_selection(0, 1);
    v.update_shown();
    v.set_selection(0, 11);
    v.wait_shown();
    let sum = reduce(&stack, ReduceOp::Sum, FrameRange::new(0, 11)).unwrap();
    let (lo, hi) = sum
        .data
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert_eq!(
        (v.display.params.levels.min, v.display.params.levels.max),
        (lo, hi)
    );
    v.pipeline.agg_op = ReduceOp::Mean;
    v.set_aggregate(true);
    v.jobs.background_above = u64::MAX;
    v.set_selection(0, 1);
    v.update_shown();
    // back to frames: the frame is shown and the selection stays
    v.set_aggregate(false);
    v.update_shown();
    assert!(v.pipeline.shown.is_none());
    assert_eq!(v.pipeline.selection, FrameRange::new(0, 1));
    v.set_frame(5);
    let f = stack.frame(5);
    let raw: Vec<f32> = (0..f.len()).map(|i| f.get_f32(i)).collect();
    assert_eq!(shown_values(&v), raw);
}

#[test]
fn every_ops_source_previews_and_applies_as_the_engine_does() {
    let stack = demo();
    let dir = tempfile::tempdir().unwrap();
    // a reference file: the mean of frames 0..=3, written as .npy (one frame)
    let mean = reduce(&stack, ReduceOp::Mean, FrameRange::new(0, 3)).unwrap();
    let ref_path = dir.path().join("ref.npy");
    let ref_stack = Stack::from_vec(Shape::new(1, 20, 30, 1), mean.data.clone()).unwrap();
    blitz::export::write_npy(&ref_path, &ref_stack).unwrap();
    let reference = blitz::ops::normalize::load_reference(
        &ref_path,
        &LoadOptions::default(),
        Shape::new(12, 20, 30, 1),
    )
    .unwrap();

    let mut v = viewer_of(demo());
    v.set_selection(2, 5);
    v.set_frame(4);
    let cases: Vec<(&str, Normalize)> = vec![
        (
            "range",
            Normalize {
                subtract: Some(Step {
                    source: Source::Range {
                        op: ReduceOp::Mean,
                        range: FrameRange::new(2, 5),
                    },
                    amount: 1.0,
                }),
                divide: None,
            },
        ),
        (
            "file",
            Normalize {
                subtract: None,
                divide: Some(Step {
                    source: Source::File(reference.clone()),
                    amount: 0.5,
                }),
            },
        ),
        (
            "sliding",
            Normalize {
                subtract: Some(Step {
                    source: Source::Sliding {
                        op: ReduceOp::Max,
                        window: 3,
                        lag: 1,
                    },
                    amount: 0.7,
                }),
                divide: None,
            },
        ),
    ];
    for (name, n) in cases {
        v.pipeline.ops = Default::default();
        match name {
            "range" => v.pipeline.ops.subtract.kind = SourceKind::Range,
            "file" => {
                v.pipeline.ops.divide.kind = SourceKind::File;
                v.pipeline.ops.divide.file = Some((ref_path.clone(), reference.clone()));
                v.pipeline.ops.divide.amount = 0.5;
            }
            _ => {
                v.pipeline.ops.subtract.kind = SourceKind::Sliding;
                v.pipeline.ops.subtract.op = ReduceOp::Max;
                v.pipeline.ops.subtract.window = 3;
                v.pipeline.ops.subtract.lag = 1;
                v.pipeline.ops.subtract.amount = 0.7;
            }
        }
        assert_eq!(
            v.pipeline.ops.normalize(v.pipeline.selection).as_ref(),
            Some(&n),
            "{name}"
        );
        v.pipeline.shown_dirty = true;
        v.update_shown();
        assert!(v.error.is_none(), "{name}: {:?}", v.error);
        let want = n.preview(&stack, 4).unwrap();
        assert_close(&shown_values(&v), &want.data, &format!("{name} preview"));
        // apply to full: the displayed stack is the engine's result
        v.start_apply();
        v.wait_apply();
        assert!(v.error.is_none(), "{name}: {:?}", v.error);
        let full = n.apply(&stack).unwrap();
        assert_eq!(v.pipeline.stack.shape(), full.shape(), "{name}");
        let got: Vec<f32> = v.pipeline.stack.as_slice::<f32>().unwrap().to_vec();
        assert_close(
            &got,
            full.as_slice::<f32>().unwrap(),
            &format!("{name} apply"),
        );
        // undo: back to the raw stack
        v.change_pipeline("undo", |p| p.applied = None);
        assert!(
            Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw),
            "{name}: undo"
        );
    }
    // a reference of the wrong shape is refused with a message naming the file
    let wrong = dir.path().join("wrong.npy");
    let w = Stack::from_vec(Shape::new(1, 10, 30, 1), vec![1f32; 300]).unwrap();
    blitz::export::write_npy(&wrong, &w).unwrap();
    let e = blitz::ops::normalize::load_reference(
        &wrong,
        &LoadOptions::default(),
        Shape::new(12, 20, 30, 1),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("wrong.npy") && e.contains("1 frame(s) of 10 x 30 x 1"),
        "{e}"
    );
    assert!(e.contains("the data's 20 x 30 x 1"), "{e}");
}

#[test]
fn profiles_with_envelopes_and_a_roi_curve_match_the_engine() {
    let stack = demo();
    let mut v = viewer_of(demo());
    v.set_frame(7);
    v.profile.crosshair = Some((11, 6));
    v.profile.width = 2;
    v.profile.env_image = true;
    v.profile.env_band = true;
    v.profile.env_dataset = true;
    v.profile.env_q = 5;
    let p = v.profiles().unwrap().unwrap();
    assert_eq!(
        p.h,
        profile::profile(&stack, 7, Orientation::Row, 6, 2).unwrap()
    );
    assert_eq!(
        p.v,
        profile::profile(&stack, 7, Orientation::Col, 11, 2).unwrap()
    );
    let names: Vec<&str> = p.envelopes.iter().map(|e| e.0).collect();
    assert_eq!(names, ["min/max of the image", "crosshair band", "dataset"]);
    assert_eq!(
        p.envelopes[0].1,
        profile::image_envelope(&stack, 7, Orientation::Row, 5).unwrap()
    );
    assert_eq!(
        p.envelopes[1].2,
        profile::band_envelope(&stack, 7, Orientation::Col, 11, 2, 5).unwrap()
    );
    assert_eq!(
        p.envelopes[2].1,
        profile::dataset_envelope(&stack, Orientation::Row, 6, 2, 5).unwrap()
    );

    let roi = Roi::Polygon(vec![(2.0, 2.0), (25.0, 4.0), (12.0, 18.0)]);
    v.roi.region = Some(roi.clone());
    v.roi.stat = Stat::Median;
    v.compute_roi();
    let want = roi_series(&stack, &roi, Stat::Median, FrameRange::all(12)).unwrap();
    assert_eq!(v.roi.series.as_ref(), Some(&want));
}

#[test]
fn exports_write_what_is_shown_and_a_failed_export_loses_nothing() {
    let stack = demo();
    let mut v = viewer_of(demo());
    v.set_frame(3);
    v.profile.crosshair = Some((4, 5));
    v.profile.env_image = true;
    v.roi.region = Some(Roi::Rect {
        x: 1,
        y: 1,
        w: 6,
        h: 4,
    });
    v.compute_roi();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // the frame as shown: the CPU colormap of frame 3
    let png = d.join("frame.png");
    v.export_frame(&png).unwrap();
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.as_raw(), &render_cpu(&stack, 3, &v.display.params));
    // a range as numbered files
    let n = v.export_range(&d.join("frames"), "png", 2, 4).unwrap();
    assert_eq!(n, 3);
    assert!(d.join("frames/frame_002.png").exists() && d.join("frames/frame_004.png").exists());
    // the aggregate result as data
    v.set_selection(0, 11);
    v.set_aggregate(true);
    v.update_shown();
    let npy = d.join("mean.npy");
    v.export_stack(&npy).unwrap();
    let back = blitz::load(&npy, &LoadOptions::default(), &NoProgress).unwrap();
    let want = reduce(&stack, ReduceOp::Mean, FrameRange::all(12)).unwrap();
    assert_eq!(back.as_slice::<f32>().unwrap(), &want.data[..]);
    v.set_aggregate(false);
    v.update_shown();
    // profiles and ROI as CSV
    let csv = d.join("profiles.csv");
    v.export_profiles(&csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    // `# ` lines first say what produced the file
    assert!(text.starts_with("# written by blitz"), "{text}");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "position,h_value,h_image_env_min,h_image_env_max,v_value,v_image_env_min,v_image_env_max"
    );
    let p = profile::profile(&stack, 3, Orientation::Row, 5, 0).unwrap();
    let first: Vec<f32> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!((first[0], first[1]), (0.5, p.get(0, 0)));
    assert_eq!(
        text.lines().count(),
        1 + 30,
        "one row per position of the longer profile"
    );
    let roi_csv = d.join("roi.csv");
    v.export_roi(&roi_csv).unwrap();
    let roi = std::fs::read_to_string(&roi_csv).unwrap();
    // the layout of `blitz roi` with the source's frame numbers and times, after comments
    let roi: Vec<&str> = roi.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(roi[0], "frame,source_frame,time_s,value,min,max");
    assert_eq!(roi.len(), 13);

    // an export that cannot be written: an error, the file already there untouched
    let keep = d.join("keep.png");
    std::fs::write(&keep, b"precious").unwrap();
    let blocker = d.join(format!(".keep.png.part-{}", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    let mut dialog = ExportDialog {
        kind: ExportKind::Frame,
        path: keep.display().to_string(),
        first: 0,
        last: 0,
        ext: "png",
        // agreed to replace: what is tested is a write that fails
        replace: true,
    };
    let e = v.run_export(&dialog).unwrap_err().to_string();
    assert!(e.contains("keep.png"), "{e}");
    assert_eq!(std::fs::read(&keep).unwrap(), b"precious");
    // a folder that cannot be created (its parent is a file), and a read-only file system
    dialog.kind = ExportKind::Range;
    dialog.path = keep.join("frames").display().to_string();
    assert!(v.run_export(&dialog).is_err());
    assert!(
        v.export_stack(Path::new("/proc/blitz-export-test.npy"))
            .is_err()
    );
}

/// Regressions found in review: a stale apply-to-full, the timeline crop's frame and
/// selection mapping, nested crops, refits of the aggregate, ROI series after a change,
/// exports with previewed ops, and a frame-range export that fails half-way.
#[test]
fn review_regressions() {
    // an apply-to-full that finishes after a new stack was loaded is dropped
    let mut v = viewer_of(demo());
    v.pipeline.ops.subtract.kind = SourceKind::Sliding;
    v.start_apply();
    let other = Stack::from_vec(Shape::new(3, 4, 5, 1), vec![7u8; 60]).unwrap();
    v.set_loaded(Loaded {
        path: "other".into(),
        stack: other,
        histogram: None,
        seconds: 0.0,
    });
    v.wait_apply();
    assert_eq!(v.pipeline.stack.shape(), Shape::new(3, 4, 5, 1));
    assert!(Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw));

    // ... while a timeline crop waits for it (instead of dropping it unseen)
    let mut v = viewer_of(demo());
    v.pipeline.ops.subtract.kind = SourceKind::Sliding;
    v.start_apply();
    v.crop_timeline(FrameRange::new(2, 4));
    assert!(v.error.take().unwrap().contains("wait until"));
    v.wait_apply();
    assert!(v.pipeline.steps.applied.is_some());
    v.crop_timeline(FrameRange::new(2, 4));
    assert_eq!(v.pipeline.stack.shape().frames, 3);
    assert!(v.pipeline.steps.applied.is_none());

    // timeline crop and its undo keep frame and selection on the same frames
    let stack = demo();
    let mut v = viewer_of(demo());
    v.set_selection(5, 8);
    v.set_frame(6);
    v.pipeline.agg_op = ReduceOp::Mean;
    v.set_aggregate(true);
    v.update_shown();
    let before = shown_values(&v);
    v.crop_timeline(v.pipeline.selection);
    v.update_shown();
    assert_eq!(v.pipeline.selection, FrameRange::new(0, 3));
    assert_eq!(v.playback.frame, 1, "frame 6 is index 1 of 5..=8");
    assert_eq!(shown_values(&v), before);
    v.undo_timeline_crop();
    v.update_shown();
    assert_eq!(
        (v.pipeline.selection, v.playback.frame),
        (FrameRange::new(5, 8), 6)
    );
    assert_eq!(shown_values(&v), before);
    // in aggregate mode a frame change does not recompute the aggregate
    v.set_frame(2);
    assert!(!v.pipeline.shown_dirty);
    // keep fitting refits when the aggregate op changes
    v.pipeline.agg_op = ReduceOp::Std;
    v.set_aggregate(true);
    v.update_shown();
    let std = reduce(&stack, ReduceOp::Std, FrameRange::new(5, 8)).unwrap();
    let hi = std.data.iter().cloned().fold(f32::MIN, f32::max);
    assert_eq!(v.display.params.levels.max, hi);
    v.set_aggregate(false);
    v.update_shown();

    // nested crops stay inside the current slice
    v.crop_to_rect(5, 5, 10, 10);
    v.crop_to_rect(5, 0, 10, 10);
    assert_eq!(
        (
            v.pipeline.stack.shape().width,
            v.pipeline.stack.shape().height
        ),
        (5, 10)
    );
    let want = transform::crop(&stack, 10, 5, 5, 10).unwrap();
    assert_eq!(v.pipeline.stack.as_slice::<u8>(), want.as_slice::<u8>());

    // a ROI kept across a change gets its series from the new stack
    let mut v = viewer_of(demo());
    v.roi.region = Some(Roi::Rect {
        x: 1,
        y: 1,
        w: 4,
        h: 3,
    });
    v.compute_roi();
    v.change_pipeline("crop", |p| p.timeline_crop = Some(FrameRange::new(2, 11)));
    let cropped = transform::crop_frames(&stack, FrameRange::new(2, 11)).unwrap();
    let want = roi_series(
        &cropped,
        v.roi.region.as_ref().unwrap(),
        Stat::Mean,
        FrameRange::all(10),
    )
    .unwrap();
    assert_eq!(v.roi.series.as_ref(), Some(&want));
    // a flip is a view: the ROI keeps its pixels (it turns with the picture), and so
    // its series
    v.toggle_flip_x();
    assert_eq!(v.roi.series.as_ref(), Some(&want));
    assert_eq!(
        v.roi.region,
        Some(Roi::Rect {
            x: 1,
            y: 1,
            w: 4,
            h: 3
        })
    );

    // previewed ops: exports of the stack or a range refuse rather than write raw data
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    let dir = tempfile::tempdir().unwrap();
    let e = v
        .export_stack(&dir.path().join("s.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Apply to full"), "{e}");
    assert!(v.export_range(dir.path(), "png", 0, 1).is_err());
    v.pipeline.ops.subtract.kind = SourceKind::Off;

    // a range export that fails on one frame changes no file
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for name in ["frame_000.png", "frame_001.png", "frame_003.png"] {
        std::fs::write(frames.join(name), b"old").unwrap();
    }
    std::fs::create_dir(frames.join("frame_002.png")).unwrap();
    let e = v
        .export_range(&frames, "png", 0, 3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame_002.png") || e.contains("frame 2"), "{e}");
    for name in ["frame_000.png", "frame_001.png", "frame_003.png"] {
        assert_eq!(std::fs::read(frames.join(name)).unwrap(), b"old", "{name}");
    }
    let left: Vec<_> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 4, "no temporary file is left: {left:?}");
}

/// The demo stack written as .npy under `dir` and opened again, memory-mapped, in a
/// viewer: every full-stack computation on it runs as a background job.
fn mapped_viewer(dir: &Path) -> ViewerState {
    let p = dir.join("demo.npy");
    blitz::export::write_npy(&p, &demo()).unwrap();
    let stack = blitz::load(&p, &LoadOptions::default(), &NoProgress).unwrap();
    assert!(stack.is_mapped());
    viewer_of(stack)
}

#[test]
fn on_a_mapped_stack_aggregate_roi_envelope_and_references_run_as_jobs() {
    let stack = demo();
    let dir = tempfile::tempdir().unwrap();
    let mut v = mapped_viewer(dir.path());

    // aggregate: a job, the same image once it arrives; cancel turns the mode off
    v.set_selection(2, 9);
    v.pipeline.agg_op = ReduceOp::Max;
    v.set_aggregate(true);
    v.update_shown();
    assert!(v.jobs.shown.is_some());
    v.wait_jobs();
    let want = reduce(&stack, ReduceOp::Max, FrameRange::new(2, 9)).unwrap();
    assert_close(&shown_values(&v), &want.data, "mapped aggregate");
    v.set_selection(0, 11);
    v.update_shown();
    v.cancel_job(blitz::viewer::state::JobKind::Aggregate);
    assert!(v.pipeline.aggregate.is_none() && v.jobs.shown.is_none());
    v.update_shown();
    assert!(v.pipeline.shown.is_none(), "back to the frame");

    // ROI series: a job over runs of frames, equal to one call
    let roi = Roi::Rect {
        x: 2,
        y: 3,
        w: 9,
        h: 7,
    };
    v.roi.region = Some(roi.clone());
    v.compute_roi();
    assert!(v.jobs.roi.is_some() && v.roi.series.is_none());
    v.wait_jobs();
    let want = roi_series(&stack, &roi, Stat::Mean, FrameRange::all(12)).unwrap();
    assert_eq!(v.roi.series.as_ref(), Some(&want));

    // the dataset envelope arrives after the other profiles, from a job
    v.profile.crosshair = Some((11, 6));
    v.profile.env_dataset = true;
    let first = v.profiles().unwrap().unwrap();
    assert!(first.envelopes.is_empty());
    assert!(v.jobs.envelope.is_some());
    v.wait_jobs();
    let p = v.profiles().unwrap().unwrap();
    assert_eq!(p.envelopes.len(), 1);
    let want = profile::dataset_envelope(&stack, Orientation::Col, 11, 0, 0).unwrap();
    assert_eq!(p.envelopes[0].2, want);

    // a Range reference of the preview is reduced in a job; the preview waits for it
    v.set_frame(4);
    v.set_selection(1, 6);
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    v.ops_changed();
    v.update_shown();
    assert!(v.jobs.reference.is_some() && v.pipeline.shown.is_none());
    v.wait_jobs();
    let n = v.pipeline.ops.normalize(v.pipeline.selection).unwrap();
    assert_close(
        &shown_values(&v),
        &n.preview(&stack, 4).unwrap().data,
        "mapped preview",
    );

    // a change of the stack drops the jobs computing from the old one
    v.compute_roi();
    assert!(v.jobs.roi.is_some());
    assert!(v.change_pipeline("crop", |p| p.timeline_crop = Some(FrameRange::new(0, 11))));
    assert!(
        v.jobs.rebuild.is_some() && v.pipeline.stack.is_mapped(),
        "a mapped stack is copied in the background; the stack shown stays until then"
    );
    v.wait_jobs();
    assert!(
        !v.pipeline.stack.is_mapped(),
        "a timeline crop copies the frames"
    );
    assert!(v.jobs.reference.is_none());
    let want = roi_series(
        &transform::crop_frames(&stack, FrameRange::new(0, 11)).unwrap(),
        &roi,
        Stat::Mean,
        FrameRange::all(12),
    )
    .unwrap();
    assert_eq!(
        v.roi.series.as_ref(),
        Some(&want),
        "computed again, at once (in RAM)"
    );
}

#[test]
fn apply_to_full_runs_in_runs_of_frames_and_cancel_stops_it() {
    use blitz::viewer::state::JobCtx;
    use blitz::viewer::state::apply::normalize_in_runs;
    let stack = Arc::new(demo());
    let engine = Engine::new(EngineChoice::Cpu);
    let n = Normalize {
        subtract: Some(Step {
            source: Source::Sliding {
                op: ReduceOp::Mean,
                window: 3,
                lag: 1,
            },
            amount: 0.8,
        }),
        divide: Some(Step {
            source: Source::Range {
                op: ReduceOp::Max,
                range: FrameRange::new(0, 5),
            },
            amount: 0.5,
        }),
    };
    let whole = n.apply(&stack).unwrap();
    for per in [1, 2, 5, 100] {
        let (got, _) = normalize_in_runs(&engine, &stack, &n, per, &JobCtx::default()).unwrap();
        assert_eq!(got.shape(), whole.shape(), "runs of {per}");
        assert_close(
            got.as_slice::<f32>().unwrap(),
            whole.as_slice::<f32>().unwrap(),
            &format!("runs of {per}"),
        );
    }
    // cancel after the first run: the job ends with Cancelled, having done one run
    let big = Arc::new(blitz::bench::random_stack::<u8>(Shape::new(400, 128, 128, 1)).unwrap());
    let sliding = Normalize::subtract_sliding(ReduceOp::Median, 20, 0);
    let b = big.clone();
    let job = blitz::viewer::state::Job::spawn("apply", move |ctx| {
        normalize_in_runs(&Engine::new(EngineChoice::Cpu), &b, &sliding, 1, ctx)
    });
    let t0 = std::time::Instant::now();
    while job.status().done == 0 {
        assert!(t0.elapsed().as_secs() < 60);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    job.cancel();
    let done_at_cancel = job.status().done;
    let r = job.wait();
    assert!(
        matches!(r, Err(blitz::viewer::ViewerError::Cancelled)),
        "{r:?}"
    );
    assert!(done_at_cancel < 381, "{done_at_cancel} of 381 runs");

    // through the viewer: Cancel drops the job, the stack shown stays
    let mut v = viewer_of(demo());
    v.pipeline.ops.subtract.kind = SourceKind::Sliding;
    v.start_apply();
    v.cancel_job(blitz::viewer::state::JobKind::Apply);
    assert!(v.jobs.apply.is_none());
    assert!(v.status.contains("cancelled"), "{}", v.status);
    assert!(Arc::ptr_eq(&v.pipeline.stack, &v.pipeline.raw));
}

#[test]
fn a_frame_range_exported_in_the_background_or_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = viewer_of(demo());
    let d = ExportDialog {
        kind: ExportKind::Range,
        path: dir.path().join("frames").display().to_string(),
        first: 1,
        last: 10,
        ext: "png",
        replace: false,
    };
    assert_eq!(v.start_export(&d).unwrap(), None, "runs as a job");
    v.wait_jobs();
    assert_eq!(v.status, format!("10 frames written to {}", d.path));
    assert!(v.error.is_none());
    assert!(dir.path().join("frames/frame_010.png").exists());
    // a frame export is written at once
    let f = ExportDialog {
        kind: ExportKind::Frame,
        path: dir.path().join("f.png").display().to_string(),
        ..d
    };
    assert!(v.start_export(&f).unwrap().is_some());
    assert!(dir.path().join("f.png").exists());
    // cancelled: no frame file is left (or, when the cancel came too late, all of them)
    let frames: Vec<u8> = (0..300 * 64 * 64).map(|i| (i % 251) as u8).collect();
    let mut v = viewer_of(Stack::from_vec(Shape::new(300, 64, 64, 1), frames).unwrap());
    let out = dir.path().join("many");
    let d = ExportDialog {
        kind: ExportKind::Range,
        path: out.display().to_string(),
        first: 0,
        last: 299,
        ext: "png",
        replace: false,
    };
    v.start_export(&d).unwrap();
    v.cancel_job(blitz::viewer::state::JobKind::Export);
    v.wait_jobs();
    let left = std::fs::read_dir(&out).map_or(0, |r| r.count());
    if v.status.contains("cancelled") {
        assert_eq!(left, 0, "{}", v.status);
    } else {
        assert_eq!(left, 300, "{}", v.status);
    }
}

#[test]
fn a_command_line_set_up_reaches_the_viewer() {
    use blitz::viewer::setup::{AggregateSpec, Crosshair, ViewSetup};
    let stack = demo();
    let mut v = viewer_of(demo());
    let setup = ViewSetup {
        aggregate: Some(AggregateSpec {
            op: ReduceOp::Max,
            range: Some(FrameRange::new(2, 6)),
        }),
        subtract: Some(Source::Sliding {
            op: ReduceOp::Mean,
            window: 3,
            lag: 1,
        }),
        divide: None,
        apply: true,
        crosshair: Some(Crosshair { x: 11, y: 6 }),
        width: 2,
        envelopes: true,
        roi: Some(Roi::Rect {
            x: 1,
            y: 2,
            w: 5,
            h: 4,
        }),
        pins: vec![Crosshair { x: 3, y: 4 }, Crosshair { x: 7, y: 1 }],
        pca: None,
        line: None,
        kymograph: false,
        rois: Vec::new(),
        calibration: Default::default(),
        orient: "rot90,flipy".parse().unwrap(),
    };
    v.apply_setup(&setup);
    // shown turned and flipped, as a view of the stack
    let o = v.pipeline.steps.transforms;
    assert_eq!((o.rot90, o.flip_x, o.flip_y), (1, false, true));
    assert_eq!(v.display_size(), (20, 30));
    assert_eq!(v.roi.pins, vec![(3, 4), (7, 1)]);
    // applied to the full stack: 12 frames, window 3 at lag 1 give 12 - 1 - 3 + 1
    assert!(v.pipeline.steps.applied.is_some());
    assert_eq!(v.pipeline.stack.shape().frames, 9);
    let a = v.pipeline.aggregate.expect("aggregate mode");
    assert_eq!((a.op, a.range), (ReduceOp::Max, FrameRange::new(2, 6)));
    // what is shown: the max over frames 2..=6 of the normalized frames, by the oracles
    let normalized = common::naive::subtract_sliding(&stack, ReduceOp::Mean, 3, 1);
    let frame = 20 * 30;
    let want: Vec<f64> = (0..frame)
        .map(|i| {
            (2..=6)
                .map(|t| normalized[t * frame + i])
                .fold(f64::MIN, f64::max)
        })
        .collect();
    common::assert_all_close(&shown_values(&v), &want, common::NORMALIZE_REL, "shown");
    assert_eq!(v.profile.crosshair, Some((11, 6)));
    assert_eq!(v.profile.width, 2);
    assert!(v.profile.env_image && v.profile.env_band && v.profile.env_dataset);
    assert_eq!(v.roi.region, setup.roi);
    v.wait_jobs();
    assert_eq!(v.roi.series.as_ref().map(|s| s.frames.len()), Some(9));
}
