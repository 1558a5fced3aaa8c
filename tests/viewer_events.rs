//! Input reaches the viewer's state whole, however slow the redraw: every key press
//! counts, modifiers go with the press they came with, and a ROI drag ends where the
//! button was released.

use std::sync::Arc;

use blitz::engine::{Engine, EngineChoice};
use blitz::ops::roi::Roi;
use blitz::viewer::state::{Command, Loaded, ViewerState};
use blitz::viewer::ui::key_commands;
use blitz::{LoadOptions, Shape, Stack};
use egui::{Event, Key, Modifiers};

fn viewer() -> ViewerState {
    let stack = Stack::from_vec(Shape::new(20, 16, 16, 1), vec![1u8; 20 * 256]).unwrap();
    let loaded = Loaded {
        path: "memory".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    };
    let e = Arc::new(Engine::new(EngineChoice::Cpu));
    ViewerState::new(loaded, LoadOptions::default(), e, "none".into())
}

fn key(key: Key, pressed: bool, modifiers: Modifiers, repeat: bool) -> Event {
    Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat,
        modifiers,
    }
}

#[test]
fn every_key_press_within_one_redraw_counts() {
    let mut v = viewer();
    // five presses of Right (one press and four repeats) before the next redraw
    let mut events = vec![key(Key::ArrowRight, true, Modifiers::NONE, false)];
    events.extend((0..4).map(|_| key(Key::ArrowRight, true, Modifiers::NONE, true)));
    events.push(key(Key::ArrowRight, false, Modifiers::NONE, false));
    let cmds = key_commands(&events);
    assert_eq!(cmds, vec![Command::NextFrame; 5]);
    for c in cmds {
        v.command(c);
    }
    assert_eq!(v.playback.frame, 5);
}

#[test]
fn modifiers_go_with_their_press() {
    // Ctrl pressed, O pressed and released, Ctrl released: all before one redraw, so
    // the modifiers at the redraw are none; the press still carries Ctrl
    let events = [
        key(Key::O, true, Modifiers::COMMAND, false),
        key(Key::O, false, Modifiers::COMMAND, false),
    ];
    assert_eq!(key_commands(&events), vec![Command::OpenDialog]);
    // Ctrl+F, Ctrl+1, Ctrl+A are not F, 1 and A
    for k in [Key::F, Key::Num1, Key::A] {
        assert!(key_commands(&[key(k, true, Modifiers::COMMAND, false)]).is_empty());
    }
    assert_eq!(
        key_commands(&[key(Key::F, true, Modifiers::NONE, false)]),
        vec![Command::Fit]
    );
}

#[test]
fn a_roi_drag_released_between_redraws_ends_at_the_release() {
    let mut v = viewer();
    // the last redraw saw the pointer at (3, 3); the release came at (6.2, 5.2)
    v.roi_drag((1.0, 1.0), (2.0, 2.0), true);
    v.roi_drag((1.0, 1.0), (3.0, 3.0), false);
    v.roi_drag_release(Some((6.2, 5.2)));
    assert_eq!(
        v.roi.region,
        Some(Roi::Rect {
            x: 1,
            y: 1,
            w: 6,
            h: 5
        })
    );
    assert!(v.roi.drag_origin.is_none());
}

