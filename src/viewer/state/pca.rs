//! PCA in the viewer (BLITZ's PCA tab): the first k components of the timeline
//! selection of the processed stack, computed in a background job by `ops::pca` (the
//! function `blitz pca` calls), then shown in place of the frame: one component image,
//! or the frame rebuilt from its first k components. The scores of the shown component
//! are plotted over the frames.

use std::sync::Arc;

use crate::ops::Image;
use crate::ops::pca::{Pca, PcaMethod};

use super::ViewerState;
use super::job::Job;

/// What the PCA panel shows in place of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcaView {
    /// The frames (PCA off).
    Off,
    /// Component j (from 0).
    Component(usize),
    /// The frame shown rebuilt from the first k components (and the mean frame).
    Rebuilt(usize),
}

/// The PCA panel: how many components, the last result and what is shown of it.
pub struct PcaState {
    /// Components the next computation asks for.
    pub k: usize,
    pub result: Option<Arc<Pca>>,
    pub view: PcaView,
}

impl Default for PcaState {
    fn default() -> Self {
        PcaState {
            k: 5,
            result: None,
            view: PcaView::Off,
        }
    }
}

impl ViewerState {
    /// A PCA view (a component or a rebuilt frame) replaces the frame.
    pub fn pca_shown(&self) -> bool {
        self.pca.view != PcaView::Off
    }

    /// Starts the PCA of the timeline selection of the processed stack in the background.
    pub fn start_pca(&mut self) {
        let stack = self.pipeline.processed();
        let range = self.pipeline.selection;
        let k = self.pca.k.max(1);
        let what = format!(
            "PCA: {k} components of frames {}..={}",
            range.first, range.last
        );
        let engine = self.compute.engine.clone();
        let job = Job::spawn(what, move |ctx| {
            Ok(engine
                .pca_watched(&stack, k, range, PcaMethod::Auto, ctx)?
                .0)
        });
        self.jobs.pca = Some(job);
    }

    /// Takes a finished PCA: its first component is shown.
    pub(super) fn poll_pca(&mut self) {
        let Some(r) = self.jobs.pca.as_mut().and_then(|j| j.poll()) else {
            return;
        };
        let Some(job) = self.jobs.pca.take() else {
            return;
        };
        match r {
            Ok(p) => {
                self.last_compute = format!(
                    "PCA of frames {}..={}, {}: cpu, {:.2} s",
                    p.range.first,
                    p.range.last,
                    p.method,
                    job.elapsed().as_secs_f64()
                );
                self.pca.result = Some(Arc::new(p));
                self.set_pca_view(PcaView::Component(0));
            }
            Err(e) if e.is_cancelled() => self.status = "PCA cancelled".into(),
            Err(e) => self.error = Some(format!("PCA: {e}")),
        }
    }

    /// Shows `view` of the PCA result (aggregate mode goes off: one image replaces the
    /// frame at a time).
    pub fn set_pca_view(&mut self, view: PcaView) {
        let view = match (&self.pca.result, view) {
            (None, _) => PcaView::Off,
            (Some(p), PcaView::Component(j)) => PcaView::Component(j.min(p.k() - 1)),
            (Some(p), PcaView::Rebuilt(k)) => PcaView::Rebuilt(k.clamp(1, p.k())),
            (_, PcaView::Off) => PcaView::Off,
        };
        if view == self.pca.view {
            return;
        }
        if view != PcaView::Off && self.pipeline.aggregate.is_some() {
            self.set_aggregate(false);
        }
        self.pca.view = view;
        self.pipeline.shown_dirty = true;
    }

    /// The frame of the PCA range a rebuilt view shows: the frame shown, or the nearest
    /// end of the range when it is outside.
    fn pca_frame(&self, p: &Pca) -> usize {
        self.playback.frame.clamp(p.range.first, p.range.last)
    }

    /// What the PCA view shows, in words; None while PCA is off.
    pub fn pca_caption(&self) -> Option<String> {
        let p = self.pca.result.as_ref()?;
        let of = format!("frames {}..={}", p.range.first, p.range.last);
        match self.pca.view {
            PcaView::Off => None,
            PcaView::Component(j) => Some(format!(
                "PCA component {} of {of}: {:.1} % of the variance",
                j + 1,
                p.ratio[j] * 100.0
            )),
            PcaView::Rebuilt(k) => {
                let t = self.pca_frame(p);
                let share: f64 = p.ratio[..k].iter().sum();
                let outside = if t != self.playback.frame {
                    format!(" (frame {} is outside them)", self.playback.frame)
                } else {
                    String::new()
                };
                Some(format!(
                    "frame {t} rebuilt from {k} PCA components of {of}: {:.1} % of the \
                     variance{outside}",
                    share * 100.0
                ))
            }
        }
    }

    /// The PCA image to show in place of the frame and what it is; None while PCA is off.
    pub fn pca_image(&self) -> Option<(String, Image)> {
        let p = self.pca.result.as_ref()?;
        let what = self.pca_caption()?;
        let img = match self.pca.view {
            PcaView::Off => return None,
            PcaView::Component(j) => p.components[j].clone(),
            PcaView::Rebuilt(k) => p.reconstruct(self.pca_frame(p) - p.range.first, k),
        };
        Some((what, img))
    }

    /// The scores of the shown component over the frames of its range: (frame, score).
    pub fn pca_scores(&self) -> Option<(usize, Vec<(usize, f32)>)> {
        let p = self.pca.result.as_ref()?;
        let PcaView::Component(j) = self.pca.view else {
            return None;
        };
        let pts = (0..p.range.len())
            .map(|t| (p.range.first + t, p.score(t, j)))
            .collect();
        Some((j, pts))
    }
}
