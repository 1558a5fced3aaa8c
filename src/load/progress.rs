//! Progress reporting and cancellation for long loads.

use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress from a load; called from worker threads.
pub trait Progress: Sync {
    /// A phase begins with `total` units (frames).
    fn start(&self, _what: &str, _total: u64) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// True when the user asked to stop; loaders check it between frames.
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// Reports nothing and never cancels.
pub struct NoProgress;

impl Progress for NoProgress {}

/// A cancel flag that can be shared with a UI thread.
#[derive(Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed)
    }
}

impl Progress for Cancel {
    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
