//! Sources -> Stack: load options, the memory guard and one loader per source kind.
//!
//! Every load runs in two steps: [`plan`] reads headers only (shape, dtype, frame count,
//! what the memory guard will do), then the loader allocates the final buffer once and
//! decodes straight into its frame slots. `blitz info` prints the plan without decoding.

mod ascii;
mod cache;
mod cine;
mod crop;
mod demo;
mod fits;
mod frame;
mod guard;
mod images;
mod jpeg;
mod mixed;
mod mraw;
mod npy;
mod options;
mod output;
mod progress;
mod raw;
mod sniff;
mod spe;
mod tiff;
mod tiff_raw;
mod video;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::stack::{Dtype, Shape, Stack};

pub(crate) use cache::env_dir;
pub use cache::{CacheEntry, CachedFile, cache_dir, clear_cache, list_cache};
pub use crop::{LoadCrop, Window};
pub use demo::{DEMO_SHAPE, demo_stack};
pub use guard::human_bytes;
pub use guard::{Budget, GuardReport, Storage, available_ram_bytes, default_budget_bytes};
pub use images::natural_sort;
pub use npy::{NpyHeader, npy_descr, npy_header};
pub use options::{LoadOptions, Selection, StorageChoice};
pub use progress::{Cancel, NoProgress, Progress};
pub use video::VideoSeek;

/// Source sample types a loader can meet; stored dtypes are only u8, u16 and f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SrcDtype {
    U8,
    U16,
    I16,
    U32,
    I32,
    F32,
    F64,
}

impl SrcDtype {
    /// Bytes per sample in the source.
    pub fn size(self) -> usize {
        match self {
            SrcDtype::U8 => 1,
            SrcDtype::U16 | SrcDtype::I16 => 2,
            SrcDtype::U32 | SrcDtype::I32 | SrcDtype::F32 => 4,
            SrcDtype::F64 => 8,
        }
    }

    /// True for f32 and f64.
    pub fn is_float(self) -> bool {
        matches!(self, SrcDtype::F32 | SrcDtype::F64)
    }

    /// Largest value of an integer type (used by the fixed 8-bit scale).
    pub fn int_max(self) -> f64 {
        match self {
            SrcDtype::U8 => u8::MAX as f64,
            SrcDtype::U16 => u16::MAX as f64,
            SrcDtype::I16 => i16::MAX as f64,
            SrcDtype::U32 => u32::MAX as f64,
            SrcDtype::I32 => i32::MAX as f64,
            SrcDtype::F32 | SrcDtype::F64 => 1.0,
        }
    }

    /// The stored dtype this source becomes under the given options (spec §1.2, §2.3).
    pub fn stored(self, opts: &LoadOptions) -> Dtype {
        if opts.to_8bit {
            return Dtype::U8;
        }
        match self {
            SrcDtype::U8 => Dtype::U8,
            SrcDtype::U16 => Dtype::U16,
            SrcDtype::F32 | SrcDtype::F64 => Dtype::F32,
            // normalize maps other integers to 0..65535; without it they keep their values as f32
            SrcDtype::I16 | SrcDtype::U32 | SrcDtype::I32 if opts.normalize => Dtype::U16,
            SrcDtype::I16 | SrcDtype::U32 | SrcDtype::I32 => Dtype::F32,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SrcDtype::U8 => "u8",
            SrcDtype::U16 => "u16",
            SrcDtype::I16 => "i16",
            SrcDtype::U32 => "u32",
            SrcDtype::I32 => "i32",
            SrcDtype::F32 => "f32",
            SrcDtype::F64 => "f64",
        }
    }
}

/// The kind of source behind a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    ImageFolder,
    Image,
    TiffStack,
    Video,
    Npy,
    Demo,
    Cine,
    Mraw,
    Spe,
    Fits,
    Ascii,
    AsciiFolder,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::ImageFolder => "image folder",
            SourceKind::Image => "image",
            SourceKind::TiffStack => "tiff stack",
            SourceKind::Video => "video",
            SourceKind::Npy => "npy",
            SourceKind::Demo => "demo",
            SourceKind::Cine => "phantom cine",
            SourceKind::Mraw => "photron mraw",
            SourceKind::Spe => "princeton spe",
            SourceKind::Fits => "fits",
            SourceKind::Ascii => "ascii grid",
            SourceKind::AsciiFolder => "ascii grid folder",
        }
    }
}

