//! How values become colour: levels, gamma, colormap, and the histograms the levels are
//! fitted to (spec §6).

use crate::ops::FrameRange;
use crate::ops::histogram::{Histogram, Levels, auto_levels, symmetric};
use crate::viewer::colormap::{Colormap, DisplayParams};

use super::ViewerState;
use super::histogram::{StackHistogram, full_histogram, sampled_histogram};
use super::invalidate::FitKey;
use super::job::{Job, take_finished};

/// Trim of the automatic levels fit (spec §6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    None,
    One,
    Two,
    Custom(f32),
}

impl Trim {
    pub fn percent(self) -> f32 {
        match self {
            Trim::None => 0.0,
            Trim::One => 1.0,
            Trim::Two => 2.0,
            Trim::Custom(q) => q.clamp(0.0, 49.0),
        }
    }
}

/// Which histogram the levels panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistScope {
    Frame,
    Stack,
}

/// Levels, gamma, colormap and how they are fitted.
pub struct DisplayState {
    pub params: DisplayParams,
    pub auto_colormap: bool,
    pub keep_fitting: bool,
    pub trim: Trim,
    pub scope: HistScope,
    pub log_hist: bool,
    /// A colorbar with the levels beside the image.
    pub colorbar: bool,
    /// The frame on the GPU differs from the one shown (or the stack changed).
    pub upload_needed: bool,
    stack_hist: Option<StackHistogram>,
    frame_hist: Option<(usize, Histogram)>,
    /// What the levels were last fitted to.
    pub(super) fitted_for: Option<FitKey>,
    /// The levels last fitted from a sampled stack histogram: the full one replaces them
    /// unless the user changed them since.
    sample_fit: Option<Levels>,
}

impl Default for DisplayState {
    fn default() -> Self {
        DisplayState {
            params: DisplayParams {
                levels: Levels { min: 0.0, max: 1.0 },
                gamma: 1.0,
                colormap: Colormap::Plasma,
            },
            auto_colormap: true,
            keep_fitting: true,
            trim: Trim::None,
            scope: HistScope::Stack,
            log_hist: true,
            colorbar: true,
            upload_needed: true,
            stack_hist: None,
            frame_hist: None,
            fitted_for: None,
            sample_fit: None,
        }
    }
}

impl DisplayState {
    /// Forgets the cached histograms (the shown image changed; `stack_too`: the stack).
    pub fn forget_histograms(&mut self, stack_too: bool) {
        self.frame_hist = None;
        if stack_too {
            self.stack_hist = None;
            self.sample_fit = None;
        }
    }

    /// The stack histogram as far as it is known (sampled or complete).
    pub fn stack_histogram_known(&self) -> Option<&StackHistogram> {
        self.stack_hist.as_ref()
    }

    /// Levels typed or dragged by the user: swapped if min > max (spec §6).
    pub fn set_levels(&mut self, lo: f32, hi: f32) {
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        self.params.levels = Levels::fitted(a, b);
    }

    /// A level line dragged to value `v`: the nearer of min and max follows, without
    /// crossing the other.
    pub fn drag_level(&mut self, v: f32) {
        let l = self.params.levels;
        if (v - l.min).abs() <= (v - l.max).abs() {
            self.params.levels.min = v.min(l.max);
        } else {
            self.params.levels.max = v.max(l.min);
        }
    }

    /// A colormap chosen by the user turns the automatic one off (spec §6).
    pub fn choose_colormap(&mut self, c: Colormap) {
        if c != self.params.colormap {
            self.params.colormap = c;
            self.auto_colormap = false;
        }
    }
}

impl ViewerState {
    /// The stack histogram: sampled at first (computed here if unknown), complete once
    /// the background pass over every frame has finished.
    pub fn stack_histogram(&mut self) -> Option<&Histogram> {
        if self.display.stack_hist.is_none() {
            let h = sampled_histogram(&self.pipeline.stack, &self.compute.engine).ok();
            if let Some(h) = h {
                self.set_stack_histogram(h);
            }
        }
        self.display.stack_hist.as_ref().map(|h| &h.hist)
    }

