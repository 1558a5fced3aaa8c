//! The viewer: a winit window showing a stack through the GPU display renderer, with an
//! egui interface drawn on the same wgpu device that computes.
//!
//! `state/` holds what is shown, the derived data, the background jobs and every
//! interaction as methods (no widgets); `ui/` draws the state with egui, one file per
//! panel, and calls those methods. Dependencies point one way: `ui -> state`.

pub mod colormap;
pub mod display;
pub mod error;
pub mod setup;
pub mod stamp;
pub mod state;
pub mod ui;
pub mod window;

pub use error::ViewerError;
pub use setup::ViewSetup;
pub use state::ViewerState;
pub use window::{ViewOptions, run};
