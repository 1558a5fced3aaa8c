//! Background normalization on the GPU (`shaders/normalize.wgsl`): the fused
//! subtract/divide of [`crate::ops::normalize`] over the whole stack, with fixed
//! references (range reduce or file), sliding mean, std and sum kept as running sums,
//! and sliding max and min computed first into a per-frame reference (van Herk /
//! Gil-Werman: two reads per frame whatever the window), which takes as much GPU memory
//! as the output.
//!
//! A stack or result over one storage binding (or over 65 535 output frames, where
//! software adapters stop shader loops) is normalized in runs of output frames, each
//! uploaded with the window frames it reaches. Limits, each answered with
//! [`GpuError::Unsupported`] so the engine computes on the CPU instead: the sliding
//! median; a window whose frames alone exceed one binding.

use std::ops::Range;

use super::reduce::GpuReduce;
use super::stream::FrameStream;
use super::{GpuDevice, GpuError};
use crate::ops::normalize::{Normalize, Source, Step};
use crate::ops::reduce::ReduceOp;
use crate::stack::{Dtype, Shape, Stack};

/// The WGSL source of the normalization kernel.
pub const SHADER: &str = super::shader::kernel_source!("normalize.wgsl");

const WORKGROUP: u64 = 256;
const MAX_LOOP: usize = 65_535;

/// Output frames one dispatch may produce. Software adapters (lavapipe) stop a shader
/// invocation after about 65 535 loop iterations in all, nested loops included, and
/// returned zeros past it: the windows are walked once (`windows`), each output frame
/// costs about three iterations (measured), and an f32 sliding mean, sum or std may
/// re-sum its window on a frame. Half of the budget is used, as a margin.
fn frames_per_dispatch(n: &Normalize, f32_data: bool) -> usize {
    let mut windows = 0;
    let mut per_frame = 3;
    for step in [&n.subtract, &n.divide].into_iter().flatten() {
        if let Source::Sliding { op, window, .. } = step.source {
            windows += window;
            if f32_data && matches!(op, ReduceOp::Std | ReduceOp::Mean | ReduceOp::Sum) {
                per_frame += window;
            }
        }
    }
    (MAX_LOOP / 2).saturating_sub(windows) / per_frame
}
/// Modes whose reference `sliding_extreme` writes per output frame.
const MODE_SLIDING_MAX: u32 = 5;
const MODE_SLIDING_MIN: u32 = 6;

fn per_frame(mode: u32) -> bool {
    mode == MODE_SLIDING_MAX || mode == MODE_SLIDING_MIN
}

super::shader::uniform_params! {
    /// Mirror of the shader's `Params` (16-byte aligned for a uniform).
    struct Params {
        n_samples: u32,
        n_frames: u32,
        n_out: u32,
        dtype: u32,
        row_stride: u32,
        sub_mode: u32,
        div_mode: u32,
        sub_window: u32,
        sub_lag: u32,
        div_window: u32,
        div_lag: u32,
        target_step: u32,
        sub_amount: f32,
        div_amount: f32,
        pad: [f32; 2],
    }
}

/// The compiled normalization pipeline of one device.
pub struct GpuNormalize {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    extreme: wgpu::ComputePipeline,
}

/// How one step reaches the shader: (mode, window, lag, fixed reference).
type StepPlan = (u32, u32, u32, Option<Vec<f32>>);

impl GpuNormalize {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuNormalize, GpuError> {
        // stack (read); subtract and divide references (written by sliding_extreme);
        // output
        let (layout, mut p) = gpu.compute_pipeline(
            "normalize",
            SHADER,
            &["normalize", "sliding_extreme"],
            &[true, false, false, false],
        )?;
        let extreme = p.remove(1);
        Ok(GpuNormalize {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
            extreme,
        })
    }

    /// The reference plan of one step; range references are reduced with `reduce`.
    fn step_plan(
        &self,
        step: &Option<Step>,
        stack: &Stack,
        reduce: &GpuReduce,
    ) -> Result<StepPlan, GpuError> {
        Ok(match step.as_ref().map(|s| &s.source) {
            None => (0, 0, 0, None),
            Some(Source::File(img)) => (1, 0, 0, Some(img.data.clone())),
            Some(Source::Range { op, range }) => {
                (1, 0, 0, Some(reduce.reduce(stack, *op, *range)?.data))
            }
            Some(Source::Sliding { op, window, lag }) => {
                if *window > MAX_LOOP {
                    return Err(GpuError::Unsupported("sliding windows over 65 535 frames"));
                }
                let mode = match op {
                    ReduceOp::Mean => 2,
                    ReduceOp::Std => 3,
                    ReduceOp::Sum => 4,
                    ReduceOp::Max => MODE_SLIDING_MAX,
                    ReduceOp::Min => MODE_SLIDING_MIN,
                    ReduceOp::Median => {
                        return Err(GpuError::Unsupported("the sliding median"));
                    }
                };
                (mode, *window as u32, *lag as u32, None)
            }
        })
    }