    /// Keeps `h` as the stack histogram; a sampled one gets its full pass in the
    /// background.
    pub(super) fn set_stack_histogram(&mut self, h: StackHistogram) {
        if !h.is_complete() && self.jobs.histogram.is_none() {
            let stack = self.pipeline.stack.clone();
            let what = format!("histogram of all {} frames", h.frames);
            self.jobs.histogram = Some(Job::spawn(what, move |ctx| full_histogram(&stack, ctx)));
        }
        self.display.stack_hist = Some(h);
    }

    /// Takes the full stack histogram once computed: the levels follow it when they were
    /// fitted to the stack from the sample and not changed since (or keep-fitting is on).
    pub(super) fn poll_histogram(&mut self) {
        let Some(r) = take_finished(&mut self.jobs.histogram) else {
            return;
        };
        match r {
            Ok(h) => {
                let d = &self.display;
                let fitted_to_stack = d
                    .fitted_for
                    .is_some_and(|k| k.what == super::invalidate::Fitted::Stack);
                let untouched = d.sample_fit == Some(d.params.levels);
                self.display.stack_hist = Some(h);
                if self.pipeline.shown.is_none()
                    && fitted_to_stack
                    && (untouched || self.display.keep_fitting)
                {
                    self.fit_levels();
                }
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => self.status = format!("stack histogram: {e}"),
        }
    }

    /// The histogram of the shown image (the frame, or the aggregate or preview).
    pub fn frame_histogram(&mut self) -> Option<&Histogram> {
        let t = self.playback.frame;
        if self
            .display
            .frame_hist
            .as_ref()
            .is_none_or(|(f, _)| *f != t)
        {
            let (s, i) = self.pipeline.shown_at(t);
            let h = self
                .compute
                .engine
                .histogram(s, FrameRange::new(i, i), None)
                .ok();
            self.display.frame_hist = h.map(|(h, _)| (t, h));
        }
        self.display.frame_hist.as_ref().map(|(_, h)| h)
    }

    /// The histogram the levels panel shows for its scope (an aggregate or previewed
    /// image is what the levels apply to: its own histogram).
    pub fn panel_histogram(&mut self) -> Option<Histogram> {
        match self.display.scope {
            HistScope::Stack if self.pipeline.shown.is_none() => self.stack_histogram().cloned(),
            _ => self.frame_histogram().cloned(),
        }
    }

    /// Fits the levels to the histogram of the panel's scope (the whole stack, or the
    /// frame shown; an aggregate or previewed image to its own) with the current trim;
    /// with auto colormap on, a
    /// gray stack straddling zero gets symmetric levels and the diverging map, any other
    /// gray stack plasma (spec §6).
    pub fn fit_levels(&mut self) {
        let trim = self.display.trim.percent();
        // an aggregate or previewed image has its own range (a std, a difference)
        let whole = self.pipeline.shown.is_none() && self.display.scope == HistScope::Stack;
        let hist = if whole {
            self.stack_histogram()
        } else {
            self.frame_histogram()
        };
        let Some(levels) = hist.map(|h| auto_levels(h, trim)) else {
            return;
        };
        let d = &mut self.display;
        d.params.levels = levels;
        if d.auto_colormap && self.pipeline.stack.shape().channels == 1 {
            match symmetric(levels) {
                Some(sym) => {
                    d.params.levels = sym;
                    d.params.colormap = Colormap::Diverging;
                }
                None => d.params.colormap = Colormap::Plasma,
            }
        }
        let sampled = whole && d.stack_hist.as_ref().is_some_and(|h| !h.is_complete());
        d.sample_fit = sampled.then_some(d.params.levels);
    }

    /// A new trim: refits while keep-fitting is on.
    pub fn set_trim(&mut self, trim: Trim) {
        if trim != self.display.trim {
            self.display.trim = trim;
            if self.display.keep_fitting {
                self.fit_levels();
            }
        }
    }

    /// Auto colormap on refits (it picks the map from the levels).
    pub fn set_auto_colormap(&mut self, on: bool) {
        self.display.auto_colormap = on;
        if on {
            self.fit_levels();
        }
    }
}
