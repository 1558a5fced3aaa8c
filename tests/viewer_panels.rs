//! The panels' sizes and the line tool through the real interface (`viewer::ui::show`
//! in a headless egui context, no window): sizes are kept for the next start only once
//! the user drags a panel's edge, not while the panels just show; a drag of the line
//! tool draws a line and a click goes on to a new vertex.

mod common;

use blitz::viewer::state::ViewerState;
use egui::{Event, Modifiers, PointerButton, Pos2, RawInput, Rect, vec2};

/// One frame of the interface at 1400 x 900 with `events`.
fn frame(ctx: &egui::Context, v: &mut ViewerState, events: Vec<Event>) {
    let t = ctx.input(|i| i.time) + 0.05;
    let input = RawInput {
        time: Some(t),
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1400.0, 900.0))),
        events,
        ..Default::default()
    };
    let mut out = ctx.run_ui(input, |ui| {
        blitz::viewer::ui::show(v, ui, &mut |_, _, _, _| {});
    });
    // no renderer takes the textures here
    out.textures_delta.clear();
}

fn button(pos: Pos2, pressed: bool) -> Event {
    Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    }
}

#[test]
fn a_dragged_panel_edge_is_kept_and_a_shown_panel_is_not() {
    let ctx = egui::Context::default();
    let mut v = common::viewer_of(common::demo_small());
    let dir = tempfile::tempdir().unwrap();
    v.use_settings(dir.path().join("settings.json"));
    for _ in 0..3 {
        frame(&ctx, &mut v, vec![]);
    }
    // shown, not dragged: nothing to keep
    assert_eq!(v.panel_sizes, Default::default());
    let seen: ([f32; 3], bool) = ctx
        .data(|d| d.get_temp(egui::Id::unique("panel sizes seen")))
        .expect("the sizes of the last frame");
    let [left, right, bottom] = seen.0;
    // the left panel's edge (its handle lies just inside it) dragged 60 points right
    let at = |x: f32| Pos2::new(x, 400.0);
    let x = left - 2.0;
    frame(&ctx, &mut v, vec![Event::PointerMoved(at(x))]);
    frame(&ctx, &mut v, vec![button(at(x), true)]);
    frame(&ctx, &mut v, vec![Event::PointerMoved(at(x + 30.0))]);
    frame(&ctx, &mut v, vec![Event::PointerMoved(at(x + 60.0))]);
    assert_eq!(v.panel_sizes, Default::default(), "kept only once released");
    frame(&ctx, &mut v, vec![button(at(x + 60.0), false)]);
    frame(&ctx, &mut v, vec![]);
    let kept = v.panel_sizes;
    let got = kept.left.expect("the dragged size is kept");
    assert!((got - (x + 60.0)).abs() <= 1.0, "{got} vs {}", x + 60.0);
    assert_eq!((kept.right, kept.bottom), (Some(right), Some(bottom)));
    // kept in the settings file at the close
    v.save_settings();
    let text = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
    assert!(text.contains(&format!("\"left\": {got:?}")), "{text}");
    // a reset starts the panels anew at their default sizes and keeps nothing
    v.reset_settings();
    for _ in 0..3 {
        frame(&ctx, &mut v, vec![]);
    }
    assert_eq!(v.panel_sizes, Default::default());
    let seen: ([f32; 3], bool) = ctx
        .data(|d| d.get_temp(egui::Id::unique("panel sizes seen")))
        .unwrap();
    assert_eq!(seen.0, [left, right, bottom], "the default sizes again");
}

#[test]
fn a_drag_of_the_line_tool_draws_a_line_and_a_click_adds_a_vertex() {
    let ctx = egui::Context::default();
    let mut v = common::viewer_of(common::demo_small());
    v.tool = blitz::viewer::state::Tool::Line;
    for _ in 0..3 {
        frame(&ctx, &mut v, vec![]);
    }
    // a drag over the middle of the window, the image area
    let (a, b) = (Pos2::new(600.0, 250.0), Pos2::new(760.0, 330.0));
    frame(&ctx, &mut v, vec![Event::PointerMoved(a)]);
    frame(&ctx, &mut v, vec![button(a, true)]);
    frame(
        &ctx,
        &mut v,
        vec![Event::PointerMoved(Pos2::new(680.0, 290.0))],
    );
    frame(&ctx, &mut v, vec![Event::PointerMoved(b)]);
    frame(&ctx, &mut v, vec![button(b, false)]);
    frame(&ctx, &mut v, vec![]);
    assert_eq!(v.lines.points.len(), 2, "{:?}", v.lines.points);
    let [p, q] = [v.lines.points[0], v.lines.points[1]];
    assert!((q.0 - p.0) > 0.0 && (q.1 - p.1) > 0.0, "{p:?} -> {q:?}");
    // a click (press and release in place) goes on to a third vertex
    let c = Pos2::new(640.0, 360.0);
    frame(&ctx, &mut v, vec![Event::PointerMoved(c)]);
    frame(&ctx, &mut v, vec![button(c, true)]);
    frame(&ctx, &mut v, vec![button(c, false)]);
    frame(&ctx, &mut v, vec![]);
    assert_eq!(v.lines.points.len(), 3, "{:?}", v.lines.points);
    assert_eq!(&v.lines.points[..2], &[p, q], "the drawn line stays");
}
