//! Settings that persist between sessions, driven through the viewer's state with a
//! settings file in a temporary folder: what a session sets comes back in the next one
//! (colormap, panels, load options, each source's calibration), a broken file starts
//! from the defaults with a note, and Reset removes it.

use std::path::Path;
use std::sync::Arc;

use blitz::calibration::{Calibration, FrameTime, PixelSize, Unit};
use blitz::engine::{Engine, EngineChoice};
use blitz::viewer::colormap::Colormap;
use blitz::viewer::state::{Loaded, ViewerState};
use blitz::{LoadOptions, Shape, Stack};

fn loaded(path: &Path) -> Loaded {
    Loaded {
        path: path.to_path_buf(),
        stack: Stack::from_vec(Shape::new(2, 4, 5, 1), vec![9u8; 40]).unwrap(),
        histogram: None,
        seconds: 0.0,
    }
}

fn viewer(path: &Path) -> ViewerState {
    ViewerState::new(
        loaded(path),
        LoadOptions::default(),
        Arc::new(Engine::new(EngineChoice::Cpu)),
        "none".into(),
    )
}

#[test]
fn a_session_s_settings_come_back_in_the_next_and_reset_forgets_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config").join("settings.json");
    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    std::fs::write(&a, b"").unwrap();
    std::fs::write(&b, b"").unwrap();

    let mut v = viewer(&a);
    v.use_settings(file.clone());
    assert_eq!(v.calibration, Calibration::default());
    v.display.params.colormap = Colormap::Viridis;
    v.display.auto_colormap = false;
    v.panels_hidden = true;
    v.panel_sizes.left = Some(310.5);
    v.panel_sizes.bottom = Some(240.0);
    v.load_opts.grayscale = true;
    let cal = Calibration {
        pixel: Some(PixelSize::new(2.5, Unit::Um).unwrap()),
        time: FrameTime::Interval(1e-4),
    };
    v.set_calibration(cal);
    assert!(file.exists(), "saved when the calibration changed");
    v.save_settings();

    // the next session: the same source gets its calibration back
    let mut w = viewer(&a);
    w.use_settings(file.clone());
    assert_eq!(w.display.params.colormap, Colormap::Viridis);
    assert!(!w.display.auto_colormap && w.panels_hidden && w.load_opts.grayscale);
    assert_eq!(w.panel_sizes, v.panel_sizes);
    assert_eq!(w.panel_sizes.right, None);
    assert_eq!(w.calibration, cal);
    assert_eq!(w.calibration_input.pixel, "2.5um");
    assert_eq!(w.last_folder(), Some(dir.path()));
    // another source has none; back to the first, it returns
    w.set_loaded(loaded(&b));
    assert_eq!(w.calibration, Calibration::default());
    w.set_loaded(loaded(&a));
    assert_eq!(w.calibration, cal);

    // reset: the file goes, the defaults come back, the panels start anew
    let generation = w.layout_generation;
    w.reset_settings();
    assert_eq!(w.layout_generation, generation + 1);
    assert!(!file.exists());
    assert_eq!(w.calibration, Calibration::default());
    assert!(w.display.auto_colormap && !w.panels_hidden && !w.load_opts.grayscale);
    assert_eq!(w.panel_sizes, Default::default());

    // a broken file: the defaults, with a note, and it is replaced at the next save
    std::fs::write(&file, "{ not json").unwrap();
    let mut x = viewer(&a);
    x.use_settings(file.clone());
    assert!(
        x.status.contains("starting from the defaults"),
        "{}",
        x.status
    );
    x.set_calibration(cal);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\"calibration\"") && text.contains("Um"),
        "{text}"
    );
}
