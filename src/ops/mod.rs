//! What each operation means, and the CPU engine (rayon): the reference every GPU kernel
//! is tested against. One file per operation family; results are f32.

pub mod histogram;
pub mod kymograph;
pub mod normalize;
pub mod orientation;
pub mod pca;
pub mod profile;
pub mod reduce;
pub mod roi;
pub mod transform;

use serde::Serialize;

use crate::stack::Stack;

/// The chunk budget of an operation that runs one rayon task per frame: at least one
/// frame per thread, so that every chunk keeps the threads busy.
pub(crate) fn per_frame_chunk(stack: &Stack, chunk_bytes: usize) -> usize {
    let frame = stack.shape().frame_len() * stack.dtype().size();
    chunk_bytes.max(frame.saturating_mul(rayon::current_num_threads()))
}

/// A 2-D f32 result of (H, W, C), row-major, C fastest (a reduced frame, a reference).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Image {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl Image {
    /// An image of `h` x `w` x `c` zeros.
    pub fn zeros(height: usize, width: usize, channels: usize) -> Self {
        Image {
            height,
            width,
            channels,
            data: vec![0.0; height * width * channels],
        }
    }

    /// Sample at row y, column x, channel c.
    pub fn get(&self, y: usize, x: usize, c: usize) -> f32 {
        self.data[(y * self.width + x) * self.channels + c]
    }
}

/// An inclusive range of frames `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FrameRange {
    pub first: usize,
    pub last: usize,
}

impl FrameRange {
    /// `first..=last`.
    pub fn new(first: usize, last: usize) -> Self {
        FrameRange { first, last }
    }

    /// Every frame of a stack of `frames` frames.
    pub fn all(frames: usize) -> Self {
        FrameRange {
            first: 0,
            last: frames.saturating_sub(1),
        }
    }

    /// Number of frames in the range.
    pub fn len(&self) -> usize {
        self.last + 1 - self.first
    }

    /// Never true for a valid range (first <= last); present for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.last < self.first
    }
}

/// An operation that was asked for something the stack cannot give.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("frame range {first}..={last} is outside the stack's {frames} frames")]
    Range {
        first: usize,
        last: usize,
        frames: usize,
    },
    #[error("{0}")]
    Invalid(String),
    /// The caller's progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl FrameRange {
    /// Checks the range against a stack of `frames` frames.
    pub fn check(&self, frames: usize) -> Result<(), OpError> {
        if self.first > self.last || self.last >= frames {
            return Err(OpError::Range {
                first: self.first,
                last: self.last,
                frames,
            });
        }
        Ok(())
    }
}

/// Text that does not follow an option's grammar (a reference spec, a ROI, a crosshair):
/// what was expected. The caller adds the option's name and the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

/// Comma-separated numbers, `expected` naming the form in the error.
pub(crate) fn comma_numbers<T: std::str::FromStr>(
    s: &str,
    expected: &str,
) -> Result<Vec<T>, SpecError> {
    s.split(',')
        .map(|v| v.trim().parse::<T>())
        .collect::<Result<Vec<T>, _>>()
        .map_err(|_| SpecError(format!("expected {expected}")))
}
