//! Several named ROIs in the viewer: the ROI drawn is added to a set, each kept ROI is
//! drawn in its colour with its name, its mean plotted over the frames, and the results
//! table (mean, std, min, max, area per ROI and frame) computed in a background job by
//! the library's `roi_table` (as `blitz roi` with several ROIs); the set is saved and
//! loaded as the same JSON file `blitz roi --rois` reads.

use std::path::Path;

use crate::export;
use crate::ops::FrameRange;
use crate::ops::roi::Stat;
use crate::ops::roi::set::{NamedRoi, read_rois};
use crate::ops::roi::table::RoiTable;

use super::ViewerState;
use super::job::{Job, take_finished};

/// The kept ROIs and their table.
pub struct RoiSet {
    pub rois: Vec<NamedRoi>,
    /// The table over every frame of the displayed stack, once computed.
    pub table: Option<RoiTable>,
    /// Why the table could not be computed for the set as it is (not tried again until
    /// the set changes).
    pub failed: Option<String>,
    /// The set file's path as typed.
    pub path_input: String,
    /// The angle in degrees the "Turn" button turns the drawn ROI by.
    pub turn_by: f32,
}

impl Default for RoiSet {
    fn default() -> RoiSet {
        RoiSet {
            rois: Vec::new(),
            table: None,
            failed: None,
            path_input: String::new(),
            turn_by: 15.0,
        }
    }
}

impl ViewerState {
    /// Adds the ROI drawn to the set, named `roi1`, `roi2`, ... (the first free).
    pub fn add_roi_to_set(&mut self) {
        let Some(roi) = self.roi.region.clone() else {
            self.error = Some("draw a ROI first (R for a rectangle, P for a polygon)".into());
            return;
        };
        let name = (1..)
            .map(|i| format!("roi{i}"))
            .find(|n| self.roi_set.rois.iter().all(|r| &r.name != n))
            .unwrap_or_default();
        self.roi_set.rois.push(NamedRoi {
            name: name.clone(),
            roi,
        });
        self.roi_set_changed();
        self.status = format!("{name} added to the ROI set");
    }

    /// Removes ROI `i` of the set.
    pub fn remove_roi_from_set(&mut self, i: usize) {
        if i < self.roi_set.rois.len() {
            self.roi_set.rois.remove(i);
            self.roi_set_changed();
        }
    }

    /// The set changed: its table is computed again.
    pub fn roi_set_changed(&mut self) {
        self.roi_set.table = None;
        self.roi_set.failed = None;
        self.jobs.roi_table = None;
    }

    /// Starts the table when the set has ROIs and none is there, or the one there lacks
    /// (or holds) the median the ROI statistic asks for, and none is running; a table of
    /// the other statistic stays shown until the new one arrives.
    pub(super) fn update_roi_table(&mut self) {
        let set = &self.roi_set;
        let median = self.roi.stat == Stat::Median;
        if set.rois.is_empty()
            || set.table.as_ref().is_some_and(|t| t.medians == median)
            || set.failed.is_some()
            || self.jobs.roi_table.is_some()
        {
            return;
        }
        let (stack, rois) = (self.pipeline.stack.clone(), set.rois.clone());
        let engine = self.compute.engine.clone();
        let all = FrameRange::all(stack.shape().frames);
        self.jobs.roi_table = Some(Job::spawn("ROI table".to_string(), move |ctx| {
            Ok(engine.roi_table_watched(&stack, &rois, all, median, ctx)?.0)
        }));
    }

    /// Takes a finished table.
    pub(super) fn poll_roi_table(&mut self) {
        let Some(r) = take_finished(&mut self.jobs.roi_table) else {
            return;
        };
        match r {
            Ok(t) => self.roi_set.table = Some(t),
            Err(e) if e.is_cancelled() => self.roi_set.failed = Some("cancelled".into()),
            Err(e) => self.roi_set.failed = Some(e.to_string()),
        }
    }

    /// Saves the set as a JSON file (`blitz roi --rois` reads it).
    pub fn save_roi_set(&mut self, path: &Path) {
        if self.roi_set.rois.is_empty() {
            self.error = Some("the ROI set is empty: add the ROI drawn first".into());
            return;
        }
        match export::write_rois(path, &self.roi_set.rois) {
            Ok(()) => self.status = format!("ROI set saved to {}", path.display()),
            Err(e) => self.error = Some(format!("ROI set: {e}\n\nNothing was written.")),
        }
    }

    /// Loads a set file in place of the set (a bad file changes nothing).
    pub fn load_roi_set(&mut self, path: &Path) {
        match read_rois(path) {
            Ok(rois) => {
                let n = rois.len();
                self.roi_set.rois = rois;
                self.roi_set_changed();
                self.status = format!("{n} ROIs loaded from {}", path.display());
            }
            Err(e) => self.error = Some(format!("ROI set: {e}\n\nNothing was changed.")),
        }
    }

    /// Writes the results table as CSV (with the area in units once calibrated).
    pub fn export_roi_table(&self, path: &Path) -> Result<(), crate::viewer::error::ViewerError> {
        let Some(t) = &self.roi_set.table else {
            return Err(crate::viewer::error::ViewerError::Refused(
                "no ROI table yet: add ROIs to the set and wait for its table".into(),
            ));
        };
        let (index, time) = self.export_clock(&t.frames);
        let clock = export::FrameClock {
            index: &index,
            time: &time,
        };
        export::write_roi_table_csv(
            path,
            t,
            &self.roi_set.rois,
            &self.export_description(),
            clock,
            self.calibration.pixel,
        )?;
        Ok(())
    }
}
