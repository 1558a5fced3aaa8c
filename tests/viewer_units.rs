//! Physical units in the viewer, driven through its state: the calibration typed in its
//! panel (bad values refused, nothing changed), the probe and frame times in units, and
//! the measure tool's length and on-screen angle.

use blitz::calibration::{FrameTime, Unit};
use blitz::viewer::state::{Command, Tool, ViewerState};
use blitz::viewer::ui::key_commands;
use blitz::{Shape, Stack};

mod common;

fn viewer() -> ViewerState {
    common::viewer_of(Stack::from_vec(Shape::new(5, 10, 20, 1), vec![3u8; 1000]).unwrap())
}

#[test]
fn a_typed_calibration_reaches_the_probe_the_clock_and_the_measure_tool() {
    let mut v = viewer();
    assert_eq!(v.frame_time(3), None, "the source gives no time");
    v.calibration_input.pixel = "2.5um".into();
    v.calibration_input.interval = "10us".into();
    v.apply_calibration_input();
    assert!(v.error.is_none(), "{:?}", v.error);
    let p = v.calibration.pixel.unwrap();
    assert_eq!((p.value, p.unit), (2.5, Unit::Um));
    assert_eq!(v.calibration.time, FrameTime::Interval(1e-5));
    assert!((v.frame_time(3).unwrap() - 3e-5).abs() < 1e-15);
    assert!(
        v.probe_text(2, 1).starts_with("x 2  y 1 = (5, 2.5) µm  3"),
        "{}",
        v.probe_text(2, 1)
    );
    // the measure tool: 3 right and 4 down is 5 px = 12.5 µm, 53.1° below the right
    assert_eq!(
        key_commands(&[egui::Event::Key {
            key: egui::Key::M,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        }]),
        vec![Command::Use(Tool::Measure)]
    );
    v.measure_drag((1.0, 1.0), (4.0, 5.0));
    assert_eq!(v.measure_text().unwrap(), "5 px = 12.5 µm, -53.1°");
    // turned a quarter clockwise on screen, the same segment points down-left
    v.rotate90();
    assert_eq!(v.measure_text().unwrap(), "5 px = 12.5 µm, -143.1°");
    // the profiles' CSV keeps the pixel position and adds it in units
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    v.run_export(&common::export_to(
        blitz::viewer::state::ExportKind::Profiles,
        &csv,
    ))
    .unwrap();
    let (header, rows) = common::read_csv(&csv);
    assert_eq!(&header[..2], ["position", "position_um"]);
    for r in &rows {
        assert!((r[1] - r[0] * 2.5).abs() < 1e-9, "{r:?}");
    }
    // the ROI series' CSV gives each frame's time by the interval set
    v.roi.region = Some("2,2,5,4".parse().unwrap());
    v.compute_roi();
    v.wait_jobs();
    let roi_csv = dir.path().join("r.csv");
    v.run_export(&common::export_to(
        blitz::viewer::state::ExportKind::Roi,
        &roi_csv,
    ))
    .unwrap();
    let (header, rows) = common::read_csv(&roi_csv);
    assert_eq!(&header[..3], ["frame", "source_frame", "time_s"]);
    for r in &rows {
        assert!((r[2] - r[0] * 1e-5).abs() < 1e-12, "{r:?}");
    }
    // an exported frame has the scale bar burnt in (10 µm = 4 px of the 20 px wide
    // frame, white, from x 4, on the rows above y 6), the rest as rendered
    v.reset_masks_and_transforms();
    let png = dir.path().join("f.png");
    v.run_export(&common::export_to(
        blitz::viewer::state::ExportKind::Frame,
        &png,
    ))
    .unwrap();
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (20, 10));
    for x in 4..8 {
        assert_eq!(img.get_pixel(x, 4).0, [255, 255, 255, 255], "bar at x {x}");
    }
    let plain = blitz::viewer::colormap::render_cpu(&v.pipeline.stack, 0, &v.display.params);
    assert_eq!(
        &img.get_pixel(15, 8).0[..],
        &plain[(8 * 20 + 15) * 4..(8 * 20 + 15) * 4 + 4]
    );
    v.exports.stamps = false;
    let png2 = dir.path().join("f2.png");
    v.run_export(&common::export_to(
        blitz::viewer::state::ExportKind::Frame,
        &png2,
    ))
    .unwrap();
    assert_eq!(image::open(&png2).unwrap().to_rgba8().into_raw(), plain);
    // bad values: a message naming the field, nothing changed
    let before = v.calibration;
    v.calibration_input.pixel = "0um".into();
    v.apply_calibration_input();
    let e = v.error.take().unwrap();
    assert!(
        e.starts_with("pixel size: a pixel size must be a positive number"),
        "{e}"
    );
    v.calibration_input.pixel = "2.5um".into();
    v.calibration_input.interval = "-1ms".into();
    v.apply_calibration_input();
    let e = v.error.take().unwrap();
    assert!(e.starts_with("frame interval: "), "{e}");
    assert_eq!(v.calibration, before);
    // cleared: pixels and the source's time again
    v.calibration_input = Default::default();
    v.apply_calibration_input();
    assert_eq!(v.calibration, Default::default());
    assert_eq!(
        v.measure_text().unwrap(),
        "5 px, -53.1°",
        "shown as stored again"
    );
}
