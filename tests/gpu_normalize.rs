//! GPU normalization against the CPU reference (`ops::normalize`) on lavapipe: fixed
//! (range, file) and sliding-mean references, every dtype, odd sizes, NaNs.

use blitz::bench::random_stack;
use blitz::gpu::normalize::GpuNormalize;
use blitz::gpu::reduce::GpuReduce;
use blitz::gpu::{GpuDevice, GpuError};
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::reduce::ReduceOp;
use blitz::ops::{FrameRange, Image};
use blitz::{Shape, Stack};

fn gpu(test: &str) -> Option<(GpuNormalize, GpuReduce)> {
    match GpuDevice::new() {
        Ok(g) => Some((GpuNormalize::new(&g).unwrap(), GpuReduce::new(&g).unwrap())),
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
        .map(|(i, &x)| {
            if i % 7 == 3 {
                f32::NAN
            } else {
                x * 50.0 + 10.0
            }
        })
        .collect();
    Stack::from_vec(shape, v).unwrap()
}

fn step(source: Source, amount: f32) -> Option<Step> {
    Some(Step { source, amount })
}

fn compare(gpu: &Stack, cpu: &Stack, what: &str) {
    assert_eq!(gpu.shape(), cpu.shape(), "{what}");
    let (g, c) = (
        gpu.as_slice::<f32>().unwrap(),
        cpu.as_slice::<f32>().unwrap(),
    );
    for (i, (&a, &b)) in g.iter().zip(c).enumerate() {
        if b.is_nan() {
            assert!(a.is_nan(), "{what} sample {i}: gpu {a}, cpu NaN");
        } else {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{what} sample {i}: gpu {a}, cpu {b}"
            );
        }
    }
}

#[test]
fn fixed_and_sliding_mean_references_match_the_cpu() {
    let Some((norm, red)) = gpu("fixed_and_sliding_mean_references_match_the_cpu") else {
        return;
    };
    for (t, h, w, c) in [(9, 3, 5, 1), (12, 1, 65, 1), (7, 2, 3, 3), (4, 1, 1, 1)] {
        let shape = Shape::new(t, h, w, c);
        let file = Image {
            height: h,
            width: w,
            channels: c,
            data: (0..shape.frame_len())
                .map(|i| (i % 5) as f32 + 0.5)
                .collect(),
        };
        let cases = [
            Normalize {
                subtract: step(
                    Source::Range {
                        op: ReduceOp::Mean,
                        range: FrameRange::new(0, t / 2),
                    },
                    1.0,
                ),
                divide: step(Source::File(file.clone()), 0.7),
            },
            Normalize {
                subtract: step(
                    Source::Sliding {
                        op: ReduceOp::Mean,
                        window: 2,
                        lag: 1,
                    },
                    0.8,
                ),
                divide: None,
            },
            Normalize {
                subtract: step(
                    Source::Sliding {
                        op: ReduceOp::Mean,
                        window: 3,
                        lag: 0,
                    },
                    1.0,
                ),
                divide: step(
                    Source::Sliding {
                        op: ReduceOp::Mean,
                        window: 1,
                        lag: 1,
                    },
                    0.5,
                ),
            },
            Normalize {
                subtract: None,
                divide: step(
                    Source::Range {
                        op: ReduceOp::Max,
                        range: FrameRange::all(t),
                    },
                    1.0,
                ),
            },
        ];
        let stacks = [
            random_stack::<u8>(shape).unwrap(),
            random_stack::<u16>(shape).unwrap(),
            with_nans(shape),
        ];
        for s in &stacks {
            for (k, n) in cases.iter().enumerate() {
                let what = format!("{} {shape} case {k}", s.dtype());
                let cpu = n.apply(s).unwrap();
                let got = norm
                    .apply(n, s, &red)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                compare(&got, &cpu, &what);
            }
        }
    }
}

#[test]
fn sliding_max_is_left_to_the_cpu() {
    let Some((norm, red)) = gpu("sliding_max_is_left_to_the_cpu") else {
        return;
    };
    let s = random_stack::<u8>(Shape::new(5, 2, 2, 1)).unwrap();
    let n = Normalize {
        subtract: step(
            Source::Sliding {
                op: ReduceOp::Max,
                window: 2,
                lag: 0,
            },
            1.0,
        ),
        divide: None,
    };
    assert!(matches!(
        norm.apply(&n, &s, &red),
        Err(GpuError::Unsupported(_))
    ));
}
