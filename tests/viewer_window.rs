//! The real window under Xvfb on lavapipe: `blitz view ... --screenshot` writes a PNG of
//! the whole window that shows the frame through the colormap; without a display the
//! viewer explains what to do and fails.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use blitz::ops::FrameRange;
use blitz::ops::histogram::{auto_levels, histogram};
use blitz::viewer::colormap::{Colormap, DisplayParams, render_cpu};
use blitz::{LoadOptions, NoProgress};
use common::{screenshot, xvfb_run};

#[test]
fn the_window_shows_the_frame_through_the_colormap() {
    if !xvfb_run("the window test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("window.png");
    let err = screenshot(
        &[
            "view",
            "demo:6,120,160",
            "--frame",
            "3",
            "--engine",
            "gpu",
            "--exit-after-frames",
            "3",
        ],
        &out,
    );
    assert!(err.contains("screenshot written"), "{err}");
    let shot = image::open(&out).unwrap().to_rgb8();
    assert!(
        shot.width() >= 800 && shot.height() >= 500,
        "{}x{}",
        shot.width(),
        shot.height()
    );

    // the colours the display must use: frame 3 of the same stack through the levels the
    // viewer fits by default (whole stack, 0 % trim) and plasma (auto colormap)
    let stack = blitz::load(
        Path::new("demo:6,120,160"),
        &LoadOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let h = histogram(&stack, FrameRange::all(6), None).unwrap();
    let p = DisplayParams {
        levels: auto_levels(&h, 0.0),
        gamma: 1.0,
        colormap: Colormap::Plasma,
    };
    let expected: HashSet<[u8; 3]> = render_cpu(&stack, 3, &p)
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let lut: HashSet<[u8; 3]> = Colormap::Plasma
        .lut()
        .iter()
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let mut in_frame = 0usize;
    let mut seen = HashSet::new();
    for px in shot.pixels() {
        if expected.contains(&px.0) {
            in_frame += 1;
            seen.insert(px.0);
        }
    }
    let total = (shot.width() * shot.height()) as usize;
    // the frame is zoomed to fit the image area: it covers a large part of the window,
    // in many of the frame's own colours (a blank or uniform window has none or one)
    assert!(
        in_frame * 4 > total,
        "{in_frame} of {total} pixels show the frame"
    );
    assert!(
        seen.len() * 2 > expected.len(),
        "{} of {} frame colours seen",
        seen.len(),
        expected.len()
    );
    assert!(seen.iter().all(|c| lut.contains(c)));
}

#[test]
fn a_bad_file_dropped_on_the_window_leaves_the_stack_shown() {
    if !xvfb_run("the window test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let out = dir.path().join("window.png");
    // the load fails in the background; the window keeps running and drawing the demo
    let err = screenshot(
        &[
            "view",
            "demo:4,64,64",
            "--drop",
            bad.to_str().unwrap(),
            "--exit-after-frames",
            "3",
        ],
        &out,
    );
    assert!(err.contains("screenshot written"), "{err}");
    assert!(
        err.contains("could not load") && err.contains("corrupt.png"),
        "{err}"
    );
    let shot = image::open(&out).unwrap().to_rgb8();
    let lut: HashSet<[u8; 3]> = Colormap::Plasma
        .lut()
        .iter()
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let colours: HashSet<[u8; 3]> = shot
        .pixels()
        .map(|p| p.0)
        .filter(|c| lut.contains(c))
        .collect();
    assert!(
        colours.len() > 20,
        "the demo frame is still drawn ({} colours)",
        colours.len()
    );
}

#[test]
fn without_a_display_the_viewer_names_xvfb_and_the_headless_commands() {
    let o = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(["view", "demo:2,8,8"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("no display") && err.contains("xvfb") && err.contains("blitz reduce")
            || err.contains("reduce"),
        "{err}"
    );
}
