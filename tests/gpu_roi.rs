//! GPU ROI time series against the CPU reference (`ops::roi::roi_series`, mean) on
//! lavapipe: every dtype, RGB, NaN, rectangles and polygons, chunk borders.

use blitz::bench::random_stack;
use blitz::gpu::roi::GpuRoi;
use blitz::gpu::{GpuDevice, GpuError};
use blitz::ops::FrameRange;
use blitz::ops::roi::{Roi, Stat, roi_series};
use blitz::{Shape, Stack};

fn device(test: &str) -> Option<GpuDevice> {
    match GpuDevice::new() {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("SKIPPED: no GPU adapter ({e}); {test} did not run");
            None
        }
    }
}

fn with_nans(shape: Shape) -> Stack {
    let s = random_stack::<f32>(shape).unwrap();
    let v: Vec<f32> = s
        .as_slice::<f32>()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 5 == 2 { f32::NAN } else { x * 40.0 - 5.0 })
        .collect();
    Stack::from_vec(shape, v).unwrap()
}

fn close(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-5 * b.abs().max(1.0)
}

#[test]
fn roi_series_match_the_cpu_across_chunks() {
    let Some(g) = device("roi_series_match_the_cpu_across_chunks") else {
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
            random_stack::<u8>(shape).unwrap(),
            random_stack::<u16>(shape).unwrap(),
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
    let Some(g) = device("roi_median_and_bad_rois_are_refused") else {
        return;
    };
    let k = GpuRoi::new(&g).unwrap();
    let s = random_stack::<u8>(Shape::new(3, 4, 4, 1)).unwrap();
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
