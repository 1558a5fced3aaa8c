//! Engine work off the interpreter's thread: the GIL is released while it runs, the
//! caller's thread wakes every few milliseconds to deliver progress to a Python callback
//! and to look for Ctrl+C, and a cancel flag tells work that checks it to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use blitz::load::Progress;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

/// Progress and cancel state shared between the caller and the work.
#[derive(Default)]
pub struct Watch {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Watch {
    /// A new phase of `total` units.
    pub fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// `n` more units done; false once the caller asked to stop.
    pub fn advance(&self, n: u64) -> bool {
        self.done.fetch_add(n, Ordering::Relaxed);
        !self.cancelled()
    }

    /// True when the caller asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The loaders' progress interface over a [`Watch`].
impl Progress for Watch {
    fn start(&self, _what: &str, total: u64) {
        Watch::start(self, total);
    }
    fn advance(&self, n: u64) {
        Watch::advance(self, n);
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled()
    }
}

/// How often the caller's thread wakes up.
const TICK: Duration = Duration::from_millis(20);
/// How long a cancelled work that checks the flag gets to stop before the caller returns.
const GRACE: Duration = Duration::from_secs(2);

/// Runs `work` on its own thread with the GIL released; `progress(done, total)` is called
/// on the caller's thread when the count moves. Ctrl+C (or an exception raised by
/// `progress`) sets the cancel flag and raises; work that does not check the flag
/// finishes in the background and its result is dropped.
pub fn run<R: Send + 'static>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Watch) -> R + Send + 'static,
) -> PyResult<R> {
    let watch = Arc::new(Watch::default());
    let (tx, rx) = channel();
    // detach needs Sync captures; only this thread ever receives
    let rx = std::sync::Mutex::new(rx);
    let w = watch.clone();
    std::thread::Builder::new()
        .name("blitz-work".into())
        .spawn(move || {
            let _ = tx.send(work(&w));
        })
        .map_err(|e| PyErr::new::<pyo3::exceptions::PyRuntimeError, _>(e.to_string()))?;
    let mut reported = (u64::MAX, u64::MAX);
    loop {
        match py.detach(|| recv(&rx, TICK)) {
            Ok(r) => {
                // a Ctrl+C while the work ran raises, even where the work finished
                // before the next look at the signals (a busy machine delays it)
                py.check_signals()?;
                report(progress, &watch, &mut reported, true)?;
                return Ok(r);
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyErr::new::<pyo3::exceptions::PyRuntimeError, _>(
                    "the engine's worker thread panicked",
                ));
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let stop = py
            .check_signals()
            .and_then(|_| report(progress, &watch, &mut reported, false));
        if let Err(e) = stop {
            watch.cancel.store(true, Ordering::Relaxed);
            let _ = py.detach(|| recv(&rx, GRACE));
            return Err(e);
        }
    }
}

fn recv<R>(
    rx: &std::sync::Mutex<std::sync::mpsc::Receiver<R>>,
    timeout: Duration,
) -> Result<R, RecvTimeoutError> {
    match rx.lock() {
        Ok(rx) => rx.recv_timeout(timeout),
        Err(_) => Err(RecvTimeoutError::Disconnected),
    }
}

fn report(
    progress: Option<&Bound<'_, PyAny>>,
    watch: &Watch,
    reported: &mut (u64, u64),
    finished: bool,
) -> PyResult<()> {
    let Some(cb) = progress else { return Ok(()) };
    let total = watch.total.load(Ordering::Relaxed);
    let done = if finished {
        total
    } else {
        watch.done.load(Ordering::Relaxed).min(total)
    };
    if (done, total) != *reported && total > 0 {
        *reported = (done, total);
        cb.call1((done, total))?;
    }
    Ok(())
}

/// The error of work stopped by its cancel flag.
pub fn interrupted() -> PyErr {
    PyKeyboardInterrupt::new_err("cancelled")
}
