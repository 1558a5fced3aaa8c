//! Several ROIs at once: the results table (mean, std, min, max, area per ROI, frame and
//! channel) against the naive pixel mask, ellipses and turned rectangles pixel by pixel,
//! the ROI set file (JSON) read, written and read back, and `blitz roi` with repeated
//! options and a set, its columns and its bad input.

mod common;

use blitz::ops::FrameRange;
use blitz::ops::roi::Roi;
use blitz::ops::roi::set::{NamedRoi, parse_rois, read_rois, rois_json};
use blitz::ops::roi::table::roi_table;
use blitz::{Shape, Stack};
use common::naive;
use common::{Kind, Values, named, read_csv};

/// The test set: a rectangle, a turned rectangle, a polygon, a turned ellipse and one
/// cut by the frame's edge.
fn set() -> Vec<NamedRoi> {
    vec![
        named("rect", Roi::parse_rect("3,2,9,6").unwrap()),
        named("turned", Roi::parse_rect_turned("10,8,12,5,35").unwrap()),
        named("poly", Roi::parse_polygon("1,1,14,3,6,15").unwrap()),
        named("ell", Roi::parse_ellipse("15.5,10,7,3.5,-25").unwrap()),
        named("edge", Roi::parse_ellipse("0,0,5,4").unwrap()),
    ]
}

/// Naive mean, std (of the pixels), min, max over the masked samples of frame `t`,
/// channel `c`, NaN skipped, and the median.
fn naive_stats(s: &Stack, mask: &[bool], t: usize, c: usize) -> [f64; 5] {
    let sh = s.shape();
    let v: Vec<f64> = (0..sh.height * sh.width)
        .filter(|&i| mask[i])
        .map(|i| s.value(t, i / sh.width, i % sh.width, c) as f64)
        .filter(|v| !v.is_nan())
        .collect();
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    // numpy's median: the middle value, or the mean of the two middle ones
    let mut sorted = v.clone();
    sorted.sort_by(f64::total_cmp);
    let k = sorted.len();
    let median = if k % 2 == 1 {
        sorted[k / 2]
    } else {
        (sorted[k / 2 - 1] + sorted[k / 2]) / 2.0
    };
    [m, var.sqrt(), lo, hi, median]
}

