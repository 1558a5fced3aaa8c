//! `blitz bench`: every operation timed on one stack, best of several runs after a
//! warm-up, reported as seconds and GB/s of input read.

pub mod edits;

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::EngineKind;
use crate::ops::Image;
use crate::ops::normalize::{Normalize, Source, Step};
use crate::ops::reduce::{ReduceOp, reduce_into};
use crate::ops::{FrameRange, OpError};
use crate::stack::{Shape, Stack, StackError, StackSample};

/// One timed operation.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub op: String,
    pub engine: EngineKind,
    /// Compute time on data already in place (RAM for the CPU, GPU memory for the GPU,
    /// the one-frame result read back).
    pub seconds: Option<f64>,
    /// GB/s of input over `seconds`.
    pub gbps: f64,
    /// GPU rows: upload, compute and readback together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_with_transfer: Option<f64>,
    /// GPU rows: how `seconds` was measured, "timestamps" (the GPU's own clock around
    /// every compute pass) or "wall clock" (submit to result, when the adapter has no
    /// timestamp queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<&'static str>,
    /// Ceiling rows: the bytes moved (a copy counts what it reads and what it writes),
    /// which `gbps` is over; at most one storage binding, whatever the stack's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
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

/// The ROI the ROI rows time: the centre half of the frame in each direction.
fn centre_roi(sh: Shape) -> crate::ops::roi::Roi {
    crate::ops::roi::Roi::Rect {
        x: (sh.width / 4) as i64,
        y: (sh.height / 4) as i64,
        w: (sh.width / 2).max(1),
        h: (sh.height / 2).max(1),
    }
}

/// The normalization the range rows time: the mean of every frame subtracted.
fn range_mean(frames: usize) -> Normalize {
    Normalize {
        subtract: Some(Step {
            source: Source::Range {
                op: ReduceOp::Mean,
                range: FrameRange::all(frames),
            },
            amount: 1.0,
        }),
        divide: None,
    }
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
            engine: EngineKind::Cpu,
            seconds: Some(secs),
            gbps: bytes / secs / 1e9,
            seconds_with_transfer: None,
            timing: None,
            bytes: None,
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
    let range_sub = range_mean(frames);
    let mut out = vec![0f32; sh.len()];
    push(
        "subtract_range_mean".into(),
        time(repeat, || range_sub.apply_into(stack, &mut out))?,
    );
    let roi = centre_roi(sh);
    push(
        "roi_series_mean".into(),
        time(repeat, || {
            crate::ops::roi::roi_series(stack, &roi, crate::ops::roi::Stat::Mean, all)
        })?,
    );
    Ok(rows)
}

/// One timed GPU case of [`run_gpu`].
type GpuCase<'a> = dyn FnMut() -> Result<(), crate::gpu::GpuError> + 'a;

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
    let dev = gpu.device();
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
    // the resident compute by the GPU's timestamps where it has them
    let best_gpu =
        |f: &mut dyn FnMut() -> Result<(), crate::gpu::GpuError>| dev.best_time(repeat, f);
    let mut rows = Vec::new();
    for op in ReduceOp::ALL {
        let (compute, timed) = best_gpu(&mut || {
            std::hint::black_box(gpu.reduce_resident(&resident, op, all)?);
            Ok(())
        })?;
        let streamed = best(&mut || {
            std::hint::black_box(gpu.reduce(stack, op, all)?);
            Ok(())
        })?;
        rows.push(BenchRow {
            op: op.name().to_string(),
            engine: EngineKind::Gpu,
            seconds: Some(compute),
            gbps: bytes / compute / 1e9,
            seconds_with_transfer: Some(streamed),
            timing: Some(if timed { "timestamps" } else { "wall clock" }),
            bytes: None,
        });
    }
    // the ceilings: the device's own copy bandwidth and the upload of the same bytes
    for (op, t) in [
        (
            "ceiling_copy_d2d",
            crate::gpu::bandwidth::copy(dev, stack.bytes(), repeat)?,
        ),
        (
            "ceiling_upload_h2d",
            crate::gpu::bandwidth::upload(dev, stack.bytes(), repeat)?,
        ),
    ] {
        rows.push(BenchRow {
            op: op.to_string(),
            engine: EngineKind::Gpu,
            seconds: Some(t.seconds),
            gbps: t.gbps(),
            seconds_with_transfer: None,
            timing: Some(if t.timestamps {
                "timestamps"
            } else {
                "wall clock"
            }),
            bytes: Some(t.bytes),
        });
    }
    drop(resident);
    // normalization and ROI series from RAM: upload, compute and the result read back
    let frames = stack.shape().frames;
    let norm = crate::gpu::normalize::GpuNormalize::new(dev)?;
    let roi_kernel = crate::gpu::roi::GpuRoi::new(dev)?;
    let roi = centre_roi(stack.shape());
    let mut cases: Vec<(String, Box<GpuCase<'_>>)> = vec![(
        "subtract_range_mean".into(),
        Box::new(|| {
            std::hint::black_box(norm.apply(&range_mean(frames), stack, gpu)?);
            Ok(())
        }),
    )];
    if 10 < frames {
        cases.push((
            "sliding_mean_w10".into(),
            Box::new(|| {
                std::hint::black_box(norm.apply(&sliding_mean(10), stack, gpu)?);
                Ok(())
            }),
        ));
    }
    cases.push((
        "roi_series_mean".into(),
        Box::new(|| {
            let s = roi_kernel.series(stack, &roi, crate::ops::roi::Stat::Mean, all)?;
            std::hint::black_box(s);
            Ok(())
        }),
    ));
    for (op, mut f) in cases {
        let secs = best(&mut *f)?;
        rows.push(BenchRow {
            op,
            engine: EngineKind::Gpu,
            seconds: None,
            gbps: bytes / secs / 1e9,
            seconds_with_transfer: Some(secs),
            timing: Some("wall clock"),
            bytes: None,
        });
    }
    Ok(rows)
}

