//! One interface over the CPU and GPU engines, chosen at run time. The GPU is used when
//! a hardware adapter exists, or any adapter when asked for; every GPU failure — no adapter, an operation
//! without a kernel yet, a lost device, out of memory — gives the CPU result and a note
//! saying why, never an error of its own.

use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;

use crate::gpu::histogram::GpuHistogram;
use crate::gpu::kymograph::GpuKymograph;
use crate::gpu::normalize::GpuNormalize;
use crate::gpu::pca::GpuPca;
use crate::gpu::profile::GpuProfile;
use crate::gpu::reduce::{GpuReduce, GpuStack};
use crate::gpu::roi::GpuRoi;
use crate::gpu::{GpuDevice, GpuError};
use crate::load::{NoProgress, Progress};
use crate::ops::histogram::{Histogram, histogram};
use crate::ops::kymograph::{Line, kymograph_watched};
use crate::ops::normalize::Normalize;
use crate::ops::pca::{Pca, PcaMethod, pca_watched};
use crate::ops::profile::{Envelope, Orientation, dataset_envelope};
use crate::ops::reduce::{ReduceOp, reduce, reduce_watched};
use crate::ops::roi::set::NamedRoi;
use crate::ops::roi::table::{RoiTable, roi_table_watched};
use crate::ops::roi::{Roi, RoiSeries, Stat, roi_series_watched};
use crate::ops::{FrameRange, Image, OpError};
use crate::stack::Stack;

/// Which engine the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// The GPU when a hardware adapter exists, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

/// Which engine computed a result (serialized as "cpu" / "gpu").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Cpu,
    Gpu,
}

impl EngineKind {
    /// "cpu" or "gpu".
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Cpu => "cpu",
            EngineKind::Gpu => "gpu",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // pad, so that table columns ({:>6}) line up as with a string
        f.pad(self.name())
    }
}

/// The engine that computed a result, and why it is not the one asked for, if so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ran {
    pub engine: EngineKind,
    pub note: Option<String>,
}

/// The GPU's compiled kernels, one per operation.
struct Kernels {
    reduce: GpuReduce,
    normalize: GpuNormalize,
    roi: GpuRoi,
    histogram: GpuHistogram,
    profile: GpuProfile,
    kymograph: GpuKymograph,
    pca: GpuPca,
}

impl Kernels {
    /// Compiles every kernel on `d`.
    fn new(d: &GpuDevice) -> Result<Kernels, GpuError> {
        Ok(Kernels {
            reduce: GpuReduce::new(d)?,
            normalize: GpuNormalize::new(d)?,
            roi: GpuRoi::new(d)?,
            histogram: GpuHistogram::new(d)?,
            profile: GpuProfile::new(d)?,
            kymograph: GpuKymograph::new(d)?,
            pca: GpuPca::new(d)?,
        })
    }
}

/// A CPU engine, plus the GPU's compiled kernels when one is in use.
pub struct Engine {
    kernels: Option<Kernels>,
    adapter: Option<String>,
    /// Why the GPU is not in use although it was not refused by the user.
    pub fallback: Option<String>,
    /// The stack last kept on the GPU by [`Engine::reduce_kept`], and its GPU copy.
    kept: Mutex<Option<(Weak<Stack>, GpuStack)>>,
}

impl Engine {
    /// Opens the engine the user chose; a missing GPU is a note, not an error.
    pub fn new(choice: EngineChoice) -> Engine {
        if choice == EngineChoice::Cpu {
            return Engine {
                kernels: None,
                adapter: None,
                fallback: None,
                kept: Mutex::new(None),
            };
        }
        Engine::with_device(GpuDevice::new(), choice)
    }

