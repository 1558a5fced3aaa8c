//! Background normalization (spec §3.2 with design.md's sliding window): subtract a
//! reference, then divide by one, each blended by an amount in 0..1:
//!
//! ```text
//! Y = X - a_s * R_s
//! Y = Y / (a_d * R_d + (1 - a_d))      denominator 0 -> 0, non-finite result -> 0
//! ```
//!
//! A reference is a range reduce, a file (one frame), or a sliding window: for output
//! frame t the reduce of frames `t+L ..= t+L+w-1`, defined for `t <= T-L-w`, so applying
//! to the whole stack gives `T-L-w+1` frames. Both references come from the raw stack.
//! The whole stack is processed in one fused pass in frame order, chunk by chunk (see
//! `streamed`); a sliding mean or std keeps running sums, so its cost does not depend on
//! the window.

mod streamed;
mod window;

use super::reduce::{ReduceOp, reduce_chunked};
use super::{FrameRange, Image, OpError};
use crate::stack::{Shape, Stack};
use streamed::Pass;

mod spec;
pub use spec::{ReferenceError, SourceSpec, load_reference, read_reference};

/// Where a reference comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// One frame: `op` over the inclusive frame range.
    Range { op: ReduceOp, range: FrameRange },
    /// A reference image of the stack's frame shape.
    File(Image),
    /// Per output frame t: `op` over frames `t+lag ..= t+lag+window-1`.
    Sliding {
        op: ReduceOp,
        window: usize,
        lag: usize,
    },
}

/// One step: a reference and how much of it to apply (0..=1).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub source: Source,
    pub amount: f32,
}

/// Subtract first, then divide; either may be absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Normalize {
    pub subtract: Option<Step>,
    pub divide: Option<Step>,
}

fn invalid(msg: impl Into<String>) -> OpError {
    OpError::Invalid(msg.into())
}

impl Normalize {
    /// Subtract the sliding `op` of `window` frames at `lag`, fully: the usual
    /// background removal (`--subtract sliding:OP:WINDOW:LAG`).
    pub fn subtract_sliding(op: ReduceOp, window: usize, lag: usize) -> Normalize {
        Normalize {
            subtract: Some(Step {
                source: Source::Sliding { op, window, lag },
                amount: 1.0,
            }),
            divide: None,
        }
    }

    fn steps(&self) -> impl Iterator<Item = &Step> {
        self.subtract.iter().chain(self.divide.iter())
    }

    /// Frames an apply-to-full produces from a stack of `frames` frames.
    pub fn output_frames(&self, frames: usize) -> usize {
        self.steps()
            .filter_map(|s| match s.source {
                Source::Sliding { window, lag, .. } => {
                    Some((frames + 1).saturating_sub(lag.saturating_add(window)))
                }
                _ => None,
            })
            .min()
            .unwrap_or(frames)
    }

