//! The line tool in the viewer, driven through its state: the profile along a line at
//! any angle and its kymograph over the selection are the library's (`ops::kymograph`,
//! the functions `blitz profile --line` and `blitz kymograph` call), a click on the
//! kymograph shows its frame and marks its position, the kymograph exports, clicks make
//! the line a polyline whose dataset envelope comes from its kymograph, and a line too
//! short or outside the frame says so.

mod common;

use blitz::ops::FrameRange;
use blitz::ops::kymograph::{Line, kymograph, line_envelope, line_profile};
use blitz::viewer::state::{ExportKind, Loaded};
use blitz::{LoadOptions, NoProgress};
use common::{demo_small as demo, export_to};

#[test]
fn a_line_gives_its_profile_and_kymograph_and_the_kymograph_moves_the_view() {
    let stack = demo();
    let mut v = common::viewer_of(demo());
    v.profile.width = 1;
    v.set_frame(4);
    v.line_drag((2.5, 3.0), (25.0, 17.5));
    let line = Line {
        points: vec![(2.5, 3.0), (25.0, 17.5)],
        width: 1,
    };
    let (p, arc) = v.line_profile().unwrap().unwrap();
    let want = line_profile(&stack, 4, &line).unwrap();
    assert_eq!(p.values, want.values);
    assert_eq!(arc, line.arc_lengths());
    // the kymograph of the selection, in the background
    v.set_selection(2, 9);
    v.start_kymograph();
    assert!(v.jobs.kymograph.is_some());
    v.wait_jobs();
    let (_, range, img) = v.lines.kymograph.as_ref().unwrap();
    assert_eq!(*range, FrameRange::new(2, 9));
    assert_eq!(
        *img,
        kymograph(&stack, &line, FrameRange::new(2, 9)).unwrap()
    );
    // a click on row 3, column 5: frame 5 shown, position 5 of the line marked
    v.kymograph_clicked(3, 5);
    assert_eq!(v.playback.frame, 5);
    assert_eq!(v.lines.mark, Some(5));
    assert_eq!(v.kymograph_point(5), Some(line.samples()[5].0));
    // exported as f32 (frames x positions)
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.npy");
    v.run_export(&export_to(ExportKind::Kymograph, &out))
        .unwrap();
    let back = blitz::load(&out, &LoadOptions::default(), &NoProgress).unwrap();
    let (_, _, img) = v.lines.kymograph.as_ref().unwrap();
    assert_eq!(back.shape().frames * back.shape().height, img.height);
    assert_eq!(back.as_slice::<f32>().unwrap(), img.data.as_slice());
    // a new stack drops the kymograph of the old one
    v.set_loaded(Loaded {
        path: "other".into(),
        stack: demo(),
        histogram: None,
        seconds: 0.0,
    });
    assert!(v.lines.kymograph.is_none());
}

#[test]
fn a_line_too_short_or_outside_the_frame_says_so() {
    let mut v = common::viewer_of(demo());
    v.line_drag((3.0, 3.0), (3.2, 3.1));
    assert!(v.line().is_none() && v.line_profile().is_none());
    v.start_kymograph();
    assert!(v.error.take().unwrap().contains("draw a line first"));
    v.line_drag((-50.0, -40.0), (-10.0, -5.0));
    let e = v.line_profile().unwrap().unwrap_err().to_string();
    assert!(e.contains("outside"), "{e}");
    v.start_kymograph();
    v.wait_jobs();
    assert!(v.error.take().unwrap().starts_with("kymograph: "));
    assert!(v.lines.kymograph.is_none());
}

#[test]
fn clicks_make_a_polyline_and_its_kymograph_gives_the_dataset_envelope() {
    let stack = demo();
    let mut v = common::viewer_of(demo());
    v.profile.width = 0;
    // a click before any line is dragged adds nothing
    v.line_extend((5.0, 5.0));
    assert!(v.lines.points.is_empty());
    v.line_drag((2.0, 2.0), (20.0, 4.0));
    v.line_extend((22.0, 16.0));
    v.line_extend((6.0, 15.0));
    let line = Line {
        points: vec![(2.0, 2.0), (20.0, 4.0), (22.0, 16.0), (6.0, 15.0)],
        width: 0,
    };
    assert_eq!(v.line(), Some(line.clone()));
    let (p, arc) = v.line_profile().unwrap().unwrap();
    assert_eq!(p.values, line_profile(&stack, 0, &line).unwrap().values);
    assert_eq!(arc, line.arc_lengths());
    // the envelope waits for the kymograph of this line
    v.profile.env_dataset = true;
    assert!(v.line_envelope().is_none());
    v.start_kymograph();
    v.wait_jobs();
    let all = FrameRange::all(stack.shape().frames);
    for q in [0, 10] {
        v.profile.env_q = q;
        let (range, env) = v.line_envelope().unwrap();
        assert_eq!(range, all);
        let want = line_envelope(&stack, &line, q).unwrap();
        assert_eq!((env.lo, env.hi), (want.lo, want.hi), "q = {q}");
    }
    // the band envelope of the frame shown: none for a band one point wide
    v.profile.env_band = true;
    assert!(v.line_band_envelope().is_none());
    v.profile.width = 2;
    let wide = Line {
        width: 2,
        ..line.clone()
    };
    let got = v.line_band_envelope().unwrap();
    let want = blitz::ops::kymograph::line_band_envelope(&stack, 0, &wide, 10).unwrap();
    assert_eq!((got.lo, got.hi), (want.lo, want.hi));
    v.profile.env_band = false;
    assert!(v.line_band_envelope().is_none());
    v.profile.width = 0;
    // switched off, or another line: no envelope
    v.profile.env_dataset = false;
    assert!(v.line_envelope().is_none());
    v.profile.env_dataset = true;
    // a right click takes the last vertex back: another line than the kymograph's
    v.line_undo_vertex();
    assert_eq!(v.lines.points.len(), 3);
    assert!(v.line_envelope().is_none());
    v.line_undo_vertex();
    v.line_undo_vertex();
    assert!(v.lines.points.is_empty() && v.line().is_none());
}
