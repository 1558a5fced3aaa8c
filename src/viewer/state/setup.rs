//! A view set up from the command line (`blitz view --aggregate ... --subtract ...`):
//! what was asked for, and how the viewer's state takes it.

use std::path::PathBuf;

use crate::ops::FrameRange;
use crate::ops::normalize::Source;
pub use crate::viewer::setup::ViewSetup;

use super::ViewerState;
use super::invalidate::Change;
use super::pipeline::{SourceKind, StepSpec};

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

impl ViewerState {
    /// Applies a view set up on the command line.
    pub fn apply_setup(&mut self, v: &ViewSetup) {
        for (src, step) in [(&v.subtract, 0), (&v.divide, 1)] {
            if let Some(src) = src {
                if let Source::Range { range, .. } = src {
                    self.set_selection(range.first, range.last);
                }
                let spec = StepSpec::from_source(src);
                if step == 0 {
                    self.pipeline.ops.subtract = spec;
                } else {
                    self.pipeline.ops.divide = spec;
                }
                self.invalidate(Change::Ops);
            }
        }
        if v.apply {
            self.start_apply();
            self.wait_apply();
        }
        if let Some(a) = v.aggregate {
            let r = a
                .range
                .unwrap_or(FrameRange::all(self.pipeline.stack.shape().frames));
            self.set_selection(r.first, r.last);
            self.pipeline.agg_op = a.op;
            self.set_aggregate(true);
        }
        if let Some(c) = v.crosshair {
            self.profile.crosshair = Some((c.x, c.y));
        }
        self.profile.width = v.width;
        if v.envelopes {
            self.profile.env_image = true;
            self.profile.env_band = true;
            self.profile.env_dataset = true;
        }
        if !v.orient.is_identity() {
            self.set_orientation("--orient", v.orient);
        }
        if let Some(r) = &v.roi {
            self.roi.region = Some(r.clone());
            self.compute_roi();
        }
        for p in &v.pins {
            self.pin_at(p.x as f32 + 0.5, p.y as f32 + 0.5);
        }
        if v.calibration != Default::default() {
            let c = v.calibration;
            self.calibration_input = super::measure::CalibrationInput::of(&c);
            self.set_calibration(c);
        }
        if !v.rois.is_empty() {
            self.roi_set.rois = v.rois.clone();
            self.roi_set_changed();
        }
        if let Some(points) = &v.line {
            self.lines.points = points.clone();
            if v.kymograph {
                self.start_kymograph();
            }
        }
        if let Some(k) = v.pca {
            self.pca.k = k;
            self.start_pca();
        }
        // the command line's set-up is where the user starts: nothing of it to undo
        self.undo.clear();
        self.update_shown();
    }
}
