//! The one place where derived data is dropped. Every input of the viewer that other
//! data is computed from reports its change here as a [`Change`]; [`ViewerState::invalidate`]
//! holds the whole table of what depends on what. Caches are also keyed by what they were
//! computed from (frame, op and range, crosshair), so a cache hit is always current, and
//! a background job whose input changed is dropped here, which cancels it.

use crate::ops::FrameRange;
use crate::ops::reduce::ReduceOp;

use super::ViewerState;

/// An input of derived data that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The displayed stack was replaced: a new load, a timeline crop, ops applied to full
    /// or undone, a mask or a transform.
    Stack,
    /// The frame shown.
    Frame,
    /// The ops panel (sources, amounts, windows, reference files).
    Ops,
    /// Aggregate mode on or off, its op, or the timeline selection.
    Aggregate,
    /// The engine the computations run on.
    Engine,
    /// The ROI or its statistic.
    Roi,
    /// The aggregate or previewed image was replaced (or dropped).
    Shown,
}

/// Counters of changes, so that data computed at different times can be compared
/// (what the levels were fitted to, which stack a cache entry is of).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generations {
    /// Stacks loaded.
    pub loaded: u64,
    /// Displayed stacks (loads and rebuilds).
    pub stack: u64,
    /// Changes of the ops panel.
    pub ops: u64,
    /// Aggregate or previewed images shown.
    pub shown: u64,
}

/// What the levels were fitted to: a new value refits them while keep-fitting is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FitKey {
    /// The displayed stack.
    pub stack: u64,
    pub what: Fitted,
}

/// The image the levels apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fitted {
    /// The displayed stack (its histogram).
    Stack,
    /// An aggregate of this op and range.
    Aggregate(ReduceOp, FrameRange),
    /// A preview of the ops as of this ops generation (not the frame: a preview keeps
    /// its levels while scrubbing).
    Preview(u64),
    /// A PCA component or rebuilt frames (not the frame, as a preview).
    Pca(super::pca::PcaView),
}

impl ViewerState {
    /// Drops everything derived from the input that changed, and cancels the background
    /// work computing it.
    pub fn invalidate(&mut self, change: Change) {
        match change {
            Change::Stack => {
                self.gens.stack += 1;
                let p = &mut self.pipeline;
                p.range_cache.clear();
                self.jobs.reference = None;
                // an aggregate or preview of the old stack is not shown while the new one
                // computes
                p.shown = None;
                p.shown_dirty = true;
                if self.jobs.apply.take().is_some() {
                    self.status = "apply to full dropped: the stack changed while it ran".into();
                }
                self.jobs.shown = None;
                self.jobs.envelope = None;
                self.jobs.histogram = None;
                self.jobs.roi = None;
                self.jobs.pixels = None;
                // the ROI set's table is of the old stack: computed again
                self.roi_set_changed();
                // a kymograph of the old stack's frames
                self.jobs.kymograph = None;
                self.lines.kymograph = None;
                self.lines.mark = None;
                // components of the old stack's frames
                self.jobs.pca = None;
                self.pca.result = None;
                self.pca.view = super::pca::PcaView::Off;
                self.profile.env_cache = None;
                self.roi.series = None;
                self.roi.pixel_cache.clear();
                self.display.forget_histograms(true);
                self.display.upload_needed = true;
            }
            Change::Frame => {
                // an aggregate image or a PCA component does not depend on the frame; a
                // frame, a preview or a frame rebuilt from components does
                if self.shows_a_frame() {
                    self.display.upload_needed = true;
                    self.pipeline.shown_dirty = true;
                }
            }
            Change::Ops => {
                self.gens.ops += 1;
                self.pipeline.shown_dirty = true;
            }
            Change::Aggregate | Change::Engine => self.pipeline.shown_dirty = true,
            Change::Roi => {
                self.roi.series = None;
                self.jobs.roi = None;
            }
            Change::Shown => {
                // caches of the shown image (the dataset envelope of an aggregate) are
                // keyed by this count
                self.gens.shown += 1;
                self.display.forget_histograms(false);
                self.display.upload_needed = true;
            }
        }
    }

    /// What the levels would be fitted to now.
    pub fn fit_key(&self) -> FitKey {
        let p = &self.pipeline;
        let what = match (&p.aggregate, &p.shown) {
            _ if self.pca_shown() && p.shown.is_some() => Fitted::Pca(self.pca.view),
            (Some(a), Some(_)) => Fitted::Aggregate(a.op, a.range),
            (None, Some(_)) => Fitted::Preview(self.gens.ops),
            _ => Fitted::Stack,
        };
        FitKey {
            stack: self.gens.stack,
            what,
        }
    }
}
