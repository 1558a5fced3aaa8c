//! The memory guard (spec §2.4 with design.md's fixes): estimate the bytes of the final
//! stack before decoding and decide where it goes: RAM when it fits the budget, else the
//! disk cache when asked for or when it has room (`--storage auto`), and only otherwise
//! raise the frame step until it fits the RAM budget, saying why.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::LoadError;
use super::options::{Selection, StorageChoice};

/// Where a loaded stack's samples live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Owned RAM.
    Ram,
    /// A mapping of the source itself (a `.npy` that needs no conversion).
    Mapped,
    /// Decoded once into a `.npy` in the cache directory, then mapped.
    Disk,
}

impl Storage {
    pub fn name(self) -> &'static str {
        match self {
            Storage::Ram => "ram",
            Storage::Mapped => "mapped",
            Storage::Disk => "disk",
        }
    }
}

/// What a load may use: the RAM budget, the storage asked for and the cache directory.
#[derive(Clone, Debug)]
pub struct Budget {
    /// RAM budget in bytes.
    pub ram: u64,
    pub storage: StorageChoice,
    pub cache_dir: PathBuf,
    /// Free bytes in the cache directory's file system (None: unknown).
    pub disk_free: Option<u64>,
}

impl Budget {
    /// A RAM-only budget of `ram` bytes (tests, callers that never cache).
    pub fn ram(ram: u64) -> Budget {
        Budget {
            ram,
            storage: StorageChoice::Ram,
            cache_dir: PathBuf::new(),
            disk_free: None,
        }
    }
}

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
    /// False when the stack takes no RAM of its own (a file mapping, the disk cache).
    pub applies: bool,
    /// Where the stack goes.
    pub storage: Storage,
    /// Why `--storage auto` chose what it chose, when the stack is over the RAM budget.
    pub storage_note: Option<String>,
}