/// Cost of one frame change in the viewer: upload of the new frame in its raw dtype and
/// its draw through the colormap into a 1920 x 1080 target, fitted, waited for.
#[derive(Clone, Debug, Serialize)]
pub struct ScrubRow {
    pub frame: String,
    pub dtype: &'static str,
    pub changes: usize,
    /// Median milliseconds per frame change (upload + draw + wait).
    pub ms_median: f64,
    pub ms_mean: f64,
    /// Median milliseconds of a redraw of the same frame (draw + wait, no upload).
    pub ms_redraw: f64,
}

/// Times `changes` frame changes for 1080p and 4K frames of u8 and u16 on `gpu`.
pub fn run_display_scrub(
    gpu: &crate::gpu::GpuDevice,
    changes: usize,
) -> Result<Vec<ScrubRow>, String> {
    use crate::ops::histogram::Levels;
    use crate::viewer::colormap::{Colormap, DisplayParams};
    use crate::viewer::display::{DisplayRenderer, Placement, offscreen_target};

    let (device, queue) = (gpu.device(), gpu.queue());
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let (tw, th) = (1920u32, 1080u32);
    let target = offscreen_target(device, tw, th, format);
    let view = target.create_view(&Default::default());
    let mut rows = Vec::new();
    for (name, h, w) in [("1080p", 1080usize, 1920usize), ("4K", 2160, 3840)] {
        for dtype in [crate::Dtype::U8, crate::Dtype::U16] {
            // a few distinct frames so every change uploads new data
            let shape = Shape::new(4, h, w, 1);
            let stack = match dtype {
                crate::Dtype::U16 => random_stack::<u16>(shape),
                _ => random_stack::<u8>(shape),
            }
            .map_err(|e| e.to_string())?;
            let mut r = DisplayRenderer::new(device, queue, format);
            let zoom = (tw as f32 / w as f32).min(th as f32 / h as f32);
            let place = Placement {
                origin: [0.0, 0.0],
                zoom,
                orient: Default::default(),
            };
            let params = DisplayParams {
                levels: Levels {
                    min: 0.0,
                    max: if dtype == crate::Dtype::U8 {
                        255.0
                    } else {
                        65535.0
                    },
                },
                gamma: 1.0,
                colormap: Colormap::Viridis,
            };
            let mut frame = |t: usize, upload: bool| -> Result<f64, String> {
                let t0 = Instant::now();
                if upload {
                    r.upload_frame(device, queue, &stack, t)
                        .map_err(|e| e.to_string())?;
                }
                r.draw_and_wait(device, queue, &params, place, &view, format)
                    .map_err(|e| e.to_string())?;
                Ok(t0.elapsed().as_secs_f64() * 1e3)
            };
            frame(0, true)?; // warm-up: texture creation, pipeline
            let mut ms: Vec<f64> = (1..=changes)
                .map(|i| frame(i % 4, true))
                .collect::<Result<_, _>>()?;
            let mut redraw: Vec<f64> = (0..changes.min(10))
                .map(|_| frame(0, false))
                .collect::<Result<_, _>>()?;
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            rows.push(ScrubRow {
                frame: format!("{name} {w}x{h}"),
                dtype: dtype.name(),
                changes,
                ms_mean: ms.iter().sum::<f64>() / ms.len() as f64,
                ms_median: median(&mut ms),
                ms_redraw: median(&mut redraw),
            });
        }
    }
    Ok(rows)
}

