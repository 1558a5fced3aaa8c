//! Changes of what is shown: the pipeline (timeline crop, masks, orientation), aggregate
//! mode and the timeline selection. The rebuild a pipeline change needs is `rebuild.rs`. Each reports what it changed to
//! [`ViewerState::invalidate`].

use std::path::Path;
use std::sync::Arc;

use crate::ops::FrameRange;
use crate::ops::reduce::ReduceOp;

use super::ViewerState;
use super::invalidate::Change;
use super::pipeline::{Aggregate, RoiMask, Transforms, image_stack};
use super::rebuild::After;
use crate::load::LoadOptions;
use crate::ops::normalize::read_reference;

/// Which end of the timeline selection is dragged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionEnd {
    Start,
    End,
}

impl ViewerState {
    /// Aggregate mode on (over the timeline selection) or off (back to frames; the
    /// selection stays).
    pub fn set_aggregate(&mut self, on: bool) {
        if on {
            // one image replaces the frame at a time
            self.pca.view = super::pca::PcaView::Off;
        }
        let p = &mut self.pipeline;
        p.aggregate = on.then_some(Aggregate {
            op: p.agg_op,
            range: p.selection,
            fixed_width: p.aggregate.is_some_and(|a| a.fixed_width),
        });
        self.invalidate(Change::Aggregate);
    }

    /// The reduce op of aggregate mode (applied at once when the mode is on).
    pub fn set_agg_op(&mut self, op: ReduceOp) {
        if op == self.pipeline.agg_op {
            return;
        }
        self.pipeline.agg_op = op;
        if let Some(a) = &mut self.pipeline.aggregate {
            a.op = op;
            self.invalidate(Change::Aggregate);
        }
    }

    /// Sets the selection (and the aggregate range), clamped to the stack.
    pub fn set_selection(&mut self, first: usize, last: usize) {
        let n = self.pipeline.stack.shape().frames;
        let (a, b) = (first.min(n - 1), last.min(n - 1));
        let r = FrameRange::new(a.min(b), a.max(b));
        let p = &mut self.pipeline;
        if r != p.selection {
            p.selection = r;
            if let Some(agg) = &mut p.aggregate {
                agg.range = r;
            }
            self.invalidate(Change::Aggregate);
        }
    }

    /// One end of the selection moved to frame `to`; with the aggregate's fixed width on,
    /// the other end follows so the window keeps its width.
    pub fn move_selection(&mut self, end: SelectionEnd, to: usize) {
        let max = self.pipeline.stack.shape().frames.saturating_sub(1);
        let (mut a, mut b) = (self.pipeline.selection.first, self.pipeline.selection.last);
        let fixed = self.pipeline.aggregate.is_some_and(|a| a.fixed_width);
        let width = b - a;
        match (end, fixed) {
            (SelectionEnd::Start, false) => a = to,
            (SelectionEnd::End, false) => b = to,
            (SelectionEnd::Start, true) => {
                a = to.min(max - width);
                b = a + width;
            }
            (SelectionEnd::End, true) => {
                b = to.min(max).max(width);
                a = b - width;
            }
        }
        self.set_selection(a, b);
    }

    /// Keeps frames `r` (of the displayed stack) only; undoable. Frame, selection and
    /// aggregate range follow the frames they showed.
    pub fn crop_timeline(&mut self, r: FrameRange) {
        let offset = self.pipeline.steps.timeline_crop.map_or(0, |c| c.first);
        let abs = FrameRange::new(offset + r.first, offset + r.last);
        let frame = self.playback.frame.clamp(r.first, r.last) - r.first;
        self.change_pipeline_then(
            &format!("timeline cropped to frames {}..={}", abs.first, abs.last),
            |p| {
                p.timeline_crop = Some(abs);
                // ops applied to the old frames do not fit the new ones
                p.applied = None;
            },
            Some(After {
                selection: FrameRange::new(0, r.len() - 1),
                frame,
            }),
        );
    }