#[test]
fn the_table_matches_the_naive_mask_for_every_shape() {
    let (h, w) = (20, 26);
    for (kind, c, values) in [
        (Kind::U8, 3, Values::default()),
        (Kind::U16, 1, Values::default()),
        (Kind::F32, 1, Values::default().nan_every(7)),
    ] {
        let s = common::make(kind, Shape::new(5, h, w, c), &[3, c as u32], values);
        let rois = set();
        // with the median; the table without it is the same but for NaN medians
        let t = blitz::ops::roi::table::roi_table_watched(
            &s,
            &rois,
            FrameRange::new(1, 4),
            true,
            &blitz::NoProgress,
        )
        .unwrap();
        assert!(t.medians);
        let plain = roi_table(&s, &rois, FrameRange::new(1, 4)).unwrap();
        assert!(!plain.medians);
        for (a, b) in plain.stats.iter().zip(&t.stats) {
            assert!(a.median.is_none());
            assert_eq!((a.mean, a.std, a.min, a.max), (b.mean, b.std, b.min, b.max));
        }
        assert_eq!(t.frames, vec![1, 2, 3, 4]);
        assert_eq!(t.names, vec!["rect", "turned", "poly", "ell", "edge"]);
        for (r, nr) in rois.iter().enumerate() {
            let mask = naive::roi_mask(&nr.roi, h, w);
            let area = mask.iter().filter(|m| **m).count();
            assert_eq!(t.areas[r], area, "{kind:?} {}: area", nr.name);
            assert!(area > 0);
            for (i, &f) in t.frames.iter().enumerate() {
                for ch in 0..c {
                    let want = naive_stats(&s, &mask, f, ch);
                    let got = t.get(i, r, ch);
                    let got = [got.mean, got.std, got.min, got.max, got.median.unwrap()];
                    for (k, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            common::close(*g as f64, w, 1e-5),
                            "{kind:?} {} frame {f} c{ch} stat {k}: {g} vs {w}",
                            nr.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn ellipse_and_turned_rectangle_pixels_are_the_centres_inside() {
    let (h, w) = (31, 37);
    for text in [
        "18,15,10,6,0",
        "18,15,10,6,90",
        "18.3,14.7,12.5,3.2,33",
        "2,3,8,8,0",
        "36,30,6,9,-60",
        "18.5,15.5,0.6,0.6,0",
    ] {
        let roi = Roi::parse_ellipse(text).unwrap();
        let mask = naive::roi_mask(&roi, h, w);
        let spans = roi.spans(h, w).unwrap();
        let mut got = vec![false; h * w];
        for sp in spans {
            for x in sp.x0..sp.x1 {
                got[sp.y * w + x] = true;
            }
        }
        assert_eq!(got, mask, "ellipse {text}");
    }
    // a turned rectangle's pixels: inside the polygon of its corners, by hand for 90°
    let r = Roi::parse_rect_turned("10,10,8,2,90").unwrap();
    let n = r.pixel_count(h, w).unwrap();
    assert_eq!(
        n, 16,
        "an 8 x 2 rectangle turned upright covers 2 x 8 pixels"
    );
    // nothing inside the frame, or a degenerate shape: a message
    let e = Roi::parse_ellipse("-50,-50,5,5")
        .unwrap()
        .spans(h, w)
        .unwrap_err();
    assert!(e.to_string().contains("holds no pixel"), "{e}");
    assert!(Roi::parse_ellipse("1,1,0,4").is_err());
    assert!(Roi::parse_rect_turned("1,1,-3,4,10").is_err());
    // the text form reads back
    let e: Roi = "ellipse:4,5,3,2,10".parse().unwrap();
    assert_eq!(e.to_string().parse::<Roi>().unwrap(), e);
}

#[test]
fn a_roi_set_file_reads_writes_and_names_its_mistakes() {
    let p = std::path::Path::new("set.json");
    let text = r#"{"rois": [
        {"name": "left", "rect": [10, 20, 30, 40]},
        {"name": "tilted", "rect": [60, 20, 30, 10], "angle": 30},
        {"polygon": [[5, 5], [20, 8], [12, 25]]},
        {"name": "spot", "ellipse": [50, 60, 10, 5], "angle": 15}
    ]}"#;
    let rois = parse_rois(text, p).unwrap();
    assert_eq!(rois.len(), 4);
    assert_eq!(rois[0].roi, Roi::parse_rect("10,20,30,40").unwrap());
    assert_eq!(
        rois[1].roi,
        Roi::parse_rect_turned("60,20,30,10,30").unwrap()
    );
    assert_eq!(rois[2].name, "roi3", "unnamed: its place");
    assert_eq!(rois[3].roi, Roi::parse_ellipse("50,60,10,5,15").unwrap());
    // written and read back: the same set
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("back.json");
    blitz::export::write_rois(&f, &rois).unwrap();
    assert_eq!(read_rois(&f).unwrap(), rois);
    assert_eq!(parse_rois(&rois_json(&rois), p).unwrap(), rois);
    for (bad, says) in [
        (r#"{"rois": []}"#, "holds no ROI"),
        (
            r#"{"rois": [{"rect": [1, 2, 3, 4], "ellipse": [1, 2, 3, 4]}]}"#,
            "exactly one",
        ),
        (
            r#"{"rois": [{"name": "a", "rect": [1,2,3,4]}, {"name": "a", "rect": [1,2,3,4]}]}"#,
            "two ROIs are named 'a'",
        ),
        (
            r#"{"rois": [{"polygon": [[1, 2], [3, 4]]}]}"#,
            "at least 3 vertices",
        ),
        (r#"{"rois": [{"rect": [1, 2, 0, 4]}]}"#, "positive width"),
        (r#"{"rois": [{"rect": [1.5, 2, 3, 4]}]}"#, "integers"),
        (r#"{"rois": [{"circle": [1, 2, 3]}]}"#, "unknown field"),
        (r#"{"rois": "#, "EOF"),
    ] {
        let e = parse_rois(bad, p).unwrap_err().to_string();
        assert!(
            e.starts_with("set.json: ") && e.contains(says),
            "{bad}: {e}"
        );
    }
    let e = read_rois(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.json"), "{e}");
}

#[test]
fn cli_roi_with_several_rois_writes_the_table_and_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let set_in = d.join("in.json");
    std::fs::write(
        &set_in,
        r#"{"rois": [{"name": "spot", "ellipse": [20, 12, 6, 4], "angle": 20}]}"#,
    )
    .unwrap();
    let (out, saved) = (d.join("t.csv"), d.join("saved.json"));
    let o = common::ok(&[
        "roi",
        "demo:6,24,32",
        "--rect",
        "2,3,10,8",
        "--rect",
        "12,4,10,6,45",
        "--polygon",
        "1,1,20,2,9,20",
        "--rois",
        set_in.to_str().unwrap(),
        "--save-rois",
        saved.to_str().unwrap(),
        "--from",
        "1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        common::stdout(&o).contains("4 ROIs"),
        "{}",
        common::stdout(&o)
    );
    let (header, rows) = read_csv(&out);
    let mut want = ["frame", "source_frame", "time_s"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    for n in ["rect1", "rect2", "polygon1", "spot"] {
        for w in ["mean", "std", "min", "max", "area_px"] {
            want.push(format!("{n}_{w}"));
        }
    }
    assert_eq!(header, want);
    assert_eq!(rows.len(), 5);
    // the values: the library's table on the same stack
    let stack = blitz::load(
        std::path::Path::new("demo:6,24,32"),
        &Default::default(),
        &blitz::NoProgress,
    )
    .unwrap();
    let rois = read_rois(&saved).unwrap();
    assert_eq!(rois.len(), 4);
    assert_eq!(rois[3].name, "spot");
    let t = roi_table(&stack, &rois, FrameRange::new(1, 5)).unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1) as f64);
        for r in 0..4 {
            let s = t.get(i, r, 0);
            let at = 3 + r * 5;
            let got = &row[at..at + 5];
            let want = [s.mean, s.std, s.min, s.max, t.areas[r] as f32];
            for (g, w) in got.iter().zip(want) {
                assert!(
                    common::close(*g, w as f64, 1e-6),
                    "row {i} roi {r}: {g} vs {w}"
                );
            }
        }
    }
    // one rectangle alone keeps the single-ROI columns
    let one = d.join("one.csv");
    common::ok(&[
        "roi",
        "demo:6,24,32",
        "--rect",
        "2,3,10,8",
        "-o",
        one.to_str().unwrap(),
    ]);
    let (header, _) = read_csv(&one);
    assert_eq!(
        header,
        ["frame", "source_frame", "time_s", "value", "min", "max"]
    );
    // bad input: a message naming the option or the file
    let e = common::fails(&["roi", "demo:6,24,32", "--ellipse", "3,3,0,2", "-o", "x.csv"]);
    assert!(e.contains("--ellipse '3,3,0,2'"), "{e}");
    // --median with several ROIs: a median column beside each mean, the library's
    let med = dir.path().join("med.csv");
    common::ok(&[
        "roi",
        "demo:6,24,32",
        "--rect",
        "2,3,10,8",
        "--ellipse",
        "12,12,6,4",
        "--median",
        "-o",
        med.to_str().unwrap(),
    ]);
    let (header, rows) = read_csv(&med);
    assert_eq!(
        header[3..8],
        [
            "rect1_mean",
            "rect1_median",
            "rect1_std",
            "rect1_min",
            "rect1_max"
        ]
    );
    let demo = blitz::load(
        std::path::Path::new("demo:6,24,32"),
        &Default::default(),
        &blitz::NoProgress,
    )
    .unwrap();
    let rois = [
        named("rect1", Roi::parse_rect("2,3,10,8").unwrap()),
        named("ellipse1", Roi::parse_ellipse("12,12,6,4").unwrap()),
    ];
    let t = blitz::ops::roi::table::roi_table_watched(
        &demo,
        &rois,
        FrameRange::all(6),
        true,
        &blitz::NoProgress,
    )
    .unwrap();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row[at("rect1_median")],
            t.get(i, 0, 0).median.unwrap() as f64
        );
        assert_eq!(
            row[at("ellipse1_median")],
            t.get(i, 1, 0).median.unwrap() as f64
        );
    }
    let e = common::fails(&[
        "roi",
        "demo:6,24,32",
        "--rect",
        "200,300,4,4",
        "--rect",
        "1,1,2,2",
        "-o",
        "x.csv",
    ]);
    assert!(
        e.contains("ROI 'rect1'") && e.contains("holds no pixel"),
        "{e}"
    );
    assert!(!d.join("x.csv").exists());
}