    /// The engine on a device opened elsewhere (the viewer's, which also draws), or the
    /// CPU with a note when opening it failed.
    pub fn with_device(device: Result<GpuDevice, GpuError>, choice: EngineChoice) -> Engine {
        if choice == EngineChoice::Cpu {
            return Engine::new(choice);
        }
        let device = device.and_then(|d| {
            let info = d.info();
            // a software adapter (lavapipe) is slower than the CPU engine and doubles the
            // memory through its staging copies: only an explicit --engine gpu takes it
            if choice == EngineChoice::Auto && info.device_type == "Cpu" {
                return Err(GpuError::NoAdapter(format!(
                    "only the software adapter '{}' exists (--engine gpu uses it)",
                    info.name
                )));
            }
            Ok((Kernels::new(&d)?, info.name))
        });
        match device {
            Ok((k, name)) => Engine {
                kernels: Some(k),
                adapter: Some(name),
                fallback: None,
                kept: Mutex::new(None),
            },
            Err(e) => Engine {
                kernels: None,
                adapter: None,
                fallback: Some(format!("{e}; running on the CPU")),
                kept: Mutex::new(None),
            },
        }
    }

    /// One kernel of the GPU in use, if one is.
    fn kernel<K>(&self, pick: impl FnOnce(&Kernels) -> &K) -> Option<&K> {
        self.kernels.as_ref().map(pick)
    }

    /// The GPU kernels in use, if any.
    pub fn gpu(&self) -> Option<&GpuReduce> {
        self.kernel(|k| &k.reduce)
    }

    /// "gpu (adapter name)" or "cpu".
    pub fn describe(&self) -> String {
        match &self.adapter {
            Some(a) => format!("gpu ({a})"),
            None => "cpu".into(),
        }
    }

    fn cpu(&self) -> Ran {
        Ran {
            engine: EngineKind::Cpu,
            note: self.fallback.clone(),
        }
    }

    /// Runs `gpu` with `kernel` when the GPU is in use, else (or when the GPU cannot do
    /// it) `cpu`, saying which ran and why. A user error found by the GPU path is
    /// returned as such, not retried on the CPU.
    fn dispatch<K, T>(
        &self,
        kernel: Option<K>,
        gpu: impl FnOnce(K) -> Result<T, GpuError>,
        cpu: impl FnOnce() -> Result<T, OpError>,
    ) -> Result<(T, Ran), OpError> {
        self.release_dead_kept();
        let Some(k) = kernel else {
            return Ok((cpu()?, self.cpu()));
        };
        match gpu(k) {
            Ok(v) => Ok((
                v,
                Ran {
                    engine: EngineKind::Gpu,
                    note: None,
                },
            )),
            Err(GpuError::Op(e)) => Err(e),
            Err(e) => Ok((
                cpu()?,
                Ran {
                    engine: EngineKind::Cpu,
                    note: Some(format!("{e}; computed on the CPU")),
                },
            )),
        }
    }

    /// [`Engine::dispatch`] for work that tells `progress`: nothing starts once it is
    /// cancelled; a GPU call, one step, is told as the phase `what` of `total` units when
    /// it ends (the CPU work tells its own).
    fn dispatch_watched<K, T>(
        &self,
        kernel: Option<K>,
        progress: &dyn Progress,
        (what, total): (&str, u64),
        gpu: impl FnOnce(K) -> Result<T, GpuError>,
        cpu: impl FnOnce() -> Result<T, OpError>,
    ) -> Result<(T, Ran), OpError> {
        if progress.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        self.dispatch(
            kernel,
            |k| {
                progress.start(what, total);
                let r = gpu(k);
                progress.advance(total);
                r
            },
            cpu,
        )
    }

