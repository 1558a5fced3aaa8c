//! The operations of [`crate::ops`] on the GPU through wgpu: the device and its limits,
//! one module per kernel family (WGSL in `shaders/<name>.wgsl`, composed after the
//! prelude in `shaders/common/` by [`shader`]), and the chunk loop that streams a
//! stack's frames through the GPU (`stream`).

pub mod bandwidth;
pub mod device;
pub mod histogram;
pub mod kymograph;
pub mod normalize;
pub mod pca;
pub mod profile;
pub mod reduce;
pub mod roi;
pub mod shader;
pub(crate) mod stream;

pub use device::{GpuDevice, GpuInfo};

/// The shaders' code for a sample type (their `DT_*` constants).
pub(crate) fn dtype_code(d: crate::stack::Dtype) -> u32 {
    match d {
        crate::stack::Dtype::U8 => 0,
        crate::stack::Dtype::U16 => 1,
        crate::stack::Dtype::F32 => 2,
    }
}

/// Why a GPU operation could not run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    #[error("could not open the GPU device '{adapter}': {reason}")]
    Device { adapter: String, reason: String },
    #[error("the GPU engine does not support {0} yet; use the CPU engine")]
    Unsupported(&'static str),
    #[error(
        "one frame needs {needed} bytes on the GPU, more than the {limit} bytes one binding may hold"
    )]
    FrameTooLarge { needed: u64, limit: u64 },
    #[error("GPU error: {0}")]
    Wgpu(String),
    #[error(transparent)]
    Op(#[from] crate::ops::OpError),
}
