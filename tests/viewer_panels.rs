//! The panels' sizes through the real interface (`viewer::ui::show` in a headless egui
//! context, no window): sizes are kept for the next start only once the user drags a
//! panel's edge, not while the panels just show.

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