/// Time from a change in the viewer (the aggregate range moved, the sliding window
/// changed) to the new image drawn: compute + upload of the result + draw, waited for.
#[derive(Clone, Debug, Serialize)]
pub struct InteractiveRow {
    pub change: String,
    pub engine: EngineKind,
    /// Median milliseconds over the changes.
    pub ms_median: f64,
    /// Of which the computation (engine call, result back in RAM).
    pub ms_compute: f64,
}

/// Runs the interactive cases on `stack` (one channel) with the CPU engine and, when
/// `gpu` is given, the GPU engine on the stack made resident once.
pub fn run_interactive(
    stack: &Stack,
    gpu: &crate::gpu::GpuDevice,
    use_gpu: bool,
    changes: usize,
) -> Result<Vec<InteractiveRow>, String> {
    use crate::ops::histogram::Levels;
    use crate::viewer::colormap::{Colormap, DisplayParams};
    use crate::viewer::display::{DisplayRenderer, Placement, offscreen_target};
    use crate::viewer::state::pipeline::image_stack;

    let (device, queue) = (gpu.device(), gpu.queue());
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let target = offscreen_target(device, 1920, 1080, format);
    let view = target.create_view(&Default::default());
    let mut r = DisplayRenderer::new(device, queue, format);
    let sh = stack.shape();
    let n = sh.frames;
    let params = DisplayParams {
        levels: Levels {
            min: 0.0,
            max: 255.0,
        },
        gamma: 1.0,
        colormap: Colormap::Viridis,
    };
    let place = Placement {
        origin: [0.0, 0.0],
        zoom: (1920.0 / sh.width as f32).min(1080.0 / sh.height as f32),
        orient: Default::default(),
    };
    let mut show = |img: Image| -> Result<(), String> {
        let s = image_stack(img).map_err(|e| e.to_string())?;
        r.upload_frame(device, queue, &s, 0)
            .map_err(|e| e.to_string())?;
        r.draw_and_wait(device, queue, &params, place, &view, format)
            .map_err(|e| e.to_string())
    };
    let gpu_reduce = if use_gpu {
        let g = crate::gpu::reduce::GpuReduce::new(gpu).map_err(|e| e.to_string())?;
        let resident = g.upload(stack).map_err(|e| e.to_string())?;
        Some((g, resident))
    } else {
        None
    };
    let mut rows = Vec::new();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    type Compute<'a> = Box<dyn Fn(usize) -> Result<Image, String> + 'a>;
    let mut cases: Vec<(String, EngineKind, Compute)> = Vec::new();
    for width in [100usize, n] {
        let width = width.min(n);
        let span = n - width + 1;
        let range = move |i: usize| FrameRange::new(i % span, i % span + width - 1);
        cases.push((
            format!("aggregate mean, {width} frames, range moved"),
            EngineKind::Cpu,
            Box::new(move |i| reduce_cpu(stack, range(i))),
        ));
        if let Some((g, res)) = &gpu_reduce {
            cases.push((
                format!("aggregate mean, {width} frames, range moved"),
                EngineKind::Gpu,
                Box::new(move |i| {
                    g.reduce_resident(res, ReduceOp::Mean, range(i))
                        .map_err(|e| e.to_string())
                }),
            ));
        }
    }
    for window in [10usize, 100] {
        let window = window.min(n);
        let t = n / 2 - window.min(n / 2);
        cases.push((
            format!("sliding mean, window changed to {window}"),
            EngineKind::Cpu,
            Box::new(move |i| {
                let w = if i % 2 == 0 { window } else { window - 1 }.max(1);
                let norm = Normalize::subtract_sliding(ReduceOp::Mean, w, 0);
                norm.preview(stack, t).map_err(|e| e.to_string())
            }),
        ));
    }
    for (change, engine, compute) in cases {
        show(compute(0)?)?; // warm-up
        let (mut total, mut comp) = (Vec::new(), Vec::new());
        for i in 1..=changes {
            let t0 = Instant::now();
            let img = compute(i)?;
            comp.push(t0.elapsed().as_secs_f64() * 1e3);
            show(img)?;
            total.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        rows.push(InteractiveRow {
            change,
            engine,
            ms_median: median(total),
            ms_compute: median(comp),
        });
    }
    Ok(rows)
}

fn reduce_cpu(stack: &Stack, range: FrameRange) -> Result<Image, String> {
    crate::ops::reduce::reduce(stack, ReduceOp::Mean, range).map_err(|e| e.to_string())
}
