//! One interface over the CPU and GPU engines, chosen at run time. The GPU is used when
//! a hardware adapter exists, or any adapter when asked for; every GPU failure — no adapter, an operation
//! without a kernel yet, a lost device, out of memory — gives the CPU result and a note
//! saying why, never an error of its own.

use serde::Serialize;

use crate::gpu::histogram::GpuHistogram;
use crate::gpu::normalize::GpuNormalize;
use crate::gpu::reduce::GpuReduce;
use crate::gpu::roi::GpuRoi;
use crate::gpu::{GpuDevice, GpuError};
use crate::ops::histogram::{Histogram, histogram};
use crate::ops::normalize::Normalize;
use crate::ops::reduce::{ReduceOp, reduce};
use crate::ops::roi::{Roi, RoiSeries, Stat, roi_series};
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

/// The engine that computed a result, and why it is not the one asked for, if so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ran {
    pub engine: &'static str,
    pub note: Option<String>,
}

/// A CPU engine, plus the GPU's compiled kernels when one is in use.
pub struct Engine {
    gpu: Option<GpuReduce>,
    normalize: Option<GpuNormalize>,
    roi: Option<GpuRoi>,
    histogram: Option<GpuHistogram>,
    adapter: Option<String>,
    /// Why the GPU is not in use although it was not refused by the user.
    pub fallback: Option<String>,
}

impl Engine {
    /// Opens the engine the user chose; a missing GPU is a note, not an error.
    pub fn new(choice: EngineChoice) -> Engine {
        if choice == EngineChoice::Cpu {
            return Engine {
                gpu: None,
                normalize: None,
                roi: None,
                histogram: None,
                adapter: None,
                fallback: None,
            };
        }
        let device = GpuDevice::new().and_then(|d| {
            let info = d.info();
            // a software adapter (lavapipe) is slower than the CPU engine and doubles the
            // memory through its staging copies: only an explicit --engine gpu takes it
            if choice == EngineChoice::Auto && info.device_type == "Cpu" {
                return Err(GpuError::NoAdapter(format!(
                    "only the software adapter '{}' exists (--engine gpu uses it)",
                    info.name
                )));
            }
            let r = GpuReduce::new(&d)?;
            let n = GpuNormalize::new(&d)?;
            let roi = GpuRoi::new(&d)?;
            let h = GpuHistogram::new(&d)?;
            Ok((r, n, roi, h, info.name))
        });
        match device {
            Ok((r, n, roi, h, name)) => Engine {
                gpu: Some(r),
                normalize: Some(n),
                roi: Some(roi),
                histogram: Some(h),
                adapter: Some(name),
                fallback: None,
            },
            Err(e) => Engine {
                gpu: None,
                normalize: None,
                roi: None,
                histogram: None,
                adapter: None,
                fallback: Some(format!("{e}; running on the CPU")),
            },
        }
    }

    /// The GPU kernels in use, if any.
    pub fn gpu(&self) -> Option<&GpuReduce> {
        self.gpu.as_ref()
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
            engine: "cpu",
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
        let Some(k) = kernel else {
            return Ok((cpu()?, self.cpu()));
        };
        match gpu(k) {
            Ok(v) => Ok((
                v,
                Ran {
                    engine: "gpu",
                    note: None,
                },
            )),
            Err(GpuError::Op(e)) => Err(e),
            Err(e) => Ok((
                cpu()?,
                Ran {
                    engine: "cpu",
                    note: Some(format!("{e}; computed on the CPU")),
                },
            )),
        }
    }

    /// Reduces frames `range` with `op` on the GPU when in use, else on the CPU.
    pub fn reduce(
        &self,
        stack: &Stack,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<(Image, Ran), OpError> {
        self.dispatch(
            self.gpu.as_ref(),
            |g| g.reduce(stack, op, range),
            || reduce(stack, op, range),
        )
    }

    /// Normalizes the whole stack on the GPU when in use and supported, else on the CPU.
    pub fn normalize(&self, stack: &Stack, n: &Normalize) -> Result<(Stack, Ran), OpError> {
        self.dispatch(
            self.normalize.as_ref().zip(self.gpu.as_ref()),
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
        self.dispatch(
            self.roi.as_ref(),
            |g| g.series(stack, roi, stat, range),
            || roi_series(stack, roi, stat, range),
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
            self.histogram.as_ref(),
            |g| g.histogram(stack, range, bins),
            || histogram(stack, range, bins),
        )
    }
}
