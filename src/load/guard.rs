//! The memory guard (spec §2.4 with design.md's fixes): estimate the bytes of the final
//! stack before decoding, and raise the frame step until it fits the RAM budget.

use std::path::Path;

use serde::Serialize;

use super::LoadError;
use super::options::Selection;

/// What the memory guard decided for one load.
#[derive(Clone, Debug, Serialize)]
pub struct GuardReport {
    /// RAM budget in bytes.
    pub budget_bytes: u64,
    /// Bytes the requested frames would take.
    pub estimate_bytes: u64,
    /// Step asked for (step option or subset ratio).
    pub requested_step: usize,
    /// Step used.
    pub step: usize,
    /// Frames asked for and frames kept.
    pub frames_requested: usize,
    pub frames_kept: usize,
    /// False when the stack is a file mapping and takes no RAM of its own.
    pub applies: bool,
}

impl GuardReport {
    /// One line for the user when the guard changed something.
    pub fn describe(&self) -> Option<String> {
        (self.step > self.requested_step).then(|| {
            format!(
                "memory guard: {} frames need {}, over the budget of {}; kept every {}. frame ({} frames, {})",
                self.frames_requested,
                human_bytes(self.estimate_bytes),
                human_bytes(self.budget_bytes),
                self.step,
                self.frames_kept,
                human_bytes(self.frames_kept as u64 * self.estimate_bytes / self.frames_requested.max(1) as u64),
            )
        })
    }
}

/// RAM available now, in bytes (0 when the system does not say).
pub fn available_ram_bytes() -> u64 {
    sysinfo::System::new()
        .map(|mut sys| {
            sys.refresh_memory();
            sys.available_memory()
        })
        .unwrap_or(0)
}

/// Half of the RAM available now: the default budget.
pub fn default_budget_bytes() -> u64 {
    let avail = available_ram_bytes();
    if avail == 0 { 2 << 30 } else { avail / 2 }
}

/// Raises `sel.step` (never lowers it) until the kept frames fit `budget` bytes.
/// The step rule is the same for every source: the smallest integer step that fits.
pub fn apply(
    path: &Path,
    sel: Selection,
    frame_bytes: u64,
    budget: u64,
) -> Result<(Selection, GuardReport), LoadError> {
    let requested = sel.count();
    let mut report = GuardReport {
        budget_bytes: budget,
        estimate_bytes: requested as u64 * frame_bytes,
        requested_step: sel.step,
        step: sel.step,
        frames_requested: requested,
        frames_kept: requested,
        applies: true,
    };
    if report.estimate_bytes <= budget {
        return Ok((sel, report));
    }
    let max_frames = budget / frame_bytes.max(1);
    if max_frames == 0 {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            frame_bytes,
            budget,
        });
    }
    // ceil(n / s) <= m  <=>  s >= ceil(n / m), over the range (not over already-stepped frames)
    let n = sel.range_len();
    let step = n.div_ceil(max_frames as usize).max(sel.step);
    let out = Selection { step, ..sel };
    report.step = step;
    report.frames_kept = out.count();
    Ok((out, report))
}

/// A report for a load the guard does not limit (a file mapping).
pub fn not_applied(sel: Selection, frame_bytes: u64, budget: u64) -> GuardReport {
    GuardReport {
        budget_bytes: budget,
        estimate_bytes: sel.count() as u64 * frame_bytes,
        requested_step: sel.step,
        step: sel.step,
        frames_requested: sel.count(),
        frames_kept: sel.count(),
        applies: false,
    }
}

/// Bytes as "1.23 GB" (decimal units).
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(first: usize, last: usize, step: usize) -> Selection {
        Selection { first, last, step }
    }

    #[test]
    fn fits_means_unchanged() {
        let (s, r) = apply(Path::new("x"), sel(0, 99, 1), 10, 1000).unwrap();
        assert_eq!(s.step, 1);
        assert_eq!(r.frames_kept, 100);
        assert!(r.describe().is_none());
    }

    #[test]
    fn three_gib_into_two_takes_every_second_frame() {
        // spec §2.4 example: 3 GiB estimate, 2 GiB budget -> every 2nd frame
        let gib = 1u64 << 30;
        let frame = gib / 100;
        let (s, r) = apply(Path::new("x"), sel(0, 299, 1), frame, 2 * gib).unwrap();
        assert_eq!(s.step, 2);
        assert_eq!(r.frames_kept, 150);
        assert!(r.frames_kept as u64 * frame <= 2 * gib);
        assert!(r.describe().unwrap().contains("every 2."));
    }

    #[test]
    fn step_is_the_smallest_that_fits() {
        // 10 frames of 100 bytes, budget 350 -> at most 3 frames -> step 4 keeps 0,4,8
        let (s, r) = apply(Path::new("x"), sel(0, 9, 1), 100, 350).unwrap();
        assert_eq!((s.step, r.frames_kept), (4, 3));
        // step 3 would keep 4 frames = 400 bytes: too many
        assert!(sel(0, 9, 3).count() as u64 * 100 > 350);
    }

    #[test]
    fn user_step_is_never_lowered() {
        // room for one frame of ten: step 9 would still keep frames 0 and 9, so 10
        let (s, r) = apply(Path::new("x"), sel(0, 9, 5), 100, 150).unwrap();
        assert_eq!((s.step, r.frames_kept), (10, 1));
        let (s, _) = apply(Path::new("x"), sel(0, 9, 5), 100, 10_000).unwrap();
        assert_eq!(s.step, 5);
    }

    #[test]
    fn one_frame_over_budget_is_refused() {
        assert!(matches!(
            apply(Path::new("x"), sel(0, 9, 1), 1000, 999),
            Err(LoadError::TooLarge { .. })
        ));
    }
}