    /// Reduces frames `range` with `op` on the GPU when in use, else on the CPU.
    pub fn reduce(
        &self,
        stack: &Stack,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<(Image, Ran), OpError> {
        self.reduce_watched(stack, op, range, &NoProgress)
    }

    /// [`Engine::reduce`] telling `progress` the work done and stopping once it is
    /// cancelled: the CPU path reports block by block or chunk by chunk; the GPU path
    /// reports its one call when it ends, and checks for a stop before it begins.
    pub fn reduce_watched(
        &self,
        stack: &Stack,
        op: ReduceOp,
        range: FrameRange,
        progress: &dyn Progress,
    ) -> Result<(Image, Ran), OpError> {
        let chunk = stack.default_chunk_bytes();
        self.dispatch_watched(
            self.kernel(|k| &k.reduce),
            progress,
            (op.name(), 1),
            |g| g.reduce(stack, op, range),
            || reduce_watched(stack, op, range, chunk, progress),
        )
    }

    /// The dataset envelope of a crosshair profile (every frame): on the GPU for q = 0
    /// when in use, else (percentiles) on the CPU.
    pub fn dataset_envelope(
        &self,
        stack: &Stack,
        orient: Orientation,
        pos: usize,
        width: usize,
        q: u32,
    ) -> Result<(Envelope, Ran), OpError> {
        self.dispatch(
            self.kernel(|k| &k.profile),
            |g| g.dataset_envelope(stack, orient, pos, width, q),
            || dataset_envelope(stack, orient, pos, width, q),
        )
    }

    /// Frees the GPU copy kept by [`Engine::reduce_kept`] once its stack is gone, so it
    /// does not hold GPU memory the next stack needs.
    fn release_dead_kept(&self) {
        // try_lock: reduce_kept holds the lock while it dispatches
        if let Ok(mut k) = self.kept.try_lock()
            && k.as_ref().is_some_and(|(w, _)| w.strong_count() == 0)
        {
            *k = None;
        }
    }

    /// Whether a GPU copy is kept (tests).
    pub fn keeps_a_stack(&self) -> bool {
        self.kept.lock().is_ok_and(|k| k.is_some())
    }

    /// [`Engine::reduce`] for many calls on the same stack (the viewer's aggregate mode):
    /// on the GPU the stack is uploaded once and kept while it is the one asked for, so
    /// a moved range costs only the compute. A stack that does not fit on the GPU is
    /// streamed as by `reduce`.
    pub fn reduce_kept(
        &self,
        stack: &Arc<Stack>,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<(Image, Ran), OpError> {
        let Some(g) = self.kernel(|k| &k.reduce) else {
            return self.reduce(stack, op, range);
        };
        // a reduce still running on another thread holds the copy: stream instead of
        // waiting for it (the viewer's UI thread must not block)
        let Ok(mut kept) = self.kept.try_lock() else {
            return self.reduce(stack, op, range);
        };
        // a Weak keeps its allocation, so an equal pointer is the same stack
        let same = kept
            .as_ref()
            .is_some_and(|(w, _)| Weak::ptr_eq(w, &Arc::downgrade(stack)));
        if !same {
            *kept = None; // free the old copy before uploading the new one
            if let Ok(gs) = g.upload(stack) {
                *kept = Some((Arc::downgrade(stack), gs));
            }
        }
        match kept.as_ref() {
            Some((_, gs)) => self.dispatch(
                Some(g),
                |g| g.reduce_resident(gs, op, range),
                || reduce(stack, op, range),
            ),
            None => self.reduce(stack, op, range),
        }
    }

    /// Normalizes the whole stack on the GPU when in use and supported, else on the CPU.
    pub fn normalize(&self, stack: &Stack, n: &Normalize) -> Result<(Stack, Ran), OpError> {
        self.dispatch(
            self.kernel(|k| &k.normalize)
                .zip(self.kernel(|k| &k.reduce)),
            |(g, r)| g.apply(n, stack, r),
            || n.apply(stack),
        )
    }

    /// The ROI time series on the GPU when in use and supported (the mean), else on the
    /// CPU.
    pub fn roi(
        &self,
        stack: &Stack,
        roi: &Roi,
        stat: Stat,
        range: FrameRange,
    ) -> Result<(RoiSeries, Ran), OpError> {
        self.roi_watched(stack, roi, stat, range, &NoProgress)
    }

    /// [`Engine::roi`] telling `progress` the frames done (chunk by chunk on the CPU, the
    /// one call on the GPU) and stopping once it is cancelled.
    pub fn roi_watched(
        &self,
        stack: &Stack,
        roi: &Roi,
        stat: Stat,
        range: FrameRange,
        progress: &dyn Progress,
    ) -> Result<(RoiSeries, Ran), OpError> {
        // chunks in RAM too (the series is the same in any chunks): progress and a stop
        // between them
        let chunk = crate::stack::chunk_bytes_from_env();
        self.dispatch_watched(
            self.kernel(|k| &k.roi),
            progress,
            ("roi", range.len() as u64),
            |g| g.series(stack, roi, stat, range),
            || roi_series_watched(stack, roi, stat, range, chunk, progress),
        )
    }

    /// The histogram of frames `range` with `bins` (see [`histogram`]) on the GPU when in
    /// use, else on the CPU.
    pub fn histogram(
        &self,
        stack: &Stack,
        range: FrameRange,
        bins: Option<usize>,
    ) -> Result<(Histogram, Ran), OpError> {
        self.dispatch(
            self.kernel(|k| &k.histogram),
            |g| g.histogram(stack, range, bins),
            || histogram(stack, range, bins),
        )
    }

    /// The kymograph of `line` over frames `range` on the GPU when in use, else on the
    /// CPU.
    pub fn kymograph(
        &self,
        stack: &Stack,
        line: &Line,
        range: FrameRange,
    ) -> Result<(Image, Ran), OpError> {
        self.kymograph_watched(stack, line, range, &NoProgress)
    }

    /// [`Engine::kymograph`] telling `progress` the frames done (one by one on the CPU,
    /// the one call on the GPU) and stopping once it is cancelled.
    pub fn kymograph_watched(
        &self,
        stack: &Stack,
        line: &Line,
        range: FrameRange,
        progress: &dyn Progress,
    ) -> Result<(Image, Ran), OpError> {
        self.dispatch_watched(
            self.kernel(|k| &k.kymograph),
            progress,
            ("kymograph", range.len() as u64),
            |g| g.kymograph(stack, line, range),
            || kymograph_watched(stack, line, range, progress),
        )
    }

    /// The results table of `rois` over frames `range` on the GPU when in use, else on
    /// the CPU (no median).
    pub fn roi_table(
        &self,
        stack: &Stack,
        rois: &[NamedRoi],
        range: FrameRange,
    ) -> Result<(RoiTable, Ran), OpError> {
        self.roi_table_watched(stack, rois, range, false, &NoProgress)
    }

    /// [`Engine::roi_table`], with the median when `median` (on the CPU: the GPU kernel
    /// has none), telling `progress` the frames done (chunk by chunk on the CPU, the one
    /// call on the GPU) and stopping once it is cancelled.
    pub fn roi_table_watched(
        &self,
        stack: &Stack,
        rois: &[NamedRoi],
        range: FrameRange,
        median: bool,
        progress: &dyn Progress,
    ) -> Result<(RoiTable, Ran), OpError> {
        let kernel = self.kernel(|k| &k.roi).filter(|_| !median);
        let (t, mut ran) = self.dispatch_watched(
            kernel,
            progress,
            ("roi table", range.len() as u64),
            |g| g.table(stack, rois, range),
            || roi_table_watched(stack, rois, range, median, progress),
        )?;
        if median && self.kernels.is_some() {
            ran.note = Some("the GPU engine has no ROI median; computed on the CPU".into());
        }
        Ok((t, ran))
    }

    /// The first `k` principal components of frames `range`, the passes over the frames
    /// on the GPU when in use, else on the CPU; `progress` is told each pass and stops
    /// the work between chunks once it is cancelled.
    pub fn pca_watched(
        &self,
        stack: &Stack,
        k: usize,
        range: FrameRange,
        method: PcaMethod,
        progress: &dyn Progress,
    ) -> Result<(Pca, Ran), OpError> {
        if progress.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        self.dispatch(
            self.kernel(|k| &k.pca),
            |g| g.pca(stack, k, range, method, progress),
            || pca_watched(stack, k, range, method, progress),
        )
    }
}
