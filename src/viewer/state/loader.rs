//! Loading in the background: a job runs the same loader as the CLI, then the histogram
//! of a sample of frames, and hands the stack over; the histogram of every frame follows
//! in another job once the stack is shown, so the first frame never waits for a pass
//! over the whole stack.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::engine::Engine;
use crate::load::{self, LoadOptions};
use crate::stack::Stack;
use crate::viewer::error::ViewerError;

use super::histogram::{StackHistogram, sampled_histogram};
use super::job::{Job, JobStatus};

/// A stack that finished loading, with the histogram the levels start from.
pub struct Loaded {
    pub path: PathBuf,
    pub stack: Stack,
    /// Of a sample of frames or of all (None: computed when the stack is shown).
    pub histogram: Option<StackHistogram>,
    pub seconds: f64,
}

/// A load running in the background.
pub struct LoadJob {
    pub path: PathBuf,
    pub job: Job<Loaded>,
}

impl LoadJob {
    /// Starts loading `path` with `opts` on a new thread.
    pub fn start(path: &Path, opts: LoadOptions, engine: Arc<Engine>) -> LoadJob {
        let path_buf = path.to_path_buf();
        let name = format!("loading {}", path.display());
        let job = Job::spawn(name, move |ctx| {
            let t0 = Instant::now();
            let stack = load::load(&path_buf, &opts, ctx)?;
            ctx.check()?;
            ctx.begin("histogram of a sample of frames", 0);
            let histogram = sampled_histogram(&stack, &engine).ok();
            // a cancel during the histogram still keeps the stack shown
            ctx.check()?;
            Ok(Loaded {
                path: path_buf,
                stack,
                histogram,
                seconds: t0.elapsed().as_secs_f64(),
            })
        });
        LoadJob {
            path: path.to_path_buf(),
            job,
        }
    }

    /// The result once the thread has finished, else None.
    pub fn poll(&mut self) -> Option<Result<Loaded, ViewerError>> {
        self.job.poll()
    }

    /// Waits for the result (tests and the headless screenshot path).
    pub fn wait(self) -> Result<Loaded, ViewerError> {
        self.job.wait()
    }

    /// Stops the load at the loader's next check (between frames).
    pub fn cancel(&self) {
        self.job.cancel();
    }

    pub fn status(&self) -> JobStatus {
        self.job.status()
    }
}
