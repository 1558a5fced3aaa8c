//! Background work: a [`Job`] runs a closure on its own thread with a [`JobCtx`] through
//! which the work reports progress and checks a cancel flag; the UI thread polls it once
//! per frame and never waits for it. Dropping a job cancels it, so replacing or clearing
//! the job a piece of state holds stops the work that is no longer wanted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::load::Progress;
use crate::viewer::error::ViewerError;

#[derive(Default)]
struct Shared {
    phase: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    cancel: AtomicBool,
}

/// The work's side of a job: progress to report and the cancel flag to check. Also a
/// loader [`Progress`], so a load reports through it and stops when it is cancelled.
#[derive(Clone, Default)]
pub struct JobCtx(Arc<Shared>);

impl JobCtx {
    /// True once the job was cancelled (or dropped): the work should stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancel.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled: `ctx.check()?` between two pieces of work.
    pub fn check(&self) -> Result<(), ViewerError> {
        if self.is_cancelled() {
            Err(ViewerError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A phase of `total` units begins (0: unknown).
    pub fn begin(&self, phase: &str, total: u64) {
        if let Ok(mut p) = self.0.phase.lock() {
            *p = phase.to_string();
        }
        self.0.done.store(0, Ordering::Relaxed);
        self.0.total.store(total, Ordering::Relaxed);
    }

    /// `n` more units are done.
    pub fn step(&self, n: u64) {
        self.0.done.fetch_add(n, Ordering::Relaxed);
    }

    fn cancel(&self) {
        self.0.cancel.store(true, Ordering::Relaxed);
    }
}

impl Progress for JobCtx {
    fn start(&self, what: &str, total: u64) {
        self.begin(what, total);
    }
    fn advance(&self, n: u64) {
        self.step(n);
    }
    fn is_cancelled(&self) -> bool {
        JobCtx::is_cancelled(self)
    }
}

/// What a job is doing, for a progress bar.
#[derive(Clone, Debug, PartialEq)]
pub struct JobStatus {
    /// What the job is for ("loading x.npy", "ROI series").
    pub what: String,
    /// The phase the work reported last (may be empty).
    pub phase: String,
    pub done: u64,
    pub total: u64,
    /// Seconds since the job started.
    pub seconds: f64,
    pub cancelled: bool,
}

impl JobStatus {
    /// Fraction done, None while the total is unknown.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| (self.done as f32 / self.total as f32).min(1.0))
    }

    /// "what: phase 3/10, 1.2 s".
    pub fn text(&self) -> String {
        let mut t = self.what.clone();
        if !self.phase.is_empty() {
            t.push_str(": ");
            t.push_str(&self.phase);
        }
        if self.total > 0 {
            t.push_str(&format!(" {}/{}", self.done.min(self.total), self.total));
        }
        format!("{t}, {:.1} s", self.seconds)
    }
}

/// Work of result `T` running on its own thread.
pub struct Job<T> {
    what: String,
    started: Instant,
    ctx: JobCtx,
    handle: Option<JoinHandle<Result<T, ViewerError>>>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a new thread; `what` names it in progress bars and errors.
    pub fn spawn(
        what: impl Into<String>,
        work: impl FnOnce(&JobCtx) -> Result<T, ViewerError> + Send + 'static,
    ) -> Job<T> {
        let ctx = JobCtx::default();
        let c = ctx.clone();
        // the work's own result, also after a cancel: work with effects (an export that
        // finished) says what it did; a poller that wants no late result drops the job
        let handle = std::thread::spawn(move || work(&c));
        Job {
            what: what.into(),
            started: Instant::now(),
            ctx,
            handle: Some(handle),
        }
    }
}

impl<T> Job<T> {
    /// The result once the work has finished (given once), else None.
    pub fn poll(&mut self) -> Option<Result<T, ViewerError>> {
        if !self.handle.as_ref()?.is_finished() {
            return None;
        }
        Some(self.join())
    }

    /// Waits for the result (tests, scripts, the headless screenshot path).
    pub fn wait(mut self) -> Result<T, ViewerError> {
        self.join()
    }

    fn join(&mut self) -> Result<T, ViewerError> {
        match self.handle.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(ViewerError::Crashed(self.what.clone()))),
            None => Err(ViewerError::Cancelled),
        }
    }

    /// Asks the work to stop; it does at its next check, and its result is dropped.
    pub fn cancel(&self) {
        self.ctx.cancel();
    }

    /// True once finished (the result may not have been taken yet).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// What the job is for.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Time since the job started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Progress as reported by the work.
    pub fn status(&self) -> JobStatus {
        let s = &self.ctx.0;
        JobStatus {
            what: self.what.clone(),
            phase: s.phase.lock().map(|p| p.clone()).unwrap_or_default(),
            done: s.done.load(Ordering::Relaxed),
            total: s.total.load(Ordering::Relaxed),
            seconds: self.elapsed().as_secs_f64(),
            cancelled: self.ctx.is_cancelled(),
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        // nobody will take the result: let the work stop at its next check
        self.ctx.cancel();
    }
}

/// Takes the result of the job in `slot` once it has finished, emptying the slot.
pub fn take_finished<T>(slot: &mut Option<Job<T>>) -> Option<Result<T, ViewerError>> {
    let r = slot.as_mut()?.poll()?;
    *slot = None;
    Some(r)
}
