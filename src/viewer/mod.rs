//! The viewer: a winit window showing a stack through the GPU display renderer, with an
//! egui interface drawn on the same wgpu device that computes.

pub mod analysis;
pub mod app;
pub mod colormap;
pub mod display;
pub mod loader;
pub mod panels;
pub mod setup;
pub mod window;

pub use window::{ViewOptions, run};
