//! The GPU results table of several ROIs (`gpu::roi_table`) against the CPU reference
//! (`ops::roi::table::roi_table`) on lavapipe: every dtype, RGB, NaN, rectangles (also
//! turned), polygons and ellipses, a ROI of one pixel, chunk borders, a standard deviation
//! far below the mean (where a sum of squares in f32 would cancel), and bad input.

mod common;

use blitz::engine::{Engine, EngineChoice, EngineKind};
use blitz::gpu::GpuError;
use blitz::gpu::roi::GpuRoi;
use blitz::ops::FrameRange;
use blitz::ops::roi::Roi;
use blitz::ops::roi::set::NamedRoi;
use blitz::ops::roi::table::{RoiTable, roi_table};
use blitz::{Shape, Stack};
use common::{Kind, REDUCE_REL, Values, gpu, make, named, random};

/// A rectangle, a turned rectangle, a polygon, a turned ellipse, one cut by the frame's
/// edge and a single pixel.
fn set() -> Vec<NamedRoi> {
    vec![
        named("rect", Roi::parse_rect("1,1,5,3").unwrap()),
        named("turned", Roi::parse_rect_turned("5,3,6,3,35").unwrap()),
        named("poly", Roi::parse_polygon("0.5,0.2,8,1,3,5.5").unwrap()),
        named("ell", Roi::parse_ellipse("4.5,3,3,2,-25").unwrap()),
        named("edge", Roi::parse_ellipse("0,0,3,2").unwrap()),
        named("dot", Roi::parse_rect("2,2,1,1").unwrap()),
    ]
}

/// Every cell of `got` within `rel` of `want` (NaN matches NaN); the names, areas and
/// frames equal.
fn assert_tables(got: &RoiTable, want: &RoiTable, rel: f64, what: &str) {
    assert_eq!(got.names, want.names, "{what}");
    assert_eq!(got.areas, want.areas, "{what}");
    assert_eq!(got.frames, want.frames, "{what}");
    assert_eq!(got.stats.len(), want.stats.len(), "{what}");
    for (i, (g, w)) in got.stats.iter().zip(&want.stats).enumerate() {
        for (name, a, b) in [
            ("mean", g.mean, w.mean),
            ("std", g.std, w.std),
            ("min", g.min, w.min),
            ("max", g.max, w.max),
        ] {
            assert!(
                common::close(a as f64, b as f64, rel),
                "{what} cell {i} {name}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn roi_table_matches_the_cpu_across_chunks() {
    let Some(g) = gpu("roi_table_matches_the_cpu_across_chunks") else {
        return;
    };
    let rois = set();
    for (t, h, w, c) in [(9, 6, 9, 1), (7, 6, 9, 3), (5, 7, 65, 1)] {
        let shape = Shape::new(t, h, w, c);
        let nans = make(
            Kind::F32,
            shape,
            &[1],
            Values::floats(-5.0, 35.0).nan_every(5),
        );
        for s in [
            random(Kind::U8, shape, 2),
            random(Kind::U16, shape, 3),
            nans,
        ] {
            let frame_bytes = (shape.frame_len() * s.dtype().size()) as u64;
            // two frames and a few bytes per chunk: chunk borders are crossed
            for gpu in [g.clone(), g.clone().with_chunk_limit(2 * frame_bytes + 3)] {
                let k = GpuRoi::new(&gpu).unwrap();
                for range in [FrameRange::all(t), FrameRange::new(1, t - 2)] {
                    let what = format!("{} {shape} {range:?}", s.dtype());
                    let cpu = roi_table(&s, &rois, range).unwrap();
                    let got = k
                        .table(&s, &rois, range)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_tables(&got, &cpu, REDUCE_REL, &what);
                }
            }
        }
    }
}

#[test]
fn roi_table_std_keeps_its_digits_far_from_zero() {
    let Some(g) = gpu("roi_table_std_keeps_its_digits_far_from_zero") else {
        return;
    };
    // values 1000 .. 1000.5: a variance near 0.02 under a mean square of 1e6, whose f32
    // spacing (0.06) a sum of squares could not resolve
    let s = make(
        Kind::F32,
        Shape::new(4, 40, 50, 1),
        &[9],
        Values::floats(1000.0, 1000.5),
    );
    let rois = vec![named("all", Roi::parse_rect("0,0,50,40").unwrap())];
    let k = GpuRoi::new(&g).unwrap();
    let got = k.table(&s, &rois, FrameRange::all(4)).unwrap();
    let cpu = roi_table(&s, &rois, FrameRange::all(4)).unwrap();
    for (a, b) in got.stats.iter().zip(&cpu.stats) {
        assert!(b.std > 0.1, "the test data spread: {}", b.std);
        assert!(
            common::close_rel(a.std as f64, b.std as f64, 1e-3),
            "std {} vs {}",
            a.std,
            b.std
        );
    }
}

#[test]
fn the_engine_runs_the_table_on_the_gpu_and_refuses_bad_rois() {
    let Some(g) = gpu("the_engine_runs_the_table_on_the_gpu_and_refuses_bad_rois") else {
        return;
    };
    let s: Stack = random(Kind::U8, Shape::new(3, 6, 9, 1), 4);
    let engine = Engine::with_device(Ok(g.clone()), EngineChoice::Gpu);
    let (t, ran) = engine.roi_table(&s, &set(), FrameRange::all(3)).unwrap();
    assert_eq!(ran.engine, EngineKind::Gpu);
    assert_tables(
        &t,
        &roi_table(&s, &set(), FrameRange::all(3)).unwrap(),
        REDUCE_REL,
        "engine",
    );
    let k = GpuRoi::new(&g).unwrap();
    let outside = vec![named("far", Roi::parse_rect("20,20,2,2").unwrap())];
    match k.table(&s, &outside, FrameRange::all(3)) {
        Err(GpuError::Op(e)) => assert!(e.to_string().contains("'far'"), "{e}"),
        other => panic!("a ROI outside the frame: {:?}", other.map(|t| t.names)),
    }
    assert!(matches!(
        k.table(&s, &[], FrameRange::all(3)),
        Err(GpuError::Op(_))
    ));
    assert!(matches!(
        k.table(&s, &set(), FrameRange::new(1, 5)),
        Err(GpuError::Op(_))
    ));
}
