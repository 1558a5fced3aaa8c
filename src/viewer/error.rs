//! What can go wrong in the viewer, as one error type: the library's errors as they are
//! (they name the file or option), plus the viewer's own refusals and outcomes.

use std::path::PathBuf;

use crate::export::ExportError;
use crate::load::LoadError;
use crate::ops::OpError;

/// An error of the viewer (shown in its error window, or returned by `blitz view`).
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Op(#[from] OpError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Background work stopped because the user (or a newer input) cancelled it.
    #[error("cancelled")]
    Cancelled,
    /// A background thread panicked.
    #[error("{0} crashed")]
    Crashed(String),
    /// Something the current state cannot do (the message says what to do instead).
    #[error("{0}")]
    Refused(String),
    /// A reference or mask image that does not fit the stack.
    #[error("{0}")]
    Reference(String),
    #[error("{}: unsupported image type '{ext}' (png, tif, jpg, bmp)", path.display())]
    ImageType { path: PathBuf, ext: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The window system or its surface.
    #[error("{0}")]
    Window(String),
    /// The display renderer on the window's GPU (a frame too large, a lost readback).
    #[error("{0}")]
    Gpu(String),
    #[error("{}: {msg}", path.display())]
    Screenshot { path: PathBuf, msg: String },
}

impl ViewerError {
    /// True for a cancel (of the viewer's own jobs or of a load), which is no failure.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            ViewerError::Cancelled | ViewerError::Load(LoadError::Cancelled(_))
        )
    }

    /// An error of the window system or GPU, with what was being done.
    pub fn window(what: &str, e: impl std::fmt::Display) -> ViewerError {
        ViewerError::Window(format!("{what}: {e}"))
    }
}
