//! `blitz bench`: every operation timed on one stack, best of several runs after a
//! warm-up, reported as seconds and GB/s of input read.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::ops::Image;
use crate::ops::normalize::{Normalize, Source, Step};
use crate::ops::reduce::{ReduceOp, reduce_into};
use crate::ops::{FrameRange, OpError};
use crate::stack::{Shape, Stack, StackError, StackSample};

/// One timed operation.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub op: String,
    pub engine: &'static str,
    /// Compute time on data already in place (RAM for the CPU, GPU memory for the GPU,
    /// the one-frame result read back).
    pub seconds: Option<f64>,
    /// GB/s of input over `seconds`.
    pub gbps: f64,
    /// GPU rows: upload, compute and readback together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_with_transfer: Option<f64>,
}

/// A stack of pseudo-random samples (u8/u16 over their whole range, f32 in 0..1).
pub fn random_stack<T: StackSample + RandomSample>(shape: Shape) -> Result<Stack, StackError> {
    let mut v: Vec<T> = vec![T::from_bits(0); shape.len()];
    v.par_chunks_mut(1 << 16)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut x = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for s in chunk {
                // xorshift64*
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                *s = T::from_bits(x.wrapping_mul(0x2545_F491_4F6C_DD1D));
            }
        });
    Stack::from_vec(shape, v)
}

/// Samples made from random bits.
pub trait RandomSample {
    fn from_bits(b: u64) -> Self;
}
impl RandomSample for u8 {
    fn from_bits(b: u64) -> Self {
        (b >> 56) as u8
    }
}
impl RandomSample for u16 {
    fn from_bits(b: u64) -> Self {
        (b >> 48) as u16
    }
}
impl RandomSample for f32 {
    fn from_bits(b: u64) -> Self {
        (b >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn time<R>(repeat: usize, mut f: impl FnMut() -> Result<R, OpError>) -> Result<f64, OpError> {
    f()?;
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let t0 = Instant::now();
        std::hint::black_box(f()?);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn sliding_mean(window: usize) -> Normalize {
    Normalize {
        subtract: Some(Step {
            source: Source::Sliding {
                op: ReduceOp::Mean,
                window,
                lag: 0,
            },
            amount: 1.0,
        }),
        divide: None,
    }
}

/// Times every CPU operation on `stack`.
pub fn run_cpu(stack: &Stack, repeat: usize) -> Result<Vec<BenchRow>, OpError> {
    let all = FrameRange::all(stack.shape().frames);
    let bytes = stack.bytes() as f64;
    let mut rows = Vec::new();
    let mut push = |op: String, secs: f64| {
        rows.push(BenchRow {
            op,
            engine: "cpu",
            seconds: Some(secs),
            gbps: bytes / secs / 1e9,
            seconds_with_transfer: None,
        })
    };
    // outputs are reused across runs, as the viewer reuses its buffers: the figures are
    // compute and memory traffic, not the page faults of a fresh allocation
    let sh = stack.shape();
    let mut img = Image::zeros(sh.height, sh.width, sh.channels);
    for op in ReduceOp::ALL {
        push(
            op.name().to_string(),
            time(repeat, || reduce_into(stack, op, all, &mut img))?,
        );
    }
    let frames = stack.shape().frames;
    for w in [10, 100] {
        if w < frames {
            let n = sliding_mean(w);
            let mut out = vec![0f32; n.output_frames(frames) * sh.frame_len()];
            push(
                format!("sliding_mean_w{w}"),
                time(repeat, || n.apply_into(stack, &mut out))?,
            );
        }
    }
    let range_sub = Normalize {
        subtract: Some(Step {
            source: Source::Range {
                op: ReduceOp::Mean,
                range: all,
            },
            amount: 1.0,
        }),
        divide: None,
    };
    let mut out = vec![0f32; sh.len()];
    push(
        "subtract_range_mean".into(),
        time(repeat, || range_sub.apply_into(stack, &mut out))?,
    );
    Ok(rows)
}

/// Times every GPU reduce twice: on a stack already resident on the GPU (dispatch and
/// the readback of the one-frame result) and streamed from RAM (upload, compute and
/// readback together).
pub fn run_gpu(
    stack: &Stack,
    repeat: usize,
    gpu: &crate::gpu::reduce::GpuReduce,
) -> Result<Vec<BenchRow>, crate::gpu::GpuError> {
    let all = FrameRange::all(stack.shape().frames);
    let bytes = stack.bytes() as f64;
    let resident = gpu.upload(stack)?;
    let best = |f: &mut dyn FnMut() -> Result<(), crate::gpu::GpuError>| {
        f()?;
        let mut best = f64::INFINITY;
        for _ in 0..repeat {
            let t0 = Instant::now();
            f()?;
            best = best.min(t0.elapsed().as_secs_f64());
        }
        Ok::<f64, crate::gpu::GpuError>(best)
    };
    let mut rows = Vec::new();
    for op in ReduceOp::ALL {
        let compute = best(&mut || {
            std::hint::black_box(gpu.reduce_resident(&resident, op, all)?);
            Ok(())
        })?;
        let streamed = best(&mut || {
            std::hint::black_box(gpu.reduce(stack, op, all)?);
            Ok(())
        })?;
        rows.push(BenchRow {
            op: op.name().to_string(),
            engine: "gpu",
            seconds: Some(compute),
            gbps: bytes / compute / 1e9,
            seconds_with_transfer: Some(streamed),
        });
    }
    Ok(rows)
}