#[test]
fn page_zoom_tool_and_panel_keys_do_what_the_help_says() {
    use blitz::viewer::state::Tool;
    let press = |k| key(k, true, Modifiers::NONE, false);
    let mut s = viewer();
    let run = |s: &mut ViewerState, k| {
        for c in key_commands(&[press(k)]) {
            s.command(c);
        }
    };
    // 20 frames: a page is 2
    run(&mut s, Key::PageDown);
    run(&mut s, Key::PageDown);
    assert_eq!(s.playback.frame, 4);
    run(&mut s, Key::PageUp);
    assert_eq!(s.playback.frame, 2);
    for _ in 0..20 {
        run(&mut s, Key::PageDown);
    }
    assert_eq!(s.playback.frame, 19, "stops at the last frame");
    // + zooms in about the centre of the area at the next layout, - undoes it
    s.layout_view(egui::vec2(320.0, 320.0), 1.0);
    let fitted = s.view.zoom;
    run(&mut s, Key::Plus);
    run(&mut s, Key::Equals);
    s.layout_view(egui::vec2(320.0, 320.0), 1.0);
    assert!(
        (s.view.zoom - fitted * 1.25 * 1.25).abs() < 1e-4,
        "{}",
        s.view.zoom
    );
    assert!(!s.view.fit, "a key zoom ends fitting");
    let centre = s.view.to_data(egui::vec2(160.0, 160.0));
    assert!(
        (centre.x - 8.0).abs() < 1e-3 && (centre.y - 8.0).abs() < 1e-3,
        "{centre:?}"
    );
    run(&mut s, Key::Minus);
    s.layout_view(egui::vec2(320.0, 320.0), 1.0);
    assert!((s.view.zoom - fitted * 1.25).abs() < 1e-4);
    // tool keys
    for (k, t) in [
        (Key::R, Tool::Rect),
        (Key::P, Tool::Polygon),
        (Key::C, Tool::Crosshair),
        (Key::I, Tool::Pin),
        (Key::N, Tool::Navigate),
    ] {
        run(&mut s, k);
        assert_eq!(s.tool, t, "{k:?}");
    }
    // Tab hides and shows the panels; Ctrl+R is not R
    assert!(!s.panels_hidden);
    run(&mut s, Key::Tab);
    assert!(s.panels_hidden);
    run(&mut s, Key::Tab);
    assert!(!s.panels_hidden);
    assert!(key_commands(&[key(Key::R, true, Modifiers::COMMAND, false)]).is_empty());
}

#[test]
fn the_pointer_and_the_overlays_turn_with_the_picture() {
    // a 16 high, 32 wide frame with pixel value x + 32 y, so the probe tells the pixel
    let stack = Stack::from_vec(
        Shape::new(2, 16, 32, 1),
        (0..2 * 16 * 32).map(|i| (i % 512) as u16).collect(),
    )
    .unwrap();
    let loaded = Loaded {
        path: "memory".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    };
    let e = Arc::new(Engine::new(EngineChoice::Cpu));
    let mut s = ViewerState::new(loaded, LoadOptions::default(), e, "none".into());
    s.rotate90();
    // turned clockwise it is 16 wide and 32 high; fitted into 160 x 320, 10 points a pixel
    s.layout_view(egui::vec2(160.0, 320.0), 1.0);
    assert_eq!(s.display_size(), (16, 32));
    assert!((s.view.zoom - 10.0).abs() < 1e-4, "{}", s.view.zoom);
    // the top-right corner shown is the stack's top-left pixel, the bottom-left its
    // bottom-right one
    let top_right = s.area_to_data(egui::vec2(155.0, 5.0));
    assert_eq!((top_right.x as usize, top_right.y as usize), (0, 0));
    let bottom_left = s.area_to_data(egui::vec2(5.0, 315.0));
    assert_eq!((bottom_left.x as usize, bottom_left.y as usize), (31, 15));
    s.hover_at(Some((bottom_left.x, bottom_left.y)));
    assert!(
        s.probe
            .as_ref()
            .unwrap()
            .2
            .contains(&format!("{}", 31 + 32 * 15)),
        "{:?}",
        s.probe
    );
    // a ROI dragged on screen lands on the stack's pixels under it, and is drawn back
    // where it was dragged
    let (a, b) = (
        s.area_to_data(egui::vec2(100.0, 20.0)),
        s.area_to_data(egui::vec2(140.0, 60.0)),
    );
    s.roi_drag((a.x, a.y), (b.x, b.y), true);
    s.roi_drag_release(Some((b.x, b.y)));
    let Some(Roi::Rect { x, y, w, h }) = s.roi.region.clone() else {
        panic!("no rectangle: {:?}", s.roi.region)
    };
    // screen x 100..140 is data y 16 - 14..16 - 10, screen y 20..60 is data x 2..6
    assert_eq!((x, y, w, h), (2, 2, 4, 4));
    let corner = s.data_to_area(x as f32, (y + h as i64) as f32);
    assert!(
        (corner - egui::vec2(100.0, 20.0)).length() < 1e-3,
        "{corner:?}"
    );
    // a flip keeps the ROI on the same pixels (it is drawn mirrored)
    s.toggle_flip_x();
    assert_eq!(
        s.roi.region,
        Some(Roi::Rect {
            x: 2,
            y: 2,
            w: 4,
            h: 4
        })
    );
    let corner = s.data_to_area(x as f32, (y + h as i64) as f32);
    assert!(
        (corner - egui::vec2(60.0, 20.0)).length() < 1e-3,
        "{corner:?}"
    );
}
