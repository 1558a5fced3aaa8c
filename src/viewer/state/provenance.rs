//! Where a displayed frame comes from in the source (its frame number and time there),
//! and the short description of what produced an export, written at the top of CSVs.

use super::ViewerState;

impl ViewerState {
    /// The loaded frame that displayed frame `t` is (the timeline crop moves it).
    pub(crate) fn loaded_frame(&self, t: usize) -> usize {
        t + self.pipeline.steps.timeline_crop.map_or(0, |c| c.first)
    }

    /// Frame number in the source of displayed frame `t` (after `--step`, a load range or
    /// a timeline crop it differs from `t`).
    pub fn source_frame(&self, t: usize) -> usize {
        self.pipeline.raw.source.source_frame(self.loaded_frame(t))
    }

    /// Time in seconds of displayed frame `t`: its loaded frame times the frame interval
    /// the user set, else the source's own per-frame time, else its source frame number
    /// over the recording rate; None when nothing says.
    pub fn frame_time(&self, t: usize) -> Option<f64> {
        let k = self.loaded_frame(t);
        self.calibration
            .time(k, self.pipeline.raw.source.time_of(k))
    }

    /// The source frame numbers and times in seconds (the calibration's, NaN where
    /// nothing says) of displayed frames `ts`: the `source_frame` and `time_s` columns
    /// of every CSV export.
    pub fn export_clock(&self, ts: &[usize]) -> (Vec<usize>, Vec<f64>) {
        ts.iter()
            .map(|&t| (self.source_frame(t), self.frame_time(t).unwrap_or(f64::NAN)))
            .unzip()
    }

    /// Displayed frames per second at real time: the source's rate over the step between
    /// kept frames (`--step 10` from 1000 fps: 100); None when the source gives no rate.
    pub fn source_rate(&self) -> Option<f64> {
        let src = &self.pipeline.raw.source;
        let fps = src.fps.filter(|f| f.is_finite() && *f > 0.0)?;
        let ix = &src.frame_index;
        let step = match (ix.first(), ix.last()) {
            (Some(&a), Some(&b)) if ix.len() > 1 && b > a => (b - a) as f64 / (ix.len() - 1) as f64,
            _ => 1.0,
        };
        Some(fps / step)
    }

    /// What produced an export: the source, the frames, the ROI, the ops and transforms.
    /// One line each, written as `# ` comments at the top of the viewer's CSVs.
    pub fn export_description(&self) -> Vec<String> {
        let p = &self.pipeline;
        let src = &p.raw.source;
        let frames = p.stack.shape().frames;
        let mut lines = vec![
            format!("written by blitz {} (viewer)", env!("CARGO_PKG_VERSION")),
            format!("source: {} ({})", self.path.display(), src.kind),
        ];
        if frames > 0 {
            let (a, b) = (self.source_frame(0), self.source_frame(frames - 1));
            lines.push(format!(
                "frames: 0-{} of the displayed stack = source frames {a}-{b}",
                frames - 1
            ));
        }
        if let Some(fps) = src.fps {
            lines.push(format!("recorded at {fps} fps"));
        }
        if let Some(r) = &self.roi.region {
            lines.push(format!("roi: {r:?}, statistic {:?}", self.roi.stat));
        }
        let s = &p.steps;
        if let Some(c) = s.timeline_crop {
            lines.push(format!(
                "timeline crop: loaded frames {}-{}",
                c.first, c.last
            ));
        }
        if let Some((ops, _)) = &s.applied {
            lines.push(format!("ops applied: {ops:?}"));
        }
        if s.transforms != Default::default() {
            lines.push(format!(
                "shown {} (a view: coordinates here are of the stack as stored)",
                s.transforms
            ));
        }
        if let Some((path, _)) = &s.binary_mask {
            lines.push(format!("binary mask: {}", path.display()));
        }
        if let Some(m) = s.roi_mask {
            // ROI and profile coordinates are of the cropped frame: add the offset
            lines.push(format!(
                "cropped to x {} y {}, {} x {} of the loaded frame: add ({}, {}) to the \
                 coordinates here for the loaded frame's",
                m.x,
                m.y,
                m.w,
                m.h,
                m.x.max(0),
                m.y.max(0)
            ));
        }
        lines
    }
}
