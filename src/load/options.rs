//! Load options (spec §2.2) and the frame selection they produce.

use serde::Serialize;

use super::LoadError;
use super::guard::default_budget_bytes;
use super::video::VideoSeek;

/// Where a load may put its frames (`--storage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageChoice {
    /// Always RAM (the memory guard subsamples what does not fit).
    Ram,
    /// Decode once into a `.npy` in the cache directory and map it.
    Disk,
    /// RAM when it fits the budget, else disk when the cache directory has room.
    #[default]
    Auto,
}

impl std::str::FromStr for StorageChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ram" => Ok(StorageChoice::Ram),
            "disk" => Ok(StorageChoice::Disk),
            "auto" => Ok(StorageChoice::Auto),
            _ => Err(format!("unknown storage '{s}' (ram, disk, auto)")),
        }
    }
}

/// How to read a source. The defaults keep every frame at full size in its own dtype.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Convert RGB to luminance (0.299 R + 0.587 G + 0.114 B).
    pub grayscale: bool,
    /// Fixed scale to u8 (spec §2.3): u16 / 65535 * 255, floats assumed 0..1, truncated.
    pub to_8bit: bool,
    /// Stretch each image from its own min..max (spec §2.3).
    pub normalize: bool,
    /// Spatial downscale factor in (0, 1], area averaging; new size = floor(size * ratio).
    pub size_ratio: f64,
    /// Temporal subsampling in (0, 1]: keep every ceil(1/ratio)-th frame.
    pub subset_ratio: f64,
    /// Keep every step-th frame; overrides `subset_ratio`.
    pub step: Option<usize>,
    /// First frame kept (inclusive, source numbering).
    pub first: Option<usize>,
    /// Last frame kept (inclusive, source numbering); clamped to the source.
    pub last: Option<usize>,
    /// RAM budget in GiB for the loaded stack; None: half of the available RAM.
    pub max_ram_gib: Option<f64>,
    /// Keep only this rectangle of every frame (pixels after the size ratio; spec §2.6).
    pub crop: Option<super::LoadCrop>,
    /// Cut frames of a folder with mixed sizes to the common top-left region instead of failing.
    pub crop_to_common: bool,
    /// Video: decode every frame in between, or seek to the keyframe before each wanted frame.
    pub video_seek: VideoSeek,
    /// RAM, disk cache, or whichever fits.
    pub storage: StorageChoice,
    /// Cache directory for disk storage; None: the user's cache directory.
    pub cache_dir: Option<std::path::PathBuf>,
    /// A 3-D `.npy` of shape (A, B, 3) is read as A gray frames of B x 3 pixels instead
    /// of one A x B colour image.
    pub as_frames: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            grayscale: false,
            to_8bit: false,
            normalize: false,
            size_ratio: 1.0,
            subset_ratio: 1.0,
            step: None,
            first: None,
            last: None,
            max_ram_gib: None,
            crop: None,
            crop_to_common: false,
            video_seek: VideoSeek::Auto,
            storage: StorageChoice::Auto,
            cache_dir: None,
            as_frames: false,
        }
    }
}

fn bad(option: &'static str, msg: impl Into<String>) -> LoadError {
    LoadError::Option {
        option,
        msg: msg.into(),
    }
}

impl LoadOptions {
    /// Refuses values that cannot mean anything (zero ratios, first > last, ...).
    pub fn validate(&self) -> Result<(), LoadError> {
        let ratio_ok = |r: f64| r.is_finite() && r > 0.0 && r <= 1.0;
        if !ratio_ok(self.size_ratio) {
            return Err(bad(
                "--size-ratio",
                format!("{} is not in (0, 1]", self.size_ratio),
            ));
        }
        if !ratio_ok(self.subset_ratio) {
            return Err(bad(
                "--subset-ratio",
                format!("{} is not in (0, 1]", self.subset_ratio),
            ));
        }
        if self.step == Some(0) {
            return Err(bad("--step", "must be at least 1"));
        }
        if let (Some(a), Some(b)) = (self.first, self.last)
            && a > b
        {
            return Err(bad(
                "--first/--last",
                format!("first frame {a} is after last frame {b}"),
            ));
        }
        if let Some(g) = self.max_ram_gib
            && !(g.is_finite() && g > 0.0)
        {
            return Err(bad("--max-ram", format!("{g} GiB is not a positive size")));
        }
        Ok(())
    }

