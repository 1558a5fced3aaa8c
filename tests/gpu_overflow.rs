//! GPU f32 moments near f32's maximum (issue 16, item 9): mean, sum and std of a reduce,
//! and the sliding mean, sum and std of a normalization, give what the CPU (f64) gives:
//! finite where the CPU's result is, infinite where it is, and one overflow does not
//! poison the later windows of that pixel. Without a GPU adapter the tests say SKIPPED.

mod common;

use blitz::gpu::normalize::GpuNormalize;
use blitz::gpu::reduce::GpuReduce;
use blitz::ops::FrameRange;
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::reduce::{ReduceOp, reduce};
use blitz::{Shape, Stack};
use common::close_rel;

const M: f32 = f32::MAX;

/// Per pixel, six frames; each row's exact result is far from cancelling, so the f64
/// reference is right to 1e-5 and so must the GPU be.
const PIXELS: [[f32; 6]; 9] = [
    [3e38, 3e38, 3e38, 3e38, 3e38, 3e38], // sum 1.8e39: inf; mean 3e38; std 0
    [3e38, 2e38, 1e38, 3e38, 2e38, 1e38], // mean 2e38, std 8.2e37
    [-3e38, -3e38, -3e38, 0.0, 0.0, 0.0], // sum -inf, mean -1.5e38, std 1.5e38
    [M, M, 1.0, f32::NAN, 2.0, M],        // five numbers: mean 0.6 MAX
    [1e30, 2e30, 3e30, 4e30, 5e30, 6e30], // squares beyond f32 (std overflowed)
    [3e38, 1.0, 1.0, 1.0, 1.0, 1.0],      // one huge value, then small ones
    [3e38, -3e38, 3e38, 3e38, -3e38, 3e38], // mean 1e38, std 2.8e38
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.5],       // ordinary values keep their accuracy
    [1e-30, 2e-30, 3e-30, 4e-30, 5e-30, 6e-30],
];

/// The row of tiny values, whose squares underflow f32 (a limit of the GPU std that is
/// not about overflow).
const TINY: usize = 8;

fn stack() -> Stack {
    let mut v = Vec::new();
    for t in 0..6 {
        v.extend(PIXELS.iter().map(|p| p[t]));
    }
    Stack::from_vec(Shape::new(6, 1, PIXELS.len(), 1), v).unwrap()
}

/// GPU value `g` against CPU value `c`: NaN, infinities (with their sign) and zeros
/// exactly, the rest within 1e-5.
fn agree(g: f32, c: f32) -> bool {
    if c.is_nan() {
        g.is_nan()
    } else if c.is_infinite() || c == 0.0 {
        g == c
    } else {
        close_rel(g as f64, c as f64, 1e-5)
    }
}

#[test]
fn reduce_moments_near_f32_max_match_the_cpu() {
    let Some(g) = common::gpu("reduce_moments_near_f32_max_match_the_cpu") else {
        return;
    };
    let s = stack();
    let frame_bytes = s.bytes() / 6;
    // one dispatch, and chunks of two frames (the scale carried between chunks)
    for dev in [g.clone(), g.with_chunk_limit(2 * frame_bytes)] {
        let k = GpuReduce::new(&dev).unwrap();
        for op in [ReduceOp::Mean, ReduceOp::Sum, ReduceOp::Std] {
            for range in [FrameRange::all(6), FrameRange::new(1, 4)] {
                let cpu = reduce(&s, op, range).unwrap();
                let gpu = k.reduce(&s, op, range).unwrap();
                for (i, (&a, &b)) in gpu.data.iter().zip(&cpu.data).enumerate() {
                    if op == ReduceOp::Std && i == TINY {
                        // squares of 1e-30 underflow f32: not this test's concern
                        continue;
                    }
                    assert!(
                        agree(a, b),
                        "{op:?} {range:?} pixel {i} {:?}: gpu {a}, cpu {b}",
                        PIXELS[i]
                    );
                }
            }
        }
    }
}

#[test]
fn sliding_moments_near_f32_max_match_the_cpu() {
    let Some(g) = common::gpu("sliding_moments_near_f32_max_match_the_cpu") else {
        return;
    };
    let norm = GpuNormalize::new(&g).unwrap();
    let red = GpuReduce::new(&g).unwrap();
    let s = stack();
    for op in [ReduceOp::Mean, ReduceOp::Sum, ReduceOp::Std] {
        for (window, lag) in [(2, 0), (3, 1), (1, 0)] {
            let n = Normalize {
                subtract: Some(Step {
                    source: Source::Sliding { op, window, lag },
                    amount: 1.0,
                }),
                divide: None,
            };
            let cpu = n.apply(&s).unwrap();
            let gpu = norm.apply(&n, &s, &red).unwrap();
            let (c, gv) = (
                cpu.as_slice::<f32>().unwrap(),
                gpu.as_slice::<f32>().unwrap(),
            );
            let p = PIXELS.len();
            for (k, (&a, &b)) in gv.iter().zip(c).enumerate() {
                let (t, i) = (k / p, k % p);
                if op == ReduceOp::Std && i == TINY {
                    continue;
                }
                // x - reference: its rounding is relative to the larger of the two
                let x = PIXELS[i][t];
                let scale = (b.abs().max(x.abs()) as f64).max(1.0);
                let ok = if b.is_finite() && a.is_finite() {
                    (a as f64 - b as f64).abs() <= 1e-5 * scale
                } else {
                    agree(a, b)
                };
                assert!(
                    ok,
                    "sliding {op:?} w{window} lag{lag} frame {t} pixel {i} {:?}: gpu {a}, cpu {b}",
                    PIXELS[i]
                );
            }
        }
    }
}
