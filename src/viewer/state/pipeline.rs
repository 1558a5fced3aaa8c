//! What the viewer shows, as a pipeline over the loaded stack (design.md's order, which
//! fixes spec §3.1's crop bug): timeline crop -> ops (normalize, applied to the full
//! stack) -> [aggregate reduce] -> binary mask -> ROI mask, then shown through the
//! orientation (rotate 90 -> flip x -> flip y), a view that copies nothing. Every step
//! calls the engine or `ops` functions the CLI uses; nothing here draws.
//! [`PipelineState`] holds the stacks along the way and what the user set up.

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
    pub(super) fn new(amount: f32) -> StepSpec {
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

/// How the frames are shown: quarter turns, flip x, flip y. A view: the stacks keep their
/// own orientation, the display and the pointer map coordinates through it, and exports
/// copy through it.
pub type Transforms = crate::ops::orientation::Orientation;

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
    /// True when `other` makes the same displayed stack (it may show it in another
    /// orientation): changing between the two copies nothing.
    pub fn same_stack(&self, other: &Pipeline) -> bool {
        let same_arc = |a: Option<&Arc<Stack>>, b: Option<&Arc<Stack>>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        self.timeline_crop == other.timeline_crop
            && self.roi_mask == other.roi_mask
            && same_arc(
                self.applied.as_ref().map(|a| &a.1),
                other.applied.as_ref().map(|a| &a.1),
            )
            && same_arc(
                self.binary_mask.as_ref().map(|m| &m.1),
                other.binary_mask.as_ref().map(|m| &m.1),
            )
    }

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

    /// The masks, applied to any stack of the processed frame shape (the processed
    /// stack, one reduced or previewed frame). The orientation is not applied: it is how
    /// the result is shown.
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

/// The stacks from the loaded one to what is shown, and the set-up that makes them.
pub struct PipelineState {
    /// The stack as loaded.
    pub raw: Arc<Stack>,
    /// `raw` after the timeline crop: what ops and reduce work on.
    pub base: Arc<Stack>,
    /// The load and crop `base` was cut from (it is only cut again when they change).
    pub(super) base_key: Option<(u64, Option<FrameRange>)>,
    /// The displayed stack: base, ops applied to full, masks (shown through
    /// `steps.transforms`).
    pub stack: Arc<Stack>,
    pub steps: Pipeline,
    /// The ops panel; previewed on the shown frame until applied to full.
    pub ops: OpsSpec,
    /// Aggregate mode when set: a reduced image replaces the frame.
    pub aggregate: Option<Aggregate>,
    /// The timeline selection (aggregate range and Range reference), kept across modes.
    pub selection: FrameRange,
    pub agg_op: ReduceOp,
    /// The aggregate or previewed image (one frame, masks and transforms applied).
    pub shown: Option<Arc<Stack>>,
    /// `shown` must be recomputed (frame, ops or aggregate changed).
    pub shown_dirty: bool,
    /// The last Range references reduced for the ops preview, by (op, range): one for
    /// each step, newest last.
    pub(super) range_cache: Vec<((ReduceOp, FrameRange), crate::ops::Image)>,
}

impl PipelineState {
    /// Everything set to show `raw` as it is.
    pub fn new(raw: Arc<Stack>) -> PipelineState {
        let frames = raw.shape().frames;
        PipelineState {
            base: raw.clone(),
            stack: raw.clone(),
            raw,
            base_key: None,
            steps: Pipeline::default(),
            ops: OpsSpec::default(),
            aggregate: None,
            selection: FrameRange::all(frames),
            agg_op: ReduceOp::Mean,
            shown: None,
            shown_dirty: true,
            range_cache: Vec::new(),
        }
    }

    /// The stack ops produced (applied to full), else the base: what aggregates reduce.
    pub fn processed(&self) -> Arc<Stack> {
        self.steps.processed(&self.base)
    }

    /// The image shown and its frame index: the aggregate or previewed image, else
    /// frame `frame` of the displayed stack.
    pub fn shown_at(&self, frame: usize) -> (&Stack, usize) {
        match &self.shown {
            Some(s) => (s, 0),
            None => (&self.stack, frame),
        }
    }

    /// The ops to preview on the shown frame: None when applied to full or off.
    pub fn preview_ops(&self) -> Option<Normalize> {
        match self.steps.applied {
            None => self.ops.normalize(self.selection),
            Some(_) => None,
        }
    }
}
