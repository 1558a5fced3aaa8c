//! What the viewer shows, as a pipeline over the loaded stack (design.md's order, which
//! fixes spec §3.1's crop bug): timeline crop -> ops (normalize, applied to the full
//! stack) -> [aggregate reduce] -> binary mask -> ROI mask -> rotate 90 -> flip x -> flip y.
//! Every step calls the engine or `ops` functions the CLI uses; nothing here draws.

use std::path::PathBuf;
use std::sync::Arc;

use crate::ops::normalize::{Normalize, Source, Step};
use crate::ops::reduce::ReduceOp;
use crate::ops::transform;
use crate::ops::{FrameRange, Image, OpError};
use crate::stack::{Shape, Stack};

/// Where a normalization step takes its reference from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Off,
    /// The reduce of the timeline selection.
    Range,
    /// A reference image loaded from a file.
    File,
    /// A window of frames moving with the frame shown.
    Sliding,
}

/// One step of the ops panel as the user set it.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSpec {
    pub kind: SourceKind,
    pub op: ReduceOp,
    /// 0..=1
    pub amount: f32,
    pub window: usize,
    pub lag: usize,
    /// The reference file and its image (one frame of the stack's frame shape).
    pub file: Option<(PathBuf, Image)>,
    /// The path typed in the panel.
    pub file_input: String,
}

impl StepSpec {
    fn new(amount: f32) -> StepSpec {
        StepSpec {
            kind: SourceKind::Off,
            op: ReduceOp::Mean,
            amount,
            window: 10,
            lag: 0,
            file: None,
            file_input: String::new(),
        }
    }

    /// The engine's step, None when off (or a file source without a file, or amount 0).
    fn step(&self, range: FrameRange) -> Option<Step> {
        if self.amount <= 0.0 {
            return None;
        }
        let source = match self.kind {
            SourceKind::Off => return None,
            SourceKind::Range => Source::Range { op: self.op, range },
            SourceKind::File => Source::File(self.file.as_ref()?.1.clone()),
            SourceKind::Sliding => Source::Sliding {
                op: self.op,
                window: self.window.max(1),
                lag: self.lag,
            },
        };
        Some(Step {
            source,
            amount: self.amount.clamp(0.0, 1.0),
        })
    }
}

/// The ops panel: subtract then divide, both off. Both amounts start at 100 % (BLITZ
/// starts divide at 0 %), so that choosing a divide source shows its effect at once.
#[derive(Clone, Debug, PartialEq)]
pub struct OpsSpec {
    pub subtract: StepSpec,
    pub divide: StepSpec,
}

impl Default for OpsSpec {
    fn default() -> Self {
        OpsSpec {
            subtract: StepSpec::new(1.0),
            divide: StepSpec::new(1.0),
        }
    }
}

impl OpsSpec {
    /// The normalization for the engine, None when both steps are off. `range` is the
    /// timeline selection a Range source reduces.
    pub fn normalize(&self, range: FrameRange) -> Option<Normalize> {
        let n = Normalize {
            subtract: self.subtract.step(range),
            divide: self.divide.step(range),
        };
        (n.subtract.is_some() || n.divide.is_some()).then_some(n)
    }
}

/// View-time transforms, applied in this order: rotate, flip x, flip y.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transforms {
    /// Quarter turns clockwise (0..=3).
    pub rot90: u8,
    pub flip_x: bool,
    pub flip_y: bool,
}

impl Transforms {
    pub fn is_identity(&self) -> bool {
        self.rot90.is_multiple_of(4) && !self.flip_x && !self.flip_y
    }
}

/// A spatial ROI mask: the slice x..x+w, y..y+h of the (masked) frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoiMask {
    pub x: i64,
    pub y: i64,
    pub w: usize,
    pub h: usize,
}

/// The steps between the loaded stack and what the window shows.
#[derive(Clone, Default)]
pub struct Pipeline {
    /// Frames kept by the (undoable) timeline crop.
    pub timeline_crop: Option<FrameRange>,
    /// Ops applied to the whole (cropped) stack, and the result.
    pub applied: Option<(Normalize, Arc<Stack>)>,
    /// Pixels where this one-frame image is 0 become NaN.
    pub binary_mask: Option<(PathBuf, Arc<Stack>)>,
    pub roi_mask: Option<RoiMask>,
    pub transforms: Transforms,
}

/// A one-frame stack holding `img`.
pub fn image_stack(img: Image) -> Result<Stack, OpError> {
    Stack::from_vec(Shape::new(1, img.height, img.width, img.channels), img.data)
        .map_err(|e| OpError::Invalid(e.to_string()))
}

impl Pipeline {
    /// The loaded stack after the timeline crop: what ops and reduce work on.
    pub fn base(&self, raw: &Arc<Stack>) -> Result<Arc<Stack>, OpError> {
        match self.timeline_crop {
            Some(r) => Ok(Arc::new(transform::crop_frames(raw, r)?)),
            None => Ok(raw.clone()),
        }
    }

    /// The stack the ops produced (applied to full), else the base.
    pub fn processed(&self, base: &Arc<Stack>) -> Arc<Stack> {
        match &self.applied {
            Some((_, s)) => s.clone(),
            None => base.clone(),
        }
    }

    /// Masks and transforms, applied to any stack of the processed frame shape (the
    /// processed stack, one reduced or previewed frame).
    pub fn finish(&self, s: Arc<Stack>) -> Result<Arc<Stack>, OpError> {
        let mut s = s;
        if let Some((path, mask)) = &self.binary_mask {
            s = Arc::new(
                transform::binary_mask(&s, mask)
                    .map_err(|e| OpError::Invalid(format!("mask {}: {e}", path.display())))?,
            );
        }
        if let Some(m) = self.roi_mask {
            s = Arc::new(transform::roi_mask(&s, m.x, m.y, m.w, m.h)?);
        }
        for _ in 0..self.transforms.rot90 % 4 {
            s = Arc::new(transform::rotate90_cw(&s));
        }
        if self.transforms.flip_x {
            s = Arc::new(transform::flip_x(&s));
        }
        if self.transforms.flip_y {
            s = Arc::new(transform::flip_y(&s));
        }
        Ok(s)
    }
}

/// Aggregate mode: one reduced image over a frame range replaces the frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    pub op: ReduceOp,
    pub range: FrameRange,
    /// Dragging the range keeps its width.
    pub fixed_width: bool,
}

pub use super::setup::ViewSetup;

impl StepSpec {
    /// The panel's step for an engine source (amount 100 %).
    pub fn from_source(source: &Source) -> StepSpec {
        let mut s = StepSpec::new(1.0);
        match source {
            Source::Range { op, .. } => {
                s.kind = SourceKind::Range;
                s.op = *op;
            }
            Source::File(img) => {
                s.kind = SourceKind::File;
                s.file = Some((PathBuf::from("(command line)"), img.clone()));
            }
            Source::Sliding { op, window, lag } => {
                s.kind = SourceKind::Sliding;
                s.op = *op;
                s.window = *window;
                s.lag = *lag;
            }
        }
        s
    }
}