/// Everything known about a load before any pixel is decoded.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub path: PathBuf,
    pub kind: SourceKind,
    /// Frames in the source (before range and step); for video a container estimate
    /// unless `frames_exact`.
    pub source_frames: usize,
    pub frames_exact: bool,
    /// Source frame height, width and channels, and sample type.
    pub source_height: usize,
    pub source_width: usize,
    pub source_channels: usize,
    pub source_dtype: SrcDtype,
    /// Frames kept: range and final step (after the memory guard).
    pub selection: Selection,
    /// Shape and dtype of the stack the load produces.
    pub shape: Shape,
    pub dtype: Dtype,
    /// True when the stack will be a file mapping (no copy).
    pub mapped: bool,
    /// What the memory guard decided.
    pub guard: GuardReport,
    /// Where the stack's samples will live.
    pub storage: Storage,
    /// The cache file of disk storage (it may exist already: then it is mapped at once).
    pub cache: Option<CacheEntry>,
    /// Remarks (other file kinds ignored, estimates, ...).
    pub notes: Vec<String>,
    /// Frames per second the source says it was recorded at, where it says.
    pub fps: Option<f64>,
    /// Time (s) of the first and last kept frame, where the source gives times.
    pub time_range: Option<(f64, f64)>,
    #[serde(skip)]
    detail: Detail,
}

impl Plan {
    /// Bytes of the resulting stack.
    pub fn bytes(&self) -> u64 {
        self.shape.bytes(self.dtype)
    }
}

/// Per-kind data the loader needs after planning.
#[derive(Clone, Debug)]
enum Detail {
    Folder(images::FolderPlan),
    Tiff(frame::FramePipeline),
    Video(video::VideoPlan),
    Npy(npy::NpyHeader),
    Demo(frame::FramePipeline),
    Raw(Box<raw::RawPlan>),
    Ascii(Box<ascii::AsciiPlan>),
}

/// A load that failed: each variant names the file or option at fault.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: the folder holds no image, video or .npy file")]
    EmptyFolder(PathBuf),
    #[error("{}: none of the {} files could be read (first: {}: {})", path.display(), skipped.len(), skipped[0].0, skipped[0].1)]
    NothingReadable {
        path: PathBuf,
        skipped: Vec<(String, String)>,
    },
    #[error("{}: unsupported file type{}", path.display(), hint)]
    Unsupported { path: PathBuf, hint: String },
    #[error("{}: {msg}", path.display())]
    Decode { path: PathBuf, msg: String },
    #[error("{}: {msg}", path.display())]
    Npy { path: PathBuf, msg: String },
    #[error("{}: {msg}", path.display())]
    Video { path: PathBuf, msg: String },
    #[error(
        "{}: frame size {}x{} differs from {}x{} of {}; load with crop-to-common (--crop-common) to cut all frames to {}x{}",
        path.display(), other.1, other.0, first.1, first.0, first_path.display(), common.1, common.0
    )]
    MixedSizes {
        path: PathBuf,
        first_path: PathBuf,
        first: (usize, usize),
        other: (usize, usize),
        common: (usize, usize),
    },
    #[error("option {option}: {msg}")]
    Option { option: &'static str, msg: String },
    #[error(
        "{}: one frame needs {frame_bytes} bytes, more than the memory budget of {budget} bytes; lower --size-ratio or raise --max-ram",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        frame_bytes: u64,
        budget: u64,
    },
    #[error("{}: not enough memory for {bytes} bytes", path.display())]
    OutOfMemory { path: PathBuf, bytes: u64 },
    #[error("{}: load cancelled", .0.display())]
    Cancelled(PathBuf),
    #[error(
        "cache directory {}: {msg}; choose another with --cache-dir, free space (blitz cache clear) or load with --storage ram",
        dir.display()
    )]
    Cache { dir: PathBuf, msg: String },
}

impl LoadError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            LoadError::NotFound(path.to_path_buf())
        } else {
            LoadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    pub(crate) fn decode(path: &Path, msg: impl std::fmt::Display) -> Self {
        LoadError::Decode {
            path: path.to_path_buf(),
            msg: msg.to_string(),
        }
    }
}

/// Name of the built-in synthetic stack (`demo`, or `demo:T,H,W` for another size).
pub fn is_demo(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|s| s == "demo" || s.starts_with("demo:"))
        && !path.exists()
}

