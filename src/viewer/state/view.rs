//! Zoom and pan of the image, and the mapping between the image area and the pixels of
//! the frame as shown (turned by the orientation; `ViewerState::area_to_data` goes on to
//! the stack's own pixels). Positions are egui's plain `Vec2` (points, relative to the
//! image area's top-left).

use egui::Vec2;

use crate::ops::orientation::Orientation;
use crate::viewer::display::Placement;

/// Zoom and pan of the image: `offset` is where shown pixel (0, 0) lies relative to the
/// top-left corner of the image area, in points; `zoom` is points per data pixel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub offset: Vec2,
    pub zoom: f32,
    /// Refit to the area on every frame until the user zooms or pans.
    pub fit: bool,
    /// One data pixel per screen pixel at the next frame (the area size is known then).
    pub one_to_one_pending: bool,
    /// Zoom factor asked for by keys, applied about the area's centre at the next frame.
    pub pending_zoom: f32,
}

impl Default for View {
    fn default() -> Self {
        View {
            offset: Vec2::ZERO,
            zoom: 1.0,
            fit: true,
            one_to_one_pending: false,
            pending_zoom: 1.0,
        }
    }
}

impl View {
    /// Zoom and pan that fit a `w` x `h` frame into `area` (points), centred.
    pub fn fit_to(&mut self, area: Vec2, w: usize, h: usize) {
        let zoom = (area.x / w as f32).min(area.y / h as f32).max(1e-3);
        let size = Vec2::new(w as f32, h as f32) * zoom;
        self.offset = (area - size) / 2.0;
        self.zoom = zoom;
        self.fit = true;
    }

    /// One data pixel per physical screen pixel, centred on the area's centre.
    pub fn one_to_one(&mut self, area: Vec2, w: usize, h: usize, pixels_per_point: f32) {
        let zoom = 1.0 / pixels_per_point;
        let size = Vec2::new(w as f32, h as f32) * zoom;
        self.offset = ((area - size) / 2.0).round();
        self.zoom = zoom;
        self.fit = false;
        self.one_to_one_pending = false;
    }

    /// Zooms by `factor` keeping the data under `at` (relative to the area) in place.
    pub fn zoom_at(&mut self, at: Vec2, factor: f32) {
        let zoom = (self.zoom * factor).clamp(1e-3, 256.0);
        let f = zoom / self.zoom;
        self.offset = at - (at - self.offset) * f;
        self.zoom = zoom;
        self.fit = false;
    }

    /// Moves the image by `delta` points.
    pub fn pan(&mut self, delta: Vec2) {
        self.offset += delta;
        self.fit = false;
    }

    /// Shown-frame coordinates (pixels, fractional) of the point `at` of the area.
    pub fn to_data(&self, at: Vec2) -> Vec2 {
        (at - self.offset) / self.zoom
    }

    /// Point of the area (relative to its top-left) of shown-frame coordinates (x, y).
    pub fn to_area(&self, x: f32, y: f32) -> Vec2 {
        self.offset + Vec2::new(x, y) * self.zoom
    }

    /// Placement of the frame, shown through `orient`, in physical pixels for an image
    /// area whose top-left corner is at `area_min` (points).
    pub fn placement(
        &self,
        area_min: Vec2,
        pixels_per_point: f32,
        orient: Orientation,
    ) -> Placement {
        let o = (area_min + self.offset) * pixels_per_point;
        Placement {
            origin: [o.x, o.y],
            zoom: self.zoom * pixels_per_point,
            orient,
        }
    }
}
