//! Loading in the background: a thread runs the same loader as the CLI and the stack
//! histogram through the engine, while the window polls its progress and may cancel it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::engine::Engine;
use crate::load::{self, LoadOptions, Progress};
use crate::ops::FrameRange;
use crate::ops::histogram::Histogram;
use crate::stack::Stack;

/// Progress of a background load, shared with the UI thread.
#[derive(Default)]
pub struct LoadProgress {
    phase: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    cancel: AtomicBool,
}

impl LoadProgress {
    /// What is being done, and the fraction done (None while the total is unknown).
    pub fn status(&self) -> (String, Option<f32>) {
        let total = self.total.load(Ordering::Relaxed);
        let done = self.done.load(Ordering::Relaxed);
        let phase = self.phase.lock().map(|p| p.clone()).unwrap_or_default();
        let frac = (total > 0).then(|| (done as f32 / total as f32).min(1.0));
        (format!("{phase} {done}/{total}"), frac)
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Progress for LoadProgress {
    fn start(&self, what: &str, total: u64) {
        if let Ok(mut p) = self.phase.lock() {
            *p = what.to_string();
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A stack that finished loading, with the histogram of all its frames.
pub struct Loaded {
    pub path: PathBuf,
    pub stack: Stack,
    pub histogram: Option<Histogram>,
    pub seconds: f64,
}

/// A load running in the background.
pub struct LoadJob {
    pub path: PathBuf,
    pub progress: Arc<LoadProgress>,
    handle: Option<JoinHandle<Result<Loaded, String>>>,
}

impl LoadJob {
    /// Starts loading `path` with `opts` on a new thread.
    pub fn start(path: &Path, opts: LoadOptions, engine: Arc<Engine>) -> LoadJob {
        let progress = Arc::new(LoadProgress::default());
        let p = progress.clone();
        let path_buf = path.to_path_buf();
        let handle = std::thread::spawn(move || {
            let t0 = Instant::now();
            let stack = load::load(&path_buf, &opts, &*p).map_err(|e| e.to_string())?;
            if p.is_cancelled() {
                return Err("cancelled".into());
            }
            p.start("histogram", 1);
            let frames = FrameRange::all(stack.shape().frames);
            let histogram = engine.histogram(&stack, frames, None).ok().map(|(h, _)| h);
            // a cancel during the histogram still keeps the stack shown
            if p.is_cancelled() {
                return Err("cancelled".into());
            }
            Ok(Loaded {
                path: path_buf,
                stack,
                histogram,
                seconds: t0.elapsed().as_secs_f64(),
            })
        });
        LoadJob {
            path: path.to_path_buf(),
            progress,
            handle: Some(handle),
        }
    }

    /// The result once the thread has finished, else None.
    pub fn poll(&mut self) -> Option<Result<Loaded, String>> {
        if !self.handle.as_ref()?.is_finished() {
            return None;
        }
        let r = self.handle.take()?.join();
        Some(r.unwrap_or_else(|_| Err("the loader crashed".into())))
    }

    /// Waits for the result (tests and the headless screenshot path).
    pub fn wait(mut self) -> Result<Loaded, String> {
        let h = self.handle.take().expect("a job is waited for once");
        h.join()
            .unwrap_or_else(|_| Err("the loader crashed".into()))
    }
}
