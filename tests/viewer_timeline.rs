//! The timeline speaks the source's frame numbers and times, and playback defaults to
//! the source's rate (slowed down for a high-speed recording).

use std::sync::Arc;
use std::time::{Duration, Instant};

use blitz::engine::{Engine, EngineChoice};
use blitz::stack::SourceInfo;
use blitz::viewer::state::{Loaded, ViewerState};
use blitz::{LoadOptions, Shape, Stack};

fn viewer(fps: Option<f64>, frame_index: Vec<usize>) -> ViewerState {
    let n = frame_index.len();
    let source = SourceInfo {
        path: "rec.cine".into(),
        kind: "cine".into(),
        frame_index,
        fps,
        ..Default::default()
    };
    let stack = Stack::from_vec(Shape::new(n, 2, 2, 1), vec![0u8; n * 4])
        .unwrap()
        .with_source(source);
    let loaded = Loaded {
        path: "rec.cine".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    };
    let e = Arc::new(Engine::new(EngineChoice::Cpu));
    ViewerState::new(loaded, LoadOptions::default(), e, "none".into())
}

#[test]
fn playback_defaults_to_the_source_rate() {
    // 24 fps plays in real time
    let v = viewer(Some(24.0), (0..10).collect());
    assert_eq!((v.playback.fps, v.playback.speed), (24.0, 1.0));
    // every 10th frame of a 90 000 fps recording: 9000 shown frames a second in real
    // time, slowed down to 60 a second, and the speed says so
    let mut v = viewer(Some(90_000.0), (0..100).map(|i| 500 + 10 * i).collect());
    assert_eq!(v.playback.source_rate, Some(9000.0));
    assert_eq!(v.playback.fps, 60.0);
    assert!((v.playback.speed - 60.0 / 9000.0).abs() < 1e-12);
    assert_eq!(v.source_frame(3), 530);
    assert!((v.frame_time(3).unwrap() - 530.0 / 90_000.0).abs() < 1e-12);
    // a chosen speed sets the rate drawn
    v.playback.set_speed(1.0 / 900.0);
    assert!((v.playback.fps - 10.0).abs() < 1e-4);
    // and playback advances at it: 10 frames a second, half a second in: frame 5 (when
    // it keeps the rate by skipping the frames it could not draw)
    v.playback.skip_frames = true;
    v.playback.playing = true;
    let t0 = Instant::now();
    v.tick(t0);
    v.tick(t0 + Duration::from_millis(520));
    assert_eq!(v.playback.frame, 5);
    // no rate in the source: 25 frames a second as before
    let v = viewer(None, vec![]);
    assert_eq!((v.playback.fps, v.playback.source_rate), (25.0, None));
}
