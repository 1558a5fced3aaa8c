//! The ROI set in the viewer, driven through its state: ROIs drawn are added, named,
//! removed, their table (mean, std, min, max, area per ROI and frame) is the library's
//! `roi_table` computed in the background, exported as CSV with the area in units once
//! calibrated, and the set is saved and loaded as the file `blitz roi --rois` reads.

mod common;

use blitz::NoProgress;
use blitz::ops::FrameRange;
use blitz::ops::roi::Roi;
use blitz::ops::roi::Stat;
use blitz::ops::roi::table::{roi_table, roi_table_watched};
use blitz::viewer::state::ExportKind;
use common::{demo_small as demo, export_to};

#[test]
fn rois_added_to_the_set_get_their_table_export_and_file() {
    let stack = demo();
    let mut v = common::viewer_of(demo());
    v.add_roi_to_set();
    assert!(v.error.take().unwrap().contains("draw a ROI first"));
    for r in ["2,3,8,6", "ellipse:20,10,5,3,30", "1,12,9,14,14,19"] {
        v.roi.region = Some(r.parse::<Roi>().unwrap());
        v.add_roi_to_set();
    }
    let names: Vec<_> = v.roi_set.rois.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, ["roi1", "roi2", "roi3"]);
    v.remove_roi_from_set(0);
    v.roi.region = Some("5,5,4,4".parse::<Roi>().unwrap());
    v.add_roi_to_set();
    assert_eq!(v.roi_set.rois[2].name, "roi1", "the first free name");
    v.wait_jobs();
    let want = roi_table(&stack, &v.roi_set.rois, FrameRange::all(12)).unwrap();
    assert_eq!(v.roi_set.table.as_ref(), Some(&want));
    // the median statistic: the table comes again with the median, and back
    v.set_roi_stat(Stat::Median);
    v.wait_jobs();
    let all = FrameRange::all(12);
    let with_median = roi_table_watched(&stack, &v.roi_set.rois, all, true, &NoProgress);
    assert_eq!(v.roi_set.table.as_ref(), Some(&with_median.unwrap()));
    v.set_roi_stat(Stat::Mean);
    v.wait_jobs();
    assert_eq!(v.roi_set.table.as_ref(), Some(&want));

    // the CSV: units once calibrated, and the file round trip
    let dir = tempfile::tempdir().unwrap();
    v.calibration_input.pixel = "2um".into();
    v.apply_calibration_input();
    let csv = dir.path().join("t.csv");
    v.run_export(&export_to(ExportKind::RoiTable, &csv))
        .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(header.starts_with("frame,source_frame,time_s,roi2_mean,roi2_std,roi2_min,roi2_max,roi2_area_px,roi2_area_um2,"), "{header}");
    let first = text.lines().filter(|l| !l.starts_with('#')).nth(1).unwrap();
    let cells: Vec<f64> = first.split(',').map(|c| c.parse().unwrap()).collect();
    let s = want.get(0, 0, 0);
    assert!((cells[3] - s.mean as f64).abs() < 1e-4 && (cells[4] - s.std as f64).abs() < 1e-4);
    assert_eq!(cells[7], want.areas[0] as f64);
    assert_eq!(cells[8], want.areas[0] as f64 * 4.0, "µm² of 2 µm pixels");
    let set = dir.path().join("set.json");
    v.save_roi_set(&set);
    let rois = v.roi_set.rois.clone();
    v.roi_set.rois.clear();
    v.load_roi_set(&set);
    assert_eq!(v.roi_set.rois, rois);
    // a bad file changes nothing
    std::fs::write(dir.path().join("bad.json"), "{\"rois\": [{}]}").unwrap();
    v.load_roi_set(&dir.path().join("bad.json"));
    assert!(v.error.take().unwrap().contains("exactly one"));
    assert_eq!(v.roi_set.rois, rois);
    // a ROI outside the frame: the table says which, the set stays
    v.roi_set.rois[0].roi = "500,500,3,3".parse::<Roi>().unwrap();
    v.roi_set_changed();
    v.wait_jobs();
    assert!(v.roi_set.table.is_none());
    assert!(v.roi_set.failed.as_ref().unwrap().contains("ROI 'roi2'"));
}

#[test]
fn the_ellipse_tool_draws_the_ellipse_in_the_box_it_spans() {
    let stack = demo();
    let mut v = common::viewer_of(demo());
    v.ellipse_drag((2.0, 2.0), (12.0, 8.0));
    v.roi_drag_end();
    let want = Roi::parse_ellipse("7,5,5,3").unwrap();
    assert_eq!(v.roi.region, Some(want.clone()));
    v.wait_jobs();
    let series = blitz::ops::roi::roi_series(
        &stack,
        &want,
        blitz::ops::roi::Stat::Mean,
        FrameRange::all(12),
    )
    .unwrap();
    assert_eq!(v.roi.series.as_ref(), Some(&series));
    // a box thinner than a pixel draws nothing
    v.ellipse_drag((20.0, 2.0), (20.4, 9.0));
    assert_eq!(v.roi.region, Some(want));
}

#[test]
fn a_drawn_roi_turns_about_its_centre() {
    let stack = demo();
    let mut v = common::viewer_of(demo());
    // a rectangle turned by 35 degrees is the turned rectangle of the set grammar
    v.roi.region = Some(Roi::parse_rect("4,3,12,6").unwrap());
    v.turn_roi(35.0);
    let want = Roi::parse_rect_turned("4,3,12,6,35").unwrap();
    assert_eq!(v.roi.region, Some(want.clone()));
    v.wait_jobs();
    let series = blitz::ops::roi::roi_series(
        &stack,
        &want,
        blitz::ops::roi::Stat::Mean,
        FrameRange::all(12),
    )
    .unwrap();
    assert_eq!(v.roi.series.as_ref(), Some(&series));
    // turned again by -35 degrees: the corners of the rectangle, as a polygon
    v.turn_roi(-35.0);
    let Some(Roi::Polygon(p)) = &v.roi.region else {
        panic!("{:?}", v.roi.region);
    };
    let corners = [(4.0, 3.0), (16.0, 3.0), (16.0, 9.0), (4.0, 9.0)];
    for (a, b) in p.iter().zip(corners) {
        assert!(
            (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4,
            "{p:?}"
        );
    }
    // an ellipse turns its axes
    v.roi.region = Some(Roi::parse_ellipse("10,8,6,3,10").unwrap());
    v.turn_roi(20.0);
    assert_eq!(
        v.roi.region,
        Some(Roi::parse_ellipse("10,8,6,3,30").unwrap())
    );
    // no ROI: nothing to turn, nothing changes
    v.roi.region = None;
    v.turn_roi(20.0);
    assert!(v.roi.region.is_none());
}