/// Reads headers only and decides what a load of `path` with `opts` will produce.
pub fn plan(path: &Path, opts: &LoadOptions) -> Result<Plan, LoadError> {
    opts.validate()?;
    let dir = cache::cache_dir(opts);
    let budget = Budget {
        ram: opts.budget_bytes(),
        storage: opts.storage,
        disk_free: match opts.storage {
            StorageChoice::Ram => None,
            _ => cache::free_bytes(&dir),
        },
        cache_dir: dir,
    };
    let mut plan = if is_demo(path) {
        demo::plan(path, opts, &budget)?
    } else {
        let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
        if meta.is_dir() {
            images::plan_folder(path, opts, &budget)?
        } else {
            plan_file(path, &ext_of_path(path), opts, &budget)?
        }
    };
    plan.storage = plan.guard.storage;
    if plan.storage == Storage::Disk {
        plan.cache = Some(CacheEntry::for_plan(&plan, opts, &budget.cache_dir)?);
    }
    Ok(plan)
}

/// Plans a file by its extension; an unknown extension by what its first bytes are.
/// FFmpeg only gets known video extensions and files whose bytes look like a video.
fn plan_file(
    path: &Path,
    ext: &str,
    opts: &LoadOptions,
    budget: &Budget,
) -> Result<Plan, LoadError> {
    match ext {
        "npy" => npy::plan(path, opts, budget),
        "tif" | "tiff" => tiff::plan(path, opts, budget),
        "cine" => cine::plan(path, opts, budget),
        "cih" | "cihx" | "mraw" => mraw::plan(path, opts, budget),
        "spe" => spe::plan(path, opts, budget),
        "fits" | "fit" | "fts" => fits::plan(path, opts, budget),
        e if ascii::GRID_EXTS.contains(&e) => ascii::plan(path, opts, budget),
        "txt" | "csv" | "tsv" => {
            if ascii::txt_probes(path) {
                ascii::plan(path, opts, budget)
            } else {
                Err(LoadError::Unsupported {
                    path: path.to_path_buf(),
                    hint: " (a text file that does not read as a grid of numbers)".into(),
                })
            }
        }
        e if images::IMAGE_EXTS.contains(&e) => images::plan_files(
            path.to_path_buf(),
            vec![path.to_path_buf()],
            SourceKind::Image,
            vec![],
            opts,
            budget,
        ),
        e if images::VIDEO_EXTS.contains(&e) || sniff::AUDIO_EXTS.contains(&e) => {
            video::plan(path, opts, budget)
        }
        _ => match sniff::kind(path)? {
            Some(kind) if kind != ext => plan_file(path, kind, opts, budget),
            _ => Err(LoadError::Unsupported {
                path: path.to_path_buf(),
                hint: sniff::HINT.into(),
            }),
        },
    }
}

/// Loads `path` (image folder or file, TIFF stack, video, `.npy`, camera recording, grid
/// or `demo`) into a stack.
pub fn load(path: &Path, opts: &LoadOptions, progress: &dyn Progress) -> Result<Stack, LoadError> {
    let plan = plan(path, opts)?;
    load_plan(&plan, opts, progress)
}

/// Executes a plan made by [`plan`] with the same options. Disk storage whose cache file
/// is complete maps it at once; otherwise the source is decoded into it.
pub fn load_plan(
    plan: &Plan,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    if let Some(entry) = &plan.cache
        && let Some(mut stack) = entry.open(plan)?
    {
        stack.source.notes.push(format!(
            "opened from the cache file {}",
            entry.path.display()
        ));
        return Ok(with_plan_notes(plan, stack));
    }
    let mut stack = match &plan.detail {
        Detail::Folder(f) => images::load(plan, f, opts, progress)?,
        Detail::Tiff(p) => tiff::load(plan, p, progress)?,
        Detail::Video(v) => video::load(plan, v, opts, progress)?,
        Detail::Npy(h) => npy::load(plan, h, opts, progress)?,
        Detail::Demo(p) => demo::load(plan, p, progress)?,
        Detail::Raw(r) => raw::load(plan, r, progress)?,
        Detail::Ascii(a) => ascii::load(plan, a, progress)?,
    };
    if let Some(entry) = &plan.cache {
        stack
            .source
            .notes
            .push(format!("cached as {}", entry.path.display()));
    }
    Ok(with_plan_notes(plan, stack))
}

/// The stack's provenance: path, kind, the plan's notes before the loader's own.
fn with_plan_notes(plan: &Plan, mut stack: Stack) -> Stack {
    stack.source.path = plan.path.display().to_string();
    stack.source.kind = plan.kind.name().to_string();
    let mut notes = plan.notes.clone();
    if let Some(g) = plan.guard.describe() {
        notes.push(g);
    }
    notes.append(&mut stack.source.notes);
    stack.source.notes = notes;
    stack
}

/// Lower-cased extension of a path, without the dot ("" when none).
pub fn ext_of_path(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default()
}
