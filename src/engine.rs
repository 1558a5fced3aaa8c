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

    /// Reduces frames `range` with `op` on the GPU when in use, else on the CPU.
    pub fn reduce(
        &self,
        stack: &Stack,
        op: ReduceOp,
        range: FrameRange,
    ) -> Result<(Image, Ran), OpError> {
        if let Some(g) = &self.gpu {
            match g.reduce(stack, op, range) {
                Ok(img) => {
                    return Ok((
                        img,
                        Ran {
                            engine: "gpu",
                            note: None,
                        },
                    ));
                }
                Err(GpuError::Op(e)) => return Err(e),
                Err(e) => {
                    let img = reduce(stack, op, range)?;
                    return Ok((
                        img,
                        Ran {
                            engine: "cpu",
                            note: Some(format!("{e}; computed on the CPU")),
                        },
                    ));
                }
            }
        }
        Ok((reduce(stack, op, range)?, self.cpu()))
    }

    /// Normalizes the whole stack on the GPU when in use and supported, else on the CPU.
    pub fn normalize(&self, stack: &Stack, n: &Normalize) -> Result<(Stack, Ran), OpError> {
        if let (Some(g), Some(r)) = (&self.normalize, &self.gpu) {
            match g.apply(n, stack, r) {
                Ok(s) => {
                    return Ok((
                        s,
                        Ran {
                            engine: "gpu",
                            note: None,
                        },
                    ));
                }
                Err(GpuError::Op(e)) => return Err(e),
                Err(e) => {
                    return Ok((
                        n.apply(stack)?,
                        Ran {
                            engine: "cpu",
                            note: Some(format!("{e}; computed on the CPU")),
                        },
                    ));
                }
            }
        }
        Ok((n.apply(stack)?, self.cpu()))
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
        if let Some(g) = &self.roi {
            match g.series(stack, roi, stat, range) {
                Ok(r) => {
                    return Ok((
                        r,
                        Ran {
                            engine: "gpu",
                            note: None,
                        },
                    ));
                }
                Err(GpuError::Op(e)) => return Err(e),
                Err(e) => {
                    return Ok((
                        roi_series(stack, roi, stat, range)?,
                        Ran {
                            engine: "cpu",
                            note: Some(format!("{e}; computed on the CPU")),
                        },
                    ));
                }
            }
        }
        Ok((roi_series(stack, roi, stat, range)?, self.cpu()))
    }

    /// The histogram of frames `range` on the GPU when in use and supported (u8 stacks),
    /// else on the CPU with `bins` (see [`histogram`]).
    pub fn histogram(
        &self,
        stack: &Stack,
        range: FrameRange,
        bins: Option<usize>,
    ) -> Result<(Histogram, Ran), OpError> {
        if let Some(g) = &self.histogram {
            match g.histogram(stack, range) {
                Ok(h) => {
                    return Ok((
                        h,
                        Ran {
                            engine: "gpu",
                            note: None,
                        },
                    ));
                }
                Err(GpuError::Op(e)) => return Err(e),
                Err(e) => {
                    return Ok((
                        histogram(stack, range, bins)?,
                        Ran {
                            engine: "cpu",
                            note: Some(format!("{e}; computed on the CPU")),
                        },
                    ));
                }
            }
        }
        Ok((histogram(stack, range, bins)?, self.cpu()))
    }
}