impl GuardReport {
    /// One line for the user when the guard changed something.
    pub fn describe(&self) -> Option<String> {
        if self.storage == Storage::Disk {
            return Some(format!(
                "storage disk: {} frames ({}) decoded once into the cache directory and memory-mapped{}",
                self.frames_kept,
                human_bytes(self.estimate_bytes),
                self.storage_note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ));
        }
        (self.step > self.requested_step).then(|| {
            format!(
                "memory guard: {} frames need {}, over the budget of {}; kept every {}. frame ({} frames, {})",
                self.frames_requested,
                human_bytes(self.estimate_bytes),
                human_bytes(self.budget_bytes),
                self.step,
                self.frames_kept,
                human_bytes(self.frames_kept as u64 * self.estimate_bytes / self.frames_requested.max(1) as u64),
            ) + &self.storage_note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
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

/// Decides the storage of the kept frames and raises `sel.step` (never lowers it) until
/// they fit the RAM budget when they go to RAM. The step rule is the same for every
/// source: the smallest integer step that fits.
pub fn apply(
    path: &Path,
    sel: Selection,
    frame_bytes: u64,
    budget: &Budget,
) -> Result<(Selection, GuardReport), LoadError> {
    let requested = sel.count();
    let mut report = GuardReport {
        budget_bytes: budget.ram,
        estimate_bytes: requested as u64 * frame_bytes,
        requested_step: sel.step,
        step: sel.step,
        frames_requested: requested,
        frames_kept: requested,
        applies: true,
        storage: Storage::Ram,
        storage_note: None,
    };
    let fits = report.estimate_bytes <= budget.ram;
    let room = |bytes: u64| budget.disk_free.is_none_or(|f| f > bytes + (64 << 20));
    match budget.storage {
        StorageChoice::Disk => {
            if !room(report.estimate_bytes) {
                return Err(LoadError::Cache {
                    dir: budget.cache_dir.clone(),
                    msg: format!(
                        "{} free, the stack needs {}",
                        human_bytes(budget.disk_free.unwrap_or(0)),
                        human_bytes(report.estimate_bytes)
                    ),
                });
            }
            report.storage = Storage::Disk;
            report.applies = false;
            return Ok((sel, report));
        }
        StorageChoice::Auto if !fits => {
            if room(report.estimate_bytes) {
                report.storage = Storage::Disk;
                report.applies = false;
                report.storage_note = Some(format!(
                    "over the RAM budget of {}",
                    human_bytes(budget.ram)
                ));
                return Ok((sel, report));
            }
            report.storage_note = Some(format!(
                "the cache directory {} has only {} free for {}",
                budget.cache_dir.display(),
                human_bytes(budget.disk_free.unwrap_or(0)),
                human_bytes(report.estimate_bytes)
            ));
        }
        _ => {}
    }
    if fits {
        return Ok((sel, report));
    }
    let max_frames = budget.ram / frame_bytes.max(1);
    if max_frames == 0 {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            frame_bytes,
            budget: budget.ram,
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
pub fn not_applied(sel: Selection, frame_bytes: u64, budget: &Budget) -> GuardReport {
    GuardReport {
        budget_bytes: budget.ram,
        estimate_bytes: sel.count() as u64 * frame_bytes,
        requested_step: sel.step,
        step: sel.step,
        frames_requested: sel.count(),
        frames_kept: sel.count(),
        applies: false,
        storage: Storage::Mapped,
        storage_note: None,
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
        let (s, r) = apply(Path::new("x"), sel(0, 99, 1), 10, &Budget::ram(1000)).unwrap();
        assert_eq!(s.step, 1);
        assert_eq!(r.frames_kept, 100);
        assert!(r.describe().is_none());
    }

    #[test]
    fn three_gib_into_two_takes_every_second_frame() {
        // spec §2.4 example: 3 GiB estimate, 2 GiB budget -> every 2nd frame
        let gib = 1u64 << 30;
        let frame = gib / 100;
        let (s, r) = apply(Path::new("x"), sel(0, 299, 1), frame, &Budget::ram(2 * gib)).unwrap();
        assert_eq!(s.step, 2);
        assert_eq!(r.frames_kept, 150);
        assert!(r.frames_kept as u64 * frame <= 2 * gib);
        assert!(r.describe().unwrap().contains("every 2."));
    }

    #[test]
    fn step_is_the_smallest_that_fits() {
        // 10 frames of 100 bytes, budget 350 -> at most 3 frames -> step 4 keeps 0,4,8
        let (s, r) = apply(Path::new("x"), sel(0, 9, 1), 100, &Budget::ram(350)).unwrap();
        assert_eq!((s.step, r.frames_kept), (4, 3));
        // step 3 would keep 4 frames = 400 bytes: too many
        assert!(sel(0, 9, 3).count() as u64 * 100 > 350);
    }

    #[test]
    fn user_step_is_never_lowered() {
        // room for one frame of ten: step 9 would still keep frames 0 and 9, so 10
        let (s, r) = apply(Path::new("x"), sel(0, 9, 5), 100, &Budget::ram(150)).unwrap();
        assert_eq!((s.step, r.frames_kept), (10, 1));
        let (s, _) = apply(Path::new("x"), sel(0, 9, 5), 100, &Budget::ram(10_000)).unwrap();
        assert_eq!(s.step, 5);
    }

    #[test]
    fn storage_auto_goes_to_disk_only_when_over_the_budget_and_it_has_room() {
        let b = |storage, free| Budget {
            ram: 350,
            storage,
            cache_dir: PathBuf::from("/cache"),
            disk_free: free,
        };
        // fits the RAM budget: RAM, whatever the disk
        let (_, r) = apply(
            Path::new("x"),
            sel(0, 2, 1),
            100,
            &b(StorageChoice::Auto, Some(0)),
        )
        .unwrap();
        assert_eq!(r.storage, Storage::Ram);
        // over it, with room: every frame kept, on disk
        let (s, r) = apply(
            Path::new("x"),
            sel(0, 9, 1),
            100,
            &b(StorageChoice::Auto, None),
        )
        .unwrap();
        assert_eq!((s.step, r.frames_kept, r.storage), (1, 10, Storage::Disk));
        assert!(r.describe().unwrap().contains("storage disk"));
        // over it, no room: subsampled, and the note says why
        let (s, r) = apply(
            Path::new("x"),
            sel(0, 9, 1),
            100,
            &b(StorageChoice::Auto, Some(1000)),
        )
        .unwrap();
        assert_eq!((s.step, r.storage), (4, Storage::Ram));
        assert!(r.describe().unwrap().contains("/cache has only"));
        // --storage ram subsamples; --storage disk without room is an error naming the dir
        let (s, _) = apply(
            Path::new("x"),
            sel(0, 9, 1),
            100,
            &b(StorageChoice::Ram, None),
        )
        .unwrap();
        assert_eq!(s.step, 4);
        let e = apply(
            Path::new("x"),
            sel(0, 9, 1),
            100,
            &b(StorageChoice::Disk, Some(10)),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/cache"), "{e}");
    }

    #[test]
    fn one_frame_over_budget_is_refused() {
        assert!(matches!(
            apply(Path::new("x"), sel(0, 9, 1), 1000, &Budget::ram(999)),
            Err(LoadError::TooLarge { .. })
        ));
    }
}
