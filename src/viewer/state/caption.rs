//! What the window shows, said in words: the caption over the image ("std of frames
//! 105..=255", "frame 250 raw: the sliding window does not fit"), whether the probe and
//! the pixel series read raw or processed values, and pixel coordinates in the loaded
//! frame (a crop to the ROI keeps its offset).

use crate::ops::normalize::{Normalize, Source};
use crate::ops::reduce::ReduceOp;

use super::ViewerState;

/// What the values under the pointer and in the pixel series are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// As loaded.
    Raw,
    /// After the ops applied to the full stack.
    Processed,
    /// The ops previewed on the shown frame.
    Preview,
    /// The aggregate image of this op.
    Aggregate(ReduceOp),
    /// A PCA component or a frame rebuilt from components.
    Pca,
}

impl std::fmt::Display for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Values::Raw => f.write_str("raw"),
            Values::Processed => f.write_str("processed"),
            Values::Preview => f.write_str("ops preview"),
            Values::Aggregate(op) => write!(f, "{op}"),
            Values::Pca => f.write_str("PCA"),
        }
    }
}

/// The sliding windows of `n`, in words ("10 frames, lag 0"), for a frame they miss.
fn windows(n: &Normalize) -> String {
    [&n.subtract, &n.divide]
        .into_iter()
        .flatten()
        .filter_map(|s| match s.source {
            Source::Sliding { window, lag, .. } => Some(format!("{window} frames, lag {lag}")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

impl ViewerState {
    /// The kind of values the shown image holds (what the probe reads).
    pub fn shown_values(&self) -> Values {
        let p = &self.pipeline;
        match (&p.aggregate, &p.shown) {
            (_, Some(_)) if self.pca_shown() => Values::Pca,
            (Some(a), Some(_)) => Values::Aggregate(a.op),
            (None, Some(_)) if !self.preview_is_raw() => Values::Preview,
            _ => self.stack_values(),
        }
    }

    /// True when the image shown is one frame (raw, previewed or rebuilt from PCA
    /// components), not an aggregate or a component: it has a time.
    pub fn shows_a_frame(&self) -> bool {
        self.pipeline.aggregate.is_none()
            && !matches!(self.pca.view, super::pca::PcaView::Component(_))
    }

    /// The kind of values the displayed stack holds (what pixel and ROI series read).
    pub fn stack_values(&self) -> Values {
        match self.pipeline.steps.applied {
            Some(_) => Values::Processed,
            None => Values::Raw,
        }
    }

    /// True when the ops are previewed but the frame shown is past the last one their
    /// sliding window fits: the preview shows it unprocessed.
    pub fn preview_is_raw(&self) -> bool {
        self.pipeline.preview_ops().is_some_and(|n| {
            self.playback.frame >= n.output_frames(self.pipeline.base.shape().frames)
        })
    }

    /// One line over the image saying what it shows.
    pub fn caption(&self) -> String {
        let p = &self.pipeline;
        let t = self.playback.frame;
        let pca = self.pca_caption();
        let mut text = match (&p.aggregate, &p.shown) {
            (_, Some(_)) if pca.is_some() => pca.unwrap_or_default(),
            (Some(a), Some(_)) => {
                format!("{} of frames {}..={}", a.op, a.range.first, a.range.last)
            }
            (Some(a), None) => format!(
                "frame {t} ({} of frames {}..={} being computed)",
                a.op, a.range.first, a.range.last
            ),
            _ => match p.preview_ops() {
                Some(n) if self.preview_is_raw() => {
                    let last = n.output_frames(p.base.shape().frames);
                    let fits = match last {
                        0 => "no frame".to_string(),
                        l => format!("frames 0..={}", l - 1),
                    };
                    format!(
                        "frame {t} raw: the sliding window ({}) does not fit (it fits {fits})",
                        windows(&n)
                    )
                }
                Some(_) => format!("frame {t}, ops previewed"),
                None if p.steps.applied.is_some() => {
                    format!("frame {t} of the ops applied to full")
                }
                None => format!("frame {t}"),
            },
        };
        if let Some(c) = p.steps.timeline_crop {
            text += &format!(" · timeline {}..={} of the loaded", c.first, c.last);
        }
        if let Some(m) = p.steps.roi_mask {
            text += &format!(" · cropped to x {} y {}, {} x {}", m.x, m.y, m.w, m.h);
        }
        if p.steps.binary_mask.is_some() {
            text += " · masked";
        }
        let o = p.steps.transforms;
        if !o.is_identity() {
            text += &format!(" · shown {o}");
        }
        text
    }

    /// Pixel (x, y) of the shown frame in the frame as loaded: a crop to the ROI keeps
    /// its offset.
    pub fn loaded_xy(&self, x: usize, y: usize) -> (i64, i64) {
        let (ox, oy) = self
            .pipeline
            .steps
            .roi_mask
            .map_or((0, 0), |m| (m.x.max(0), m.y.max(0)));
        (x as i64 + ox, y as i64 + oy)
    }

    /// The value(s) at pixel (x, y) of the shown frame, with the dtype and what they are
    /// (raw, processed, ...); coordinates of the frame as loaded.
    pub fn probe_text(&self, x: usize, y: usize) -> String {
        let (stack, t) = self.shown();
        let vals: Vec<String> = (0..stack.shape().channels)
            .map(|c| {
                let v = stack.value(t, y, x, c);
                match stack.dtype() {
                    crate::Dtype::F32 => format!("{v}"),
                    _ => format!("{}", v as i64),
                }
            })
            .collect();
        let (lx, ly) = self.loaded_xy(x, y);
        format!(
            "x {lx}  y {ly}{}  {} ({}, {})",
            self.units_of(lx, ly),
            vals.join(", "),
            stack.dtype().name(),
            self.shown_values()
        )
    }
}
