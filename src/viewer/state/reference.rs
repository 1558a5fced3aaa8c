//! Reference and mask images for the ops panel and the binary mask: one frame of the
//! stack's frame shape, read from a file.

use std::path::Path;

use crate::load::{self, LoadOptions, NoProgress};
use crate::ops::Image;
use crate::viewer::error::ViewerError;

/// One frame of the reference's shape loaded with default options (spec §3.2: a file
/// reference ignores the data's load options), checked against `shape` (h, w, c).
pub fn load_reference(
    path: &Path,
    h: usize,
    w: usize,
    c: Option<usize>,
) -> Result<Image, ViewerError> {
    let s = load::load(path, &LoadOptions::default(), &NoProgress)?;
    let sh = s.shape();
    if sh.frames != 1 || sh.height != h || sh.width != w || c.is_some_and(|c| c != sh.channels) {
        return Err(ViewerError::Reference(format!(
            "{}: {} frame(s) of {} x {} x {}; one frame of {} x {}{} is needed",
            path.display(),
            sh.frames,
            sh.width,
            sh.height,
            sh.channels,
            w,
            h,
            c.map_or(String::new(), |c| format!(" x {c}")),
        )));
    }
    let frame = s.frame(0);
    Ok(Image {
        height: h,
        width: w,
        channels: sh.channels,
        data: (0..frame.len()).map(|i| frame.get_f32(i)).collect(),
    })
}
