//! GPU normalization against the CPU reference (`ops::normalize`) on lavapipe: fixed
//! (range, file) and sliding mean, std, sum, max and min references, every dtype, odd
//! sizes, NaNs and infinities.

mod common;

use blitz::gpu::GpuError;
use blitz::gpu::normalize::GpuNormalize;
use blitz::gpu::reduce::GpuReduce;
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::reduce::ReduceOp;
use blitz::ops::{FrameRange, Image};
use blitz::{Shape, Stack};
use common::{Kind, NORMALIZE_REL, Values, close, make, random};

fn gpu(test: &str) -> Option<(GpuNormalize, GpuReduce)> {
    common::gpu(test).map(|g| (GpuNormalize::new(&g).unwrap(), GpuReduce::new(&g).unwrap()))
}

/// Floats in 10..60, about one in seven NaN.
fn with_nans(shape: Shape) -> Stack {
    make(
        Kind::F32,
        shape,
        &[1],
        Values::floats(10.0, 60.0).nan_every(7),
    )
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
        } else if b.is_infinite() {
            assert_eq!(a, b, "{what} sample {i}");
        } else {
            assert!(
                close(a as f64, b as f64, NORMALIZE_REL),
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
            random(Kind::U8, shape, 2),
            random(Kind::U16, shape, 3),
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

fn sliding(op: ReduceOp, window: usize, lag: usize) -> Source {
    Source::Sliding { op, window, lag }
}

/// Every sliding op the GPU runs, alone and combined, on `stacks`, against the CPU.
fn check_sliding(norm: &GpuNormalize, red: &GpuReduce, stacks: &[Stack], what: &str) {
    let ops = [
        ReduceOp::Std,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Sum,
        ReduceOp::Mean,
    ];
    for s in stacks {
        let t = s.shape().frames;
        for op in ops {
            // window 1, a middle one, one with a lag, and the whole stack
            for (w, lag) in [(1, 0), (3, 0), (2, 1), (4, 2), (t, 0)] {
                if w + lag > t {
                    continue;
                }
                let cases = [
                    Normalize {
                        subtract: step(sliding(op, w, lag), 0.9),
                        divide: None,
                    },
                    Normalize {
                        subtract: None,
                        divide: step(sliding(op, w, lag), 0.8),
                    },
                    // both steps sliding, with different windows and ops
                    Normalize {
                        subtract: step(sliding(op, w, lag), 1.0),
                        divide: step(sliding(ReduceOp::Max, 1, lag), 0.5),
                    },
                ];
                for (k, n) in cases.iter().enumerate() {
                    let what = format!("{what} {} {op:?} w{w} lag{lag} case {k}", s.dtype());
                    let cpu = n.apply(s).unwrap();
                    let got = norm
                        .apply(n, s, red)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    compare(&got, &cpu, &what);
                }
            }
        }
    }
}

#[test]
fn sliding_std_max_min_and_sum_match_the_cpu() {
    let Some((norm, red)) = gpu("sliding_std_max_min_and_sum_match_the_cpu") else {
        return;
    };
    for (t, h, w, c) in [(9, 3, 5, 1), (7, 2, 3, 3), (4, 1, 1, 1), (13, 1, 6, 1)] {
        let shape = Shape::new(t, h, w, c);
        let stacks = [
            random(Kind::U8, shape, 4),
            random(Kind::U16, shape, 5),
            with_nans(shape),
        ];
        check_sliding(&norm, &red, &stacks, &format!("{shape}"));
    }
}

#[test]
fn sliding_std_of_offset_floats_and_infinities_match_the_cpu() {
    let Some((norm, red)) = gpu("sliding_std_of_offset_floats_and_infinities_match_the_cpu") else {
        return;
    };
    let shape = Shape::new(10, 2, 3, 1);
    let base = random(Kind::F32, shape, 6);
    let base = base.as_slice::<f32>().unwrap();
    // a large offset with a small spread: the shift keeps the variance
    let offset: Vec<f32> = base.iter().map(|&x| 1.0e4 + 3.0 * x).collect();
    // +inf, -inf and NaN in some windows; whole windows of NaN
    let p = shape.frame_len();
    let special: Vec<f32> = base
        .iter()
        .enumerate()
        .map(|(k, &x)| match (k % p, k / p) {
            (0, 3) => f32::INFINITY,
            (1, 2) | (1, 6) => f32::NEG_INFINITY,
            (2, 4) => f32::INFINITY,
            (2, 5) => f32::NEG_INFINITY,
            (3, 2..=6) => f32::NAN,
            _ => x * 20.0 - 10.0,
        })
        .collect();
    let stacks = [
        Stack::from_vec(shape, offset).unwrap(),
        Stack::from_vec(shape, special).unwrap(),
    ];
    check_sliding(&norm, &red, &stacks, "f32 special");
}

#[test]
fn sliding_extremes_by_hand() {
    let Some((norm, red)) = gpu("sliding_extremes_by_hand") else {
        return;
    };
    // one pixel over 7 frames; window 3, lag 1: frames t+1 ..= t+3, 4 output frames
    let v = vec![9u8, 1, 5, 2, 8, 3, 0];
    let s = Stack::from_vec(Shape::new(7, 1, 1, 1), v).unwrap();
    let run = |op| {
        let n = Normalize {
            subtract: step(sliding(op, 3, 1), 1.0),
            divide: None,
        };
        norm.apply(&n, &s, &red)
            .unwrap()
            .as_slice::<f32>()
            .unwrap()
            .to_vec()
    };
    // windows [1,5,2] [5,2,8] [2,8,3] [8,3,0]: max 5 8 8 8, min 1 2 2 0
    assert_eq!(
        run(ReduceOp::Max),
        vec![9.0 - 5.0, 1.0 - 8.0, 5.0 - 8.0, 2.0 - 8.0]
    );
    assert_eq!(
        run(ReduceOp::Min),
        vec![9.0 - 1.0, 1.0 - 2.0, 5.0 - 2.0, 2.0 - 0.0]
    );
}

#[test]
fn sliding_median_is_left_to_the_cpu() {
    let Some((norm, red)) = gpu("sliding_median_is_left_to_the_cpu") else {
        return;
    };
    let s = random(Kind::U8, Shape::new(5, 2, 2, 1), 7);
    let n = Normalize {
        subtract: step(sliding(ReduceOp::Median, 2, 0), 1.0),
        divide: None,
    };
    assert!(matches!(
        norm.apply(&n, &s, &red),
        Err(GpuError::Unsupported(_))
    ));
}

#[test]
fn stacks_over_one_chunk_are_normalized_in_runs_of_frames() {
    let Some(g) = common::gpu("stacks_over_one_chunk_are_normalized_in_runs_of_frames") else {
        return;
    };
    let stacks = [
        random(Kind::U8, Shape::new(23, 5, 7, 1), 8),
        random(Kind::U16, Shape::new(17, 4, 3, 3), 9),
        with_nans(Shape::new(19, 6, 5, 1)),
    ];
    for s in &stacks {
        let sh = s.shape();
        let frame = (sh.frame_len() * s.dtype().size()) as u64;
        let out_frame = (sh.frame_len() * 4) as u64;
        // chunks of a few frames: many runs, each with its window halo
        for limit in [out_frame.max(frame) * 8, out_frame.max(frame) * 11 + 3] {
            let dev = g.clone().with_chunk_limit(limit);
            let (norm, red) = (
                GpuNormalize::new(&dev).unwrap(),
                GpuReduce::new(&dev).unwrap(),
            );
            let file = Image {
                height: sh.height,
                width: sh.width,
                channels: sh.channels,
                data: (0..sh.frame_len()).map(|i| 1.0 + (i % 5) as f32).collect(),
            };
            let cases = [
                Normalize {
                    subtract: step(sliding(ReduceOp::Mean, 4, 1), 1.0),
                    divide: step(sliding(ReduceOp::Max, 3, 0), 0.5),
                },
                Normalize {
                    subtract: step(
                        Source::Range {
                            op: ReduceOp::Mean,
                            range: FrameRange::new(2, sh.frames - 2),
                        },
                        1.0,
                    ),
                    divide: step(Source::File(file), 1.0),
                },
                Normalize {
                    subtract: step(sliding(ReduceOp::Std, 5, 2), 0.8),
                    divide: None,
                },
            ];
            for (k, n) in cases.iter().enumerate() {
                let want = n.apply(s).unwrap();
                let got = norm.apply(n, s, &red).unwrap();
                compare(&got, &want, &format!("{:?} case {k} limit {limit}", sh));
            }
        }
    }
}

#[test]
fn long_stacks_stay_within_a_dispatch_loop_budget() {
    // lavapipe stops an invocation after ~65 535 loop iterations in all and returned
    // zeros past ~21 845 output frames; runs of frames keep every dispatch below that
    let Some((norm, red)) = gpu("long_stacks_stay_within_a_dispatch_loop_budget") else {
        return;
    };
    let t = 25_000;
    // small values: a difference of large means would test f32 rounding, not the budget
    let v: Vec<u16> = (0..t * 2).map(|i| (i * 7919 % 97) as u16).collect();
    let s = Stack::from_vec(Shape::new(t, 1, 2, 1), v).unwrap();
    for n in [
        Normalize {
            subtract: step(
                Source::Range {
                    op: ReduceOp::Mean,
                    range: FrameRange::new(0, t - 1),
                },
                1.0,
            ),
            divide: None,
        },
        Normalize {
            subtract: step(sliding(ReduceOp::Mean, 3, 2), 1.0),
            divide: None,
        },
    ] {
        let want = n.apply(&s).unwrap();
        let got = norm.apply(&n, &s, &red).unwrap();
        compare(&got, &want, &format!("{} frames", t));
    }
}
