//! The viewer: a winit window showing a stack through the GPU display renderer, with an
//! egui interface drawn on the same wgpu device that computes.

pub mod colormap;
pub mod display;