    /// The step the user asked for: `step`, else ceil(1 / subset_ratio).
    pub fn requested_step(&self) -> usize {
        self.step.unwrap_or_else(|| {
            // the small slack keeps 1/3 -> 3 instead of 3.0000000004 -> 4
            ((1.0 / self.subset_ratio) - 1e-9).ceil().max(1.0) as usize
        })
    }

    /// Memory budget in bytes.
    pub fn budget_bytes(&self) -> u64 {
        match self.max_ram_gib {
            Some(g) => (g * (1u64 << 30) as f64) as u64,
            None => default_budget_bytes(),
        }
    }

    /// Output size of a frame of `h` x `w` after the size ratio; errors when it becomes 0.
    pub fn resized(&self, h: usize, w: usize) -> Result<(usize, usize), LoadError> {
        let r = self.size_ratio;
        let (nh, nw) = (
            ((h as f64) * r + 1e-9).floor() as usize,
            ((w as f64) * r + 1e-9).floor() as usize,
        );
        if nh == 0 || nw == 0 {
            return Err(bad(
                "--size-ratio",
                format!("{r} turns a {w}x{h} frame into {nw}x{nh} pixels"),
            ));
        }
        Ok((nh, nw))
    }
}

/// Frames kept from a source: `first, first + step, ... <= last` (inclusive, source numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub first: usize,
    pub last: usize,
    pub step: usize,
}

impl Selection {
    /// Resolves the options against a source of `n` frames.
    pub fn resolve(n: usize, opts: &LoadOptions) -> Result<Selection, LoadError> {
        let first = opts.first.unwrap_or(0);
        if n == 0 {
            return Err(bad("--first", "the source holds no frame"));
        }
        if first >= n {
            return Err(bad(
                "--first",
                format!("frame {first} is beyond the {n} frames of the source"),
            ));
        }
        let last = opts.last.unwrap_or(n - 1).min(n - 1);
        Ok(Selection {
            first,
            last,
            step: opts.requested_step(),
        })
    }

    /// Number of frames in the inclusive range, before the step.
    pub fn range_len(&self) -> usize {
        self.last - self.first + 1
    }

    /// Number of frames kept.
    pub fn count(&self) -> usize {
        (self.last - self.first) / self.step + 1
    }

    /// Source index of the k-th kept frame.
    pub fn index(&self, k: usize) -> usize {
        self.first + k * self.step
    }

    /// Source indices of all kept frames.
    pub fn indices(&self) -> impl Iterator<Item = usize> + use<> {
        (self.first..=self.last).step_by(self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_ratio_becomes_an_integer_step() {
        let o = |s: f64| LoadOptions {
            subset_ratio: s,
            ..Default::default()
        };
        assert_eq!(o(1.0).requested_step(), 1);
        assert_eq!(o(0.5).requested_step(), 2);
        assert_eq!(o(1.0 / 3.0).requested_step(), 3);
        assert_eq!(o(0.3).requested_step(), 4);
        assert_eq!(o(1.0 / 93.0).requested_step(), 93);
        let with_step = LoadOptions {
            step: Some(7),
            subset_ratio: 0.5,
            ..Default::default()
        };
        assert_eq!(with_step.requested_step(), 7);
    }

    #[test]
    fn selection_is_inclusive_and_clamped() {
        let opts = LoadOptions {
            first: Some(2),
            last: Some(100),
            step: Some(3),
            ..Default::default()
        };
        let s = Selection::resolve(10, &opts).unwrap();
        assert_eq!(s.indices().collect::<Vec<_>>(), vec![2, 5, 8]);
        assert_eq!(s.count(), 3);
        assert!(Selection::resolve(2, &opts).is_err());
    }

    #[test]
    fn zero_and_reversed_options_are_refused() {
        let cases = [
            LoadOptions {
                size_ratio: 0.0,
                ..Default::default()
            },
            LoadOptions {
                subset_ratio: 0.0,
                ..Default::default()
            },
            LoadOptions {
                step: Some(0),
                ..Default::default()
            },
            LoadOptions {
                first: Some(5),
                last: Some(4),
                ..Default::default()
            },
            LoadOptions {
                max_ram_gib: Some(-1.0),
                ..Default::default()
            },
            LoadOptions {
                size_ratio: 1.5,
                ..Default::default()
            },
        ];
        for o in cases {
            assert!(o.validate().is_err(), "{o:?} should be refused");
        }
    }

    #[test]
    fn resize_floors_and_refuses_zero() {
        let o = LoadOptions {
            size_ratio: 0.5,
            ..Default::default()
        };
        assert_eq!(o.resized(5, 7).unwrap(), (2, 3));
        assert!(o.resized(1, 7).is_err());
    }
}
