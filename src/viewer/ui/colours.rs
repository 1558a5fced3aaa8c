//! The colours the image overlays and the plots share, so a pin, a ROI or a channel has
//! one colour on the image, on its curve and in the legend.

use egui::Color32;

/// The ROI's outline, and its curve for gray data.
pub const ROI: Color32 = Color32::from_rgb(255, 220, 0);

/// The scores of the PCA component shown.
pub const PCA: Color32 = Color32::from_rgb(120, 255, 200);

/// The line tool's line and its profile.
pub const LINE: Color32 = Color32::from_rgb(255, 120, 60);

/// The measure tool's segment and label.
pub const MEASURE: Color32 = Color32::from_rgb(120, 220, 255);

/// The pointer's pixel curve.
pub const CURSOR: Color32 = Color32::from_gray(200);

/// Pins 1, 2, 3, 4 (and on, cycling).
const PINS: [Color32; 4] = [
    Color32::from_rgb(255, 80, 200),
    Color32::from_rgb(80, 220, 255),
    Color32::from_rgb(255, 150, 40),
    Color32::from_rgb(170, 130, 255),
];

/// ROIs 1, 2, 3, ... of the set (cycling).
const SET: [Color32; 6] = [
    Color32::from_rgb(255, 99, 71),
    Color32::from_rgb(60, 200, 255),
    Color32::from_rgb(140, 230, 80),
    Color32::from_rgb(255, 170, 220),
    Color32::from_rgb(255, 200, 90),
    Color32::from_rgb(190, 150, 255),
];

/// The colour of ROI `i` (from 0) of the set: its outline, name and curve.
pub fn set_roi(i: usize) -> Color32 {
    SET[i % SET.len()]
}

/// The colour of pin `i` (from 0): its marker and its curve.
pub fn pin(i: usize) -> Color32 {
    PINS[i % PINS.len()]
}

/// Curve colours: `gray` for one channel, red/green/blue per channel for colour.
pub fn channel(c: usize, channels: usize, gray: Color32) -> Color32 {
    match (channels, c % 3) {
        (1, _) => gray,
        (_, 0) => Color32::from_rgb(255, 110, 110),
        (_, 1) => Color32::from_rgb(110, 230, 110),
        _ => Color32::from_rgb(120, 160, 255),
    }
}

/// The translucent fill of a band around a curve of colour `c`.
pub fn band(c: Color32) -> Color32 {
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), 45)
}

/// Channel `c` of `channels` as a legend suffix: "" for gray, " R", " G", " B" (" c3"...).
pub fn channel_name(c: usize, channels: usize) -> String {
    match (channels, c) {
        (1, _) => String::new(),
        (3 | 4, 0) => " R".into(),
        (3 | 4, 1) => " G".into(),
        (3 | 4, 2) => " B".into(),
        _ => format!(" c{c}"),
    }
}
