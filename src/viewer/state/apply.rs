//! Apply-to-full: the ops over the whole base stack in a background job, run of output
//! frames by run of output frames (each with the input frames its sliding window reaches),
//! so the job reports progress and stops when cancelled. Range references are reduced
//! once first; the output is allocated once.

use std::sync::Arc;

use crate::engine::{Engine, Ran};
use crate::load::human_bytes;
use crate::ops::normalize::{Normalize, Source};
use crate::ops::transform::crop_frames;
use crate::ops::{FrameRange, OpError};
use crate::stack::{Samples, Shape, Stack};
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::histogram::job_chunk_frames;
use super::job::{Job, JobCtx};

/// An apply-to-full running in the background.
pub struct ApplyJob {
    pub normalize: Normalize,
    pub job: Job<(Stack, Ran)>,
}

/// Frames beyond an output frame that its sliding windows read.
fn reach(n: &Normalize) -> usize {
    [&n.subtract, &n.divide]
        .into_iter()
        .flatten()
        .filter_map(|s| match s.source {
            Source::Sliding { window, lag, .. } => Some(lag + window.max(1) - 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// `n` over every frame of `stack` through `engine`, `per` output frames at a time.
pub fn normalize_in_runs(
    engine: &Engine,
    stack: &Arc<Stack>,
    n: &Normalize,
    per: usize,
    ctx: &JobCtx,
) -> Result<(Stack, Ran), ViewerError> {
    let shape = stack.shape();
    n.validate(shape)?;
    // a range reference is one image for every run: reduced once, over the whole stack
    let mut fixed = n.clone();
    for step in [&mut fixed.subtract, &mut fixed.divide]
        .into_iter()
        .flatten()
    {
        if let Source::Range { op, range } = step.source {
            ctx.begin(
                &format!("{op} of frames {}..={}", range.first, range.last),
                0,
            );
            step.source = Source::File(engine.reduce(stack, op, range)?.0);
            ctx.check()?;
        }
    }
    let n_out = n.output_frames(shape.frames);
    let extra = reach(n);
    let len = shape.frame_len();
    if n_out * len == 0 {
        return Err(OpError::Invalid("the ops leave no frame".into()).into());
    }
    let per = per.max(1);
    if per >= n_out {
        // one run over the whole stack: the engine's result is the output, no copy
        ctx.begin("normalizing", 1);
        let (mut s, ran) = engine.normalize(stack, &fixed)?;
        s.source = stack.source.clone();
        ctx.step(1);
        return Ok((s, ran));
    }
    let mut out: Vec<f32> = Vec::new();
    out.try_reserve_exact(n_out * len).map_err(|_| {
        ViewerError::Refused(format!(
            "apply to full: not enough memory for {n_out} frames of f32"
        ))
    })?;
    let mut ran = None;
    ctx.begin("normalizing", n_out as u64);
    for a in (0..n_out).step_by(per) {
        ctx.check()?;
        let b = (a + per).min(n_out);
        let last_in = (b - 1 + extra).min(shape.frames - 1);
        let sub = crop_frames(stack, FrameRange::new(a, last_in))?;
        let (part, r) = engine.normalize(&sub, &fixed)?;
        match part.samples() {
            Samples::F32(s) => out.extend_from_slice(&s[..(b - a) * len]),
            _ => return Err(OpError::Invalid("normalization gave no f32 frames".into()).into()),
        }
        ran.get_or_insert(r);
        ctx.step((b - a) as u64);
    }
    let mut s = Stack::from_vec(
        Shape::new(n_out, shape.height, shape.width, shape.channels),
        out,
    )
    .map_err(|e| OpError::Invalid(e.to_string()))?;
    s.source = stack.source.clone();
    Ok((
        s,
        ran.unwrap_or(Ran {
            engine: crate::engine::EngineKind::Cpu,
            note: None,
        }),
    ))
}

impl ViewerState {
    /// Starts the ops on the whole base stack in the background.
    pub fn start_apply(&mut self) {
        let Some(n) = self.pipeline.ops.normalize(self.pipeline.selection) else {
            self.error = Some("apply to full: both ops steps are off".into());
            return;
        };
        if let Some(j) = &self.jobs.rebuild {
            // the ops run on the stack the rebuild is replacing
            self.error = Some(format!(
                "apply to full: wait until \"{}\" is done, or cancel it (status bar).",
                j.what
            ));
            return;
        }
        let (engine, base, job_n) = (
            self.compute.engine.clone(),
            self.pipeline.base.clone(),
            n.clone(),
        );
        // the result is f32 frames in RAM beside the stack: checked before any work
        let sh = base.shape();
        let need = (n.output_frames(sh.frames) * sh.frame_len()) as u64 * 4;
        let ram = self.jobs.ram_available();
        if ram > 0 && need > ram {
            self.error = Some(format!(
                "apply to full: the result is {} of f32 frames, more than the {} of RAM \
                 available. Crop the timeline to fewer frames first, or write the result \
                 to disk headless: blitz normalize {} ... -o OUT.npy (streamed, any \
                 size).\n\nNothing was changed.",
                human_bytes(need),
                human_bytes(ram),
                self.path.display()
            ));
            return;
        }
        let per = job_chunk_frames(&base);
        let job = Job::spawn("apply to full", move |ctx| {
            normalize_in_runs(&engine, &base, &job_n, per, ctx)
        });
        self.jobs.apply = Some(ApplyJob { normalize: n, job });
    }

    /// Takes the finished apply-to-full, if any (one of another stack was dropped with
    /// its job when the stack changed).
    pub(super) fn poll_apply(&mut self) {
        let Some(r) = self.jobs.apply.as_mut().and_then(|j| j.job.poll()) else {
            return;
        };
        let Some(job) = self.jobs.apply.take() else {
            return;
        };
        let secs = job.job.elapsed().as_secs_f64();
        match r {
            Ok((stack, ran)) => {
                let stack = Arc::new(stack);
                let frames = stack.shape().frames;
                if self.change_pipeline("ops applied to the full stack", |p| {
                    p.applied = Some((job.normalize, stack))
                }) {
                    self.last_compute = format!(
                        "ops applied to full: {} frames on {}, {secs:.2} s{}",
                        frames,
                        ran.engine,
                        ran.note.map(|n| format!(" ({n})")).unwrap_or_default()
                    );
                }
            }
            Err(e) if e.is_cancelled() => self.status = "apply to full cancelled".into(),
            Err(e) => self.error = Some(format!("apply to full: {e}")),
        }
    }

    /// Stops a running apply-to-full; the displayed stack stays as it is.
    pub fn cancel_apply(&mut self) {
        if self.jobs.apply.take().is_some() {
            self.status = "apply to full cancelled".into();
        }
    }

    /// Waits for a running apply-to-full (tests, scripts).
    pub fn wait_apply(&mut self) {
        while self.jobs.apply.is_some() {
            std::thread::sleep(std::time::Duration::from_millis(5));
            self.poll_apply();
        }
    }

    /// Waits for the apply-to-full job and gives its own result without applying it
    /// (tests: a cancelled job ends with `Cancelled`).
    pub fn take_apply_job(&mut self) -> Option<ApplyJob> {
        self.jobs.apply.take()
    }
}