    /// The whole stack normalized, as [`Normalize::apply`] does on the CPU. A stack or
    /// result larger than one upload chunk (one storage binding, or the device's chunk
    /// limit) is cut into runs of output frames, each with the input frames its windows
    /// reach, so any stack that fits in RAM can be normalized.
    pub fn apply(
        &self,
        n: &Normalize,
        stack: &Stack,
        reduce: &GpuReduce,
    ) -> Result<Stack, GpuError> {
        let shape = stack.shape();
        n.validate(shape)?;
        let n_out = n.output_frames(shape.frames);
        let p = shape.frame_len();
        // range references are reduced once, over the whole stack
        let sub = self.step_plan(&n.subtract, stack, reduce)?;
        let div = self.step_plan(&n.divide, stack, reduce)?;
        let out_shape = Shape::new(n_out, shape.height, shape.width, shape.channels);
        if n_out == 0 {
            return result_stack(out_shape, Vec::new(), stack);
        }
        let f32_data = stack.dtype() == Dtype::F32;
        let budget = self.gpu.chunk_bytes();
        let fits = stack.bytes().next_multiple_of(4) <= budget
            && (n_out * p * 4) as u64 <= budget
            && n_out <= frames_per_dispatch(n, f32_data);
        // the frames past a run's last output frame that its windows reach
        let halo = [&n.subtract, &n.divide]
            .into_iter()
            .flatten()
            .map(|s| match s.source {
                Source::Sliding { window, lag, .. } => lag + window - 1,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let per_run = if fits {
            n_out
        } else {
            // output frames per run: its input (with the halo), its output and a
            // per-frame reference each within the budget, and the shader's loops within
            // their budget
            let frame_bytes = (p * stack.dtype().size()) as u64;
            let by_input = (budget / frame_bytes.max(1)) as usize;
            let by_output = (budget / (p as u64 * 4).max(1)) as usize;
            by_input
                .saturating_sub(halo)
                .min(by_output)
                .min(frames_per_dispatch(n, f32_data))
                .min(n_out)
        };
        if per_run == 0 {
            return Err(GpuError::Unsupported(
                "sliding windows too long for one dispatch or one storage binding",
            ));
        }
        // run r: output frames o .. o + k from input frames o .. o + k + halo
        let runs: Vec<Range<usize>> = (0..n_out)
            .step_by(per_run)
            .map(|o| o..(o + per_run + halo).min(shape.frames))
            .collect();
        let run_out_bytes = (per_run * p * 4) as u64;
        // a sliding max or min reference holds one frame per output frame
        let reference_bytes = |plan: &StepPlan| match plan {
            (m, ..) if per_frame(*m) => run_out_bytes,
            (_, _, _, Some(v)) => (v.len() * 4) as u64,
            _ => 4,
        };
        let groups = (p as u64).div_ceil(WORKGROUP).max(1);
        let max_dim = self
            .gpu
            .limits()
            .max_compute_workgroups_per_dimension
            .max(1) as u64;
        let gx = groups.min(max_dim);
        let gy = groups.div_ceil(gx);
        let groups = (gx as u32, gy as u32);
        let mut params = Params {
            n_samples: p as u32,
            n_frames: 0,
            n_out: 0,
            dtype: super::dtype_code(stack.dtype()),
            row_stride: (gx * WORKGROUP) as u32,
            sub_mode: sub.0,
            div_mode: div.0,
            sub_window: sub.1,
            sub_lag: sub.2,
            div_window: div.1,
            div_lag: div.2,
            target_step: 0,
            sub_amount: n.subtract.as_ref().map_or(0.0, |s| s.amount),
            div_amount: n.divide.as_ref().map_or(0.0, |s| s.amount),
            pad: [0.0; 2],
        };
        let gpu = &self.gpu;
        let out = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("normalize params");
            let input_frames = (per_run + halo).min(shape.frames);
            let mut frames = FrameStream::new(gpu, stack, "normalize stack", input_frames);
            let reference = |label: &str, plan: &StepPlan| {
                let b = gpu.buffer(label, reference_bytes(plan), storage | dst);
                if let Some(v) = &plan.3 {
                    gpu.queue.write_buffer(&b, 0, bytemuck::cast_slice(v));
                }
                b
            };
            let ref_s = reference("normalize subtract reference", &sub);
            let ref_d = reference("normalize divide reference", &div);
            let out_buf = gpu.buffer(
                "normalize output",
                run_out_bytes,
                storage | wgpu::BufferUsages::COPY_SRC,
            );
            let bind = gpu.bind_group(
                "normalize bind group",
                &self.layout,
                &[&params_buf, frames.buffer(), &ref_s, &ref_d, &out_buf],
            );
            let mut out: Vec<f32> = Vec::new();
            frames.run(&runs, |_, input| {
                let k = per_run.min(n_out - input.start);
                params.n_frames = input.len() as u32;
                params.n_out = k as u32;
                // per-frame references first, one submission each: the target step is
                // a uniform, written before each
                for (target, plan) in [&sub, &div].into_iter().enumerate() {
                    if per_frame(plan.0) {
                        params.target_step = target as u32;
                        gpu.queue
                            .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                        let label = "normalize sliding extreme";
                        let encoder = gpu.encode_pass(label, &self.extreme, &bind, groups);
                        gpu.queue.submit([encoder.finish()]);
                    }
                }
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let encoder = gpu.encode_pass("normalize", &self.pipeline, &bind, groups);
                let part = gpu.read_f32(encoder, &out_buf, (k * p * 4) as u64)?;
                if out.is_empty() {
                    out = part;
                    out.reserve_exact(n_out * p - out.len());
                } else {
                    out.extend_from_slice(&part);
                }
                // read back: this run's work is done
                Ok(None)
            })?;
            Ok(out)
        })?;
        result_stack(out_shape, out, stack)
    }
}

/// The normalized frames as a stack, with the source of the stack they came from.
fn result_stack(shape: Shape, out: Vec<f32>, stack: &Stack) -> Result<Stack, GpuError> {
    let mut s =
        Stack::from_vec(shape, out).map_err(|e| GpuError::Wgpu(format!("result shape: {e}")))?;
    s.source = stack.source.clone();
    Ok(s)
}
