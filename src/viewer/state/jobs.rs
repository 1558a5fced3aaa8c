//! The background jobs the viewer runs, polled together once per frame, listed for the
//! progress bars and cancelled by kind.

use crate::ops::roi::RoiSeries;

use super::ViewerState;
use super::apply::ApplyJob;
use super::exports::ExportJob;
use super::histogram::StackHistogram;
use super::job::{Job, JobStatus};
use super::loader::LoadJob;
use super::profiles::EnvelopeJob;
use super::rebuild::RebuildJob;
use super::roi::PixelJob;
use super::shown::{ReferenceJob, ShownJob};

/// Which job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Load,
    Apply,
    /// The displayed stack rebuilt after a timeline crop, a mask or an apply.
    Rebuild,
    Aggregate,
    /// A Range reference of the ops preview.
    Reference,
    Roi,
    Envelope,
    Histogram,
    Pixels,
    Export,
    Pca,
    Kymograph,
    /// The results table of the ROI set.
    RoiTable,
}

/// Every job the viewer may be running; an empty slot is no job.
pub struct Jobs {
    pub load: Option<LoadJob>,
    pub apply: Option<ApplyJob>,
    pub rebuild: Option<RebuildJob>,
    /// An aggregate being reduced.
    pub shown: Option<ShownJob>,
    pub reference: Option<ReferenceJob>,
    pub roi: Option<Job<(RoiSeries, crate::engine::EngineKind)>>,
    pub envelope: Option<EnvelopeJob>,
    /// The histogram of every frame, after the sampled one.
    pub histogram: Option<Job<StackHistogram>>,
    pub pixels: Option<PixelJob>,
    pub export: Option<ExportJob>,
    pub pca: Option<Job<crate::ops::pca::Pca>>,
    pub roi_table: Option<Job<crate::ops::roi::table::RoiTable>>,
    pub kymograph: Option<
        Job<(
            crate::ops::kymograph::Line,
            crate::ops::FrameRange,
            crate::ops::Image,
        )>,
    >,
    /// Work on stacks over this many bytes (or mapped) runs in the background.
    pub background_above: u64,
    /// The RAM the memory checks take as available (None: what the system says now).
    pub ram_limit: Option<u64>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            load: None,
            apply: None,
            rebuild: None,
            shown: None,
            reference: None,
            roi: None,
            envelope: None,
            histogram: None,
            pixels: None,
            export: None,
            pca: None,
            kymograph: None,
            roi_table: None,
            background_above: 256 << 20,
            ram_limit: None,
        }
    }
}

impl Jobs {
    /// RAM available for a copy the viewer is about to make (0: unknown).
    pub fn ram_available(&self) -> u64 {
        self.ram_limit
            .unwrap_or_else(crate::load::available_ram_bytes)
    }

    /// The running jobs and their progress, in a fixed order.
    pub fn running(&self) -> Vec<(JobKind, JobStatus)> {
        let mut v = Vec::new();
        if let Some(j) = &self.load {
            v.push((JobKind::Load, j.status()));
        }
        if let Some(j) = &self.apply {
            v.push((JobKind::Apply, j.job.status()));
        }
        if let Some(j) = &self.rebuild {
            v.push((JobKind::Rebuild, j.job.status()));
        }
        if let Some(j) = &self.shown {
            v.push((JobKind::Aggregate, j.job.status()));
        }
        if let Some(j) = &self.reference {
            v.push((JobKind::Reference, j.job.status()));
        }
        if let Some(j) = &self.roi {
            v.push((JobKind::Roi, j.status()));
        }
        if let Some(j) = &self.envelope {
            v.push((JobKind::Envelope, j.job.status()));
        }
        if let Some(j) = &self.histogram {
            v.push((JobKind::Histogram, j.status()));
        }
        if let Some(j) = &self.pixels {
            v.push((JobKind::Pixels, j.job.status()));
        }
        if let Some(j) = &self.export {
            v.push((JobKind::Export, j.job.status()));
        }
        if let Some(j) = &self.pca {
            v.push((JobKind::Pca, j.status()));
        }
        if let Some(j) = &self.kymograph {
            v.push((JobKind::Kymograph, j.status()));
        }
        if let Some(j) = &self.roi_table {
            v.push((JobKind::RoiTable, j.status()));
        }
        v
    }

    /// True while work runs whose result changes what is shown (scripts wait for it
    /// before they count frames; the histogram's refinement is not waited for).
    pub fn busy(&self) -> bool {
        self.load.is_some()
            || self.apply.is_some()
            || self.rebuild.is_some()
            || self.shown.is_some()
            || self.reference.is_some()
            || self.roi.is_some()
            || self.envelope.is_some()
            || self.pixels.is_some()
            || self.export.is_some()
            || self.pca.is_some()
            || self.kymograph.is_some()
            || self.roi_table.is_some()
    }

    /// True while any job runs (the window keeps redrawing to show its progress).
    pub fn any(&self) -> bool {
        self.busy() || self.histogram.is_some()
    }

    /// Whether a job of `kind` can be cancelled from the UI.
    pub fn cancellable(&self, kind: JobKind) -> bool {
        match kind {
            JobKind::Export => self.export.as_ref().is_some_and(|e| e.cancellable),
            _ => true,
        }
    }
}

impl ViewerState {
    /// Takes the results of finished jobs (once per frame, before anything is drawn).
    pub fn poll_jobs(&mut self) {
        self.poll_load();
        self.poll_apply();
        self.poll_rebuild();
        self.poll_pca();
        self.poll_kymograph();
        self.poll_roi_table();
        self.update_roi_table();
        self.update_shown();
        self.poll_roi();
        self.poll_envelope();
        self.poll_histogram();
        self.poll_pixels();
        self.poll_export();
    }

    /// Waits until no job runs and the shown image is computed (tests, scripts).
    pub fn wait_jobs(&mut self) {
        loop {
            self.poll_jobs();
            let dirty = self.pipeline.shown_dirty
                && (self.pipeline.aggregate.is_some()
                    || self.pipeline.preview_ops().is_some()
                    || self.pca_shown());
            if !self.jobs.any() && !dirty {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Cancels the job of `kind`: its work stops at its next check and its result is
    /// dropped; what it was computing is turned off where it would start again.
    pub fn cancel_job(&mut self, kind: JobKind) {
        match kind {
            JobKind::Load => {
                if let Some(j) = &self.jobs.load {
                    j.cancel();
                }
            }
            JobKind::Apply => self.cancel_apply(),
            JobKind::Rebuild => self.cancel_rebuild(),
            JobKind::Aggregate => self.cancel_aggregate(),
            JobKind::Reference => {
                self.cancel_reference();
                self.status = "ops reference cancelled: the range steps are off".into();
            }
            JobKind::Roi => self.cancel_roi(),
            JobKind::Envelope => self.cancel_envelope(),
            JobKind::Histogram => self.jobs.histogram = None,
            JobKind::Pixels => {
                self.jobs.pixels = None;
                self.roi.pins.clear();
            }
            JobKind::Export => {
                if let Some(e) = self.jobs.export.as_ref().filter(|e| e.cancellable) {
                    e.job.cancel();
                }
            }
            JobKind::Pca => {
                self.jobs.pca = None;
                self.status = "PCA cancelled".into();
            }
            JobKind::Kymograph => {
                self.jobs.kymograph = None;
                self.status = "kymograph cancelled".into();
            }
            JobKind::RoiTable => {
                self.jobs.roi_table = None;
                self.roi_set.failed = Some("cancelled".into());
            }
        }
    }
}