    /// Back to every loaded frame; frame and selection keep pointing at the same frames.
    pub fn undo_timeline_crop(&mut self) {
        let Some(c) = self.pipeline.steps.timeline_crop else {
            return;
        };
        let (frame, sel) = (self.playback.frame + c.first, self.pipeline.selection);
        self.change_pipeline_then(
            "timeline crop undone",
            |p| {
                p.timeline_crop = None;
                p.applied = None;
            },
            Some(After {
                selection: FrameRange::new(sel.first + c.first, sel.last + c.first),
                frame,
            }),
        );
    }

    /// The ops panel changed (the UI edits `pipeline.ops` in place, then says so).
    pub fn ops_changed(&mut self) {
        self.invalidate(Change::Ops);
    }

    /// Shows the frames through `o` (a view: no stack is copied or rebuilt); undoable.
    /// ROI, pins and crosshair keep their data coordinates, so they turn with the picture.
    pub fn set_orientation(&mut self, what: &str, o: Transforms) {
        if o != self.pipeline.steps.transforms {
            self.change_pipeline(what, |p| p.transforms = o);
        }
    }

    /// Flips the displayed stack left to right.
    pub fn toggle_flip_x(&mut self) {
        let mut o = self.pipeline.steps.transforms;
        o.flip_x = !o.flip_x;
        self.set_orientation("flip x", o);
    }

    /// Flips the displayed stack top to bottom.
    pub fn toggle_flip_y(&mut self) {
        let mut o = self.pipeline.steps.transforms;
        o.flip_y = !o.flip_y;
        self.set_orientation("flip y", o);
    }

    /// Turns the displayed stack a quarter clockwise.
    pub fn rotate90(&mut self) {
        let mut o = self.pipeline.steps.transforms;
        o.rot90 = (o.rot90 + 1) % 4;
        self.set_orientation("rotated 90° clockwise", o);
    }

    /// Removes masks and transforms.
    pub fn reset_masks_and_transforms(&mut self) {
        self.change_pipeline("masks and transforms reset", |p| {
            p.roi_mask = None;
            p.binary_mask = None;
            p.transforms = Default::default();
        });
    }

    /// Back to the raw stack after an apply-to-full.
    pub fn undo_apply(&mut self) {
        self.change_pipeline("ops undone: the raw stack is shown", |p| p.applied = None);
    }

    /// Masks the display to the rectangle (clamped to the current frame), nested in the
    /// mask already active (spec §5).
    pub fn crop_to_rect(&mut self, x: i64, y: i64, w: usize, h: usize) {
        let s = self.pipeline.stack.shape();
        let (x0, y0) = (x.max(0), y.max(0));
        let x1 = (x + w as i64).min(s.width as i64);
        let y1 = (y + h as i64).min(s.height as i64);
        if x1 <= x0 || y1 <= y0 {
            self.error = Some("crop: the rectangle holds no pixel of the frame".into());
            return;
        }
        // nested masks: the new bounds are relative to the current slice
        let (ox, oy) = self
            .pipeline
            .steps
            .roi_mask
            .map_or((0, 0), |m| (m.x.max(0), m.y.max(0)));
        self.change_pipeline("cropped to the ROI", |p| {
            p.roi_mask = Some(RoiMask {
                x: ox + x0,
                y: oy + y0,
                w: (x1 - x0) as usize,
                h: (y1 - y0) as usize,
            })
        });
    }

    /// Loads a one-frame binary mask of the processed frame size: zero pixels become NaN.
    pub fn load_mask(&mut self, path: &Path) {
        let s = self.pipeline.processed().shape();
        // a mask loads as BLITZ loads it, with the default options; any channel count
        let img = read_reference(path, &LoadOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|img| {
                if (img.height, img.width) == (s.height, s.width) {
                    Ok(img)
                } else {
                    Err(format!(
                        "{}: {} x {} (H x W); the frames are {} x {}",
                        path.display(),
                        img.height,
                        img.width,
                        s.height,
                        s.width
                    ))
                }
            });
        match img {
            Ok(img) => match image_stack(img) {
                Ok(m) => {
                    let m = Arc::new(m);
                    let p = path.to_path_buf();
                    self.change_pipeline(&format!("binary mask {}", path.display()), |pl| {
                        pl.binary_mask = Some((p, m))
                    });
                }
                Err(e) => self.error = Some(format!("mask: {e}")),
            },
            Err(e) => self.error = Some(format!("mask: {e}")),
        }
    }
}
