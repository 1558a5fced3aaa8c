//! blitz: load, analyse and view huge image stacks and videos.
//!
//! Layout: [`stack`] is the data model, [`load`] turns sources into stacks, [`export`]
//! writes them. See `README.md` and `docs/` for the whole picture.

pub mod bench;
pub mod calibration;
pub mod engine;
pub mod export;
pub mod gpu;
pub mod load;
pub mod ops;
pub mod report;
pub mod stack;
pub mod viewer;

pub use load::{LoadError, LoadOptions, NoProgress, Progress, load};
pub use stack::{Dtype, Shape, Stack};