    /// Checks amounts, windows and reference shapes against the stack.
    pub fn validate(&self, shape: Shape) -> Result<(), OpError> {
        for (name, s) in [("subtract", &self.subtract), ("divide", &self.divide)] {
            let Some(s) = s else { continue };
            if !(0.0..=1.0).contains(&s.amount) {
                return Err(invalid(format!(
                    "{name} amount {} is not in 0..1",
                    s.amount
                )));
            }
            match &s.source {
                Source::Range { range, .. } => range.check(shape.frames)?,
                Source::File(img) => {
                    if (img.height, img.width, img.channels)
                        != (shape.height, shape.width, shape.channels)
                    {
                        return Err(invalid(format!(
                            "{name} reference is {}x{}x{} (H x W x C), the stack's frames are {}x{}x{}",
                            img.height,
                            img.width,
                            img.channels,
                            shape.height,
                            shape.width,
                            shape.channels
                        )));
                    }
                }
                Source::Sliding { window, lag, .. } => {
                    if *window == 0 {
                        return Err(invalid(format!("{name} sliding window must be at least 1")));
                    }
                    if lag
                        .checked_add(*window)
                        .is_none_or(|end| end > shape.frames)
                    {
                        return Err(invalid(format!(
                            "{name} sliding window {window} with lag {lag} needs more than the stack's {} frames",
                            shape.frames
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole stack normalized: an f32 stack of `output_frames` frames.
    pub fn apply(&self, stack: &Stack) -> Result<Stack, OpError> {
        let shape = stack.shape();
        let n_out = self.output_frames(shape.frames);
        let mut out = vec![0f32; n_out * shape.frame_len()];
        self.apply_into(stack, &mut out)?;
        let out_shape = Shape::new(n_out, shape.height, shape.width, shape.channels);
        let mut s = Stack::from_vec(out_shape, out).map_err(|e| invalid(e.to_string()))?;
        s.source = stack.source.clone();
        Ok(s)
    }

    /// [`Normalize::apply`] into a buffer of `output_frames` frames, so that repeated
    /// runs (the viewer, benchmarks) reuse one allocation.
    pub fn apply_into(&self, stack: &Stack, out: &mut [f32]) -> Result<(), OpError> {
        let shape = stack.shape();
        self.validate(shape)?;
        let (n_out, p) = (self.output_frames(shape.frames), shape.frame_len());
        if out.len() != n_out * p {
            return Err(invalid(format!(
                "output holds {} samples, {n_out} frames of {p} need {}",
                out.len(),
                n_out * p
            )));
        }
        let chunk_bytes = stack.default_chunk_bytes();
        self.pass(stack, None, chunk_bytes)?
            .run(chunk_bytes, Some(out), |_, _| Ok::<(), OpError>(()))
    }

    /// The whole stack normalized in frame order, reading at most about `chunk_bytes` of
    /// frames at a time: `sink` gets each finished run of output frames (its first output
    /// frame, then the frames' samples, frame-major), in order, so a result bigger than
    /// RAM can go straight to a file. The first error of `sink` stops the pass.
    pub fn apply_chunked<E: From<OpError>>(
        &self,
        stack: &Stack,
        chunk_bytes: usize,
        sink: impl FnMut(usize, &[f32]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.pass(stack, None, chunk_bytes)?
            .run(chunk_bytes, None, sink)
    }

    /// Output frame `t` alone (the viewer's preview). Sliding steps need
    /// `t <= T - lag - window`; other frames come back unprocessed, as f32.
    pub fn preview(&self, stack: &Stack, t: usize) -> Result<Image, OpError> {
        let shape = stack.shape();
        self.validate(shape)?;
        if t >= shape.frames {
            return Err(invalid(format!(
                "frame {t} is beyond the stack's {} frames",
                shape.frames
            )));
        }
        let mut img = Image::zeros(shape.height, shape.width, shape.channels);
        if t >= self.output_frames(shape.frames) {
            let f = stack.frame(t);
            img.data
                .iter_mut()
                .enumerate()
                .for_each(|(i, d)| *d = f.get_f32(i));
            return Ok(img);
        }
        // one frame: its blocks of samples split over the threads
        self.pass(stack, Some(t), stack.default_chunk_bytes())?
            .run(
                usize::MAX,
                Some(&mut img.data),
                |_, _| Ok::<(), OpError>(()),
            )?;
        Ok(img)
    }

    /// A checked pass over every output frame, or output frame `only`, with its range
    /// and file references computed (the range reduce under `chunk_bytes`).
    fn pass<'a>(
        &'a self,
        stack: &'a Stack,
        only: Option<usize>,
        chunk_bytes: usize,
    ) -> Result<Pass<'a>, OpError> {
        let shape = stack.shape();
        self.validate(shape)?;
        if shape.frame_len() == 0 {
            return Err(invalid("the stack's frames hold no sample"));
        }
        let fixed_ref = |step: &Option<Step>| -> Result<Option<Image>, OpError> {
            Ok(match step.as_ref().map(|s| &s.source) {
                Some(Source::Range { op, range }) => {
                    Some(reduce_chunked(stack, *op, *range, chunk_bytes)?)
                }
                Some(Source::File(img)) => Some(img.clone()),
                _ => None,
            })
        };
        let fixed = [fixed_ref(&self.subtract)?, fixed_ref(&self.divide)?];
        let outs = match only {
            Some(t) => t..t + 1,
            None => 0..self.output_frames(shape.frames),
        };
        Ok(Pass {
            n: self,
            stack,
            fixed,
            outs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(t: usize, v: Vec<f32>) -> Stack {
        let p = v.len() / t;
        Stack::from_vec(Shape::new(t, 1, p, 1), v).unwrap()
    }

    #[test]
    fn subtract_range_mean_and_divide_file() {
        // one pixel, frames 2, 4, 6, 8: mean of frames 0..=1 = 3
        let s = stack(4, vec![2.0, 4.0, 6.0, 8.0]);
        let n = Normalize {
            subtract: Some(Step {
                source: Source::Range {
                    op: ReduceOp::Mean,
                    range: FrameRange::new(0, 1),
                },
                amount: 1.0,
            }),
            divide: Some(Step {
                source: Source::File(Image {
                    height: 1,
                    width: 1,
                    channels: 1,
                    data: vec![4.0],
                }),
                amount: 0.5,
            }),
        };
        // (x - 3) / (0.5 * 4 + 0.5) = (x - 3) / 2.5
        let out = n.apply(&s).unwrap();
        assert_eq!(out.as_slice::<f32>().unwrap(), &[-0.4, 0.4, 1.2, 2.0]);
        assert_eq!(n.preview(&s, 2).unwrap().data, vec![1.2]);
    }

    #[test]
    fn sliding_window_follows_design_indices() {
        // T = 10, w = 2, lag = 1: frame t uses frames t+1, t+2; T-L-w+1 = 8 frames out
        let v: Vec<f32> = (0..10).map(|t| (t * t) as f32).collect();
        let s = stack(10, v.clone());
        for op in [ReduceOp::Mean, ReduceOp::Max, ReduceOp::Std] {
            let n = Normalize {
                subtract: Some(Step {
                    source: Source::Sliding {
                        op,
                        window: 2,
                        lag: 1,
                    },
                    amount: 1.0,
                }),
                divide: None,
            };
            let out = n.apply(&s).unwrap();
            assert_eq!(out.shape().frames, 8);
            for t in 0..8 {
                let (a, b) = (v[t + 1], v[t + 2]);
                let r = match op {
                    ReduceOp::Mean => (a + b) / 2.0,
                    ReduceOp::Max => b,
                    _ => (b - a) / 2.0,
                };
                assert!(
                    (out.value(t, 0, 0, 0) - (v[t] - r)).abs() < 1e-4,
                    "{op} t={t}"
                );
            }
        }
    }

    #[test]
    fn zero_denominator_and_non_finite_give_zero() {
        let s = stack(2, vec![5.0, f32::INFINITY]);
        let n = Normalize {
            subtract: None,
            divide: Some(Step {
                source: Source::File(Image {
                    height: 1,
                    width: 1,
                    channels: 1,
                    data: vec![0.0],
                }),
                amount: 1.0,
            }),
        };
        assert_eq!(n.apply(&s).unwrap().as_slice::<f32>().unwrap(), &[0.0, 0.0]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let s = stack(3, vec![1.0, 2.0, 3.0]);
        let slide = |window, lag| Normalize {
            subtract: Some(Step {
                source: Source::Sliding {
                    op: ReduceOp::Mean,
                    window,
                    lag,
                },
                amount: 1.0,
            }),
            divide: None,
        };
        assert!(slide(3, 1).apply(&s).is_err());
        assert!(slide(0, 0).apply(&s).is_err());
        assert!(slide(3, 0).apply(&s).is_ok());
        let amount = Normalize {
            subtract: Some(Step {
                source: Source::Range {
                    op: ReduceOp::Mean,
                    range: FrameRange::all(3),
                },
                amount: 1.5,
            }),
            divide: None,
        };
        assert!(amount.apply(&s).is_err());
    }

    #[test]
    fn preview_split_over_threads_equals_apply() {
        // 40 000 samples per frame: the preview splits them into several blocks
        let (t, h, w) = (9, 200, 200);
        let v: Vec<u16> = (0..t * h * w).map(|i| ((i * 7919) % 4099) as u16).collect();
        let s = Stack::from_vec(Shape::new(t, h, w, 1), v).unwrap();
        for op in [ReduceOp::Mean, ReduceOp::Max] {
            let n = Normalize {
                subtract: Some(Step {
                    source: Source::Sliding {
                        op,
                        window: 3,
                        lag: 1,
                    },
                    amount: 0.8,
                }),
                divide: None,
            };
            let full = n.apply(&s).unwrap();
            let full = full.as_slice::<f32>().unwrap();
            for f in [0, 2, 4] {
                let p = n.preview(&s, f).unwrap();
                assert_eq!(p.data, full[f * h * w..(f + 1) * h * w], "{op} frame {f}");
            }
        }
    }
}
