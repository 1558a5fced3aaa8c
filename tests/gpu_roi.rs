//! GPU ROI time series against the CPU reference (`ops::roi::roi_series`, mean) on
//! lavapipe: every dtype, RGB, NaN, rectangles and polygons, chunk borders.

mod common;

use blitz::gpu::GpuError;
use blitz::gpu::roi::GpuRoi;
use blitz::ops::FrameRange;
use blitz::ops::roi::{Roi, Stat, roi_series};
use blitz::{Shape, Stack};
use common::{Kind, REDUCE_REL, Values, gpu, make, random};

/// Floats in -5..35, about one in five NaN.
fn with_nans(shape: Shape) -> Stack {
    make(
        Kind::F32,
        shape,
        &[1],
        Values::floats(-5.0, 35.0).nan_every(5),
    )
}

fn close(a: f32, b: f32) -> bool {
    common::close(a as f64, b as f64, REDUCE_REL)
}

#[test]
fn roi_series_match_the_cpu_across_chunks() {
    let Some(g) = gpu("roi_series_match_the_cpu_across_chunks") else {
        return;
    };
    let rois = [
        Roi::Rect {
            x: 1,
            y: 1,
            w: 5,
            h: 3,
        },
        Roi::Rect {
            x: -3,
            y: 0,
            w: 100,
            h: 100,
        },
        Roi::Polygon(vec![(0.5, 0.2), (8.0, 1.0), (3.0, 5.5)]),
    ];
    for (t, h, w, c) in [(9, 6, 9, 1), (7, 6, 9, 3), (5, 7, 65, 1)] {
        let shape = Shape::new(t, h, w, c);
        for s in [
            random(Kind::U8, shape, 2),
            random(Kind::U16, shape, 3),
            with_nans(shape),
        ] {
            let frame_bytes = (shape.frame_len() * s.dtype().size()) as u64;
            // two frames and a few bytes per chunk: chunk borders are crossed
            for gpu in [g.clone(), g.clone().with_chunk_limit(2 * frame_bytes + 3)] {
                let k = GpuRoi::new(&gpu).unwrap();
                for roi in &rois {
                    for range in [FrameRange::all(t), FrameRange::new(1, t - 2)] {
                        let what = format!("{} {shape} {roi:?} {range:?}", s.dtype());
                        let cpu = roi_series(&s, roi, Stat::Mean, range).unwrap();
                        let got = k
                            .series(&s, roi, Stat::Mean, range)
                            .unwrap_or_else(|e| panic!("{what}: {e}"));
                        assert_eq!(got.frames, cpu.frames, "{what}");
                        assert_eq!(got.pixels, cpu.pixels, "{what}");
                        for i in 0..cpu.value.len() {
                            assert!(
                                close(got.value[i], cpu.value[i]),
                                "{what} mean {i}: {} vs {}",
                                got.value[i],
                                cpu.value[i]
                            );
                            assert!(close(got.min[i], cpu.min[i]), "{what} min {i}");
                            assert!(close(got.max[i], cpu.max[i]), "{what} max {i}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn roi_median_and_bad_rois_are_refused() {
    let Some(g) = gpu("roi_median_and_bad_rois_are_refused") else {
        return;
    };
    let k = GpuRoi::new(&g).unwrap();
    let s = random(Kind::U8, Shape::new(3, 4, 4, 1), 4);
    let r = Roi::Rect {
        x: 0,
        y: 0,
        w: 2,
        h: 2,
    };
    assert!(matches!(
        k.series(&s, &r, Stat::Median, FrameRange::all(3)),
        Err(GpuError::Unsupported(_))
    ));
    let outside = Roi::Rect {
        x: 10,
        y: 10,
        w: 2,
        h: 2,
    };
    assert!(matches!(
        k.series(&s, &outside, Stat::Mean, FrameRange::all(3)),
        Err(GpuError::Op(_))
    ));
}
