//! The arguments every data command shares: the input (path and load options), the
//! engine, a frame range; and the one way a command loads its input (with a progress
//! bar and the loader's notes on stderr).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use blitz::Stack;
use blitz::engine::{Engine, EngineChoice, EngineKind, Ran};
use blitz::load::{self, LoadOptions, Progress, StorageChoice, VideoSeek};
use blitz::ops::normalize::SourceSpec;
use blitz::ops::{FrameRange, SpecError};

/// The data a command reads and how it is loaded.
#[derive(Args)]
pub struct Input {
    /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
    pub path: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

impl Input {
    pub fn options(&self) -> LoadOptions {
        self.load.options()
    }

    /// The stack and the seconds its load took.
    pub fn load(&self) -> Result<(Stack, f64)> {
        load_with_bar(&self.path, &self.options())
    }

    /// The stack and the range `from..=to` checked against it.
    pub fn load_range(&self, RangeArgs { from, to }: RangeArgs) -> Result<(Stack, FrameRange)> {
        let (stack, _) = self.load()?;
        let n = stack.shape().frames;
        let range = FrameRange::new(from.unwrap_or(0), to.unwrap_or(n.saturating_sub(1)));
        range.check(n).context("--from/--to")?;
        Ok((stack, range))
    }
}

/// Which engine computes.
#[derive(Args, Clone, Copy)]
pub struct EngineArgs {
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
}

/// Which engine computes.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum EngineArg {
    /// The GPU when an adapter exists, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

impl EngineArgs {
    pub fn choice(self) -> EngineChoice {
        match self.engine {
            EngineArg::Auto => EngineChoice::Auto,
            EngineArg::Cpu => EngineChoice::Cpu,
            EngineArg::Gpu => EngineChoice::Gpu,
        }
    }

    /// The engine asked for (the CPU with a note when no GPU can be used).
    pub fn open(self) -> Engine {
        Engine::new(self.choice())
    }

    /// For operations without a GPU kernel yet: they run on the CPU, and say so when
    /// the GPU was asked for by name.
    pub fn cpu_only(self, what: &str) {
        if self.engine == EngineArg::Gpu {
            eprintln!("note: the GPU engine has no {what} kernel yet; computed on the CPU");
        }
    }
}

/// Prints why the engine asked for did not compute, if so, and names the one that did.
pub fn engine_used(engine: &Engine, ran: &Ran) -> String {
    if let Some(note) = &ran.note {
        eprintln!("note: {note}");
    }
    match ran.engine {
        EngineKind::Gpu => engine.describe(),
        EngineKind::Cpu => EngineKind::Cpu.to_string(),
    }
}

/// An inclusive frame range of the loaded stack.
#[derive(Args, Clone, Copy)]
pub struct RangeArgs {
    /// First frame of the range (inclusive, after loading); default 0.
    #[arg(long, value_name = "A")]
    pub from: Option<usize>,
    /// Last frame of the range (inclusive); default the last frame.
    #[arg(long, value_name = "B")]
    pub to: Option<usize>,
}

/// A line through the frame: a row, a column or any polyline, with the band's
/// half-width (`blitz profile`, `blitz kymograph`).
#[derive(Args)]
#[command(group(clap::ArgGroup::new("path_line").required(true).args(["row", "col", "line"])))]
pub struct LineArgs {
    /// Along x at row Y.
    #[arg(long, value_name = "Y")]
    pub row: Option<usize>,
    /// Along y at column X.
    #[arg(long, value_name = "X")]
    pub col: Option<usize>,
    /// Along any open polyline X1,Y1,X2,Y2[,X3,Y3...] in pixel coordinates, read
    /// bilinearly between pixels.
    #[arg(long, value_name = "POINTS", allow_hyphen_values = true)]
    pub line: Option<String>,
    /// Half-width of the band averaged across the line: 2K+1 lines or points.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub width: usize,
    /// Size of a pixel with its unit (e.g. 2.5um): the CSV gives each position in it too.
    #[arg(long, value_name = "SIZE")]
    pub pixel_size: Option<String>,
}

/// Which line [`LineArgs`] gave.
pub enum LineChoice<'a> {
    Row(usize),
    Col(usize),
    Poly(&'a str),
}

impl LineArgs {
    /// Exactly one of --row, --col, --line.
    pub fn choice(&self) -> Result<LineChoice<'_>> {
        match (self.row, self.col, &self.line) {
            (Some(y), None, None) => Ok(LineChoice::Row(y)),
            (None, Some(x), None) => Ok(LineChoice::Col(x)),
            (None, None, Some(t)) => Ok(LineChoice::Poly(t)),
            _ => anyhow::bail!("give exactly one of --row Y, --col X or --line X1,Y1,X2,Y2[,...]"),
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum DtypeArg {
    U8,
    U16,
    F32,
}

/// Load options shared by every command that reads data.
#[derive(Args, Clone)]
pub struct LoadArgs {
    /// Convert colour to luminance (0.299 R + 0.587 G + 0.114 B).
    #[arg(long)]
    gray: bool,
    /// Scale to u8 (u16 / 65535 * 255, floats assumed 0..1).
    #[arg(long = "8bit")]
    eight_bit: bool,
    /// Stretch each image from its own min..max.
    #[arg(long)]
    normalize: bool,
    /// Spatial downscale in (0, 1], area averaging.
    #[arg(long, default_value_t = 1.0, value_name = "R")]
    size_ratio: f64,
    /// Keep every ceil(1/S)-th frame, S in (0, 1].
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    subset_ratio: f64,
    /// Keep every K-th frame (overrides --subset-ratio).
    #[arg(long, value_name = "K")]
    step: Option<usize>,
    /// First frame to keep (inclusive).
    #[arg(long, value_name = "A")]
    first: Option<usize>,
    /// Last frame to keep (inclusive).
    #[arg(long, value_name = "B")]
    last: Option<usize>,
    /// RAM budget in GiB (default: half of the available RAM).
    #[arg(long, value_name = "GIB")]
    max_ram: Option<f64>,
    /// Keep only this rectangle of every frame: left, top, width, height in pixels of the
    /// frame after --size-ratio, clamped to it (applied after --normalize / --8bit).
    #[arg(long, value_name = "X,Y,W,H", allow_hyphen_values = true)]
    crop: Option<blitz::load::LoadCrop>,
    /// Cut frames of mixed sizes to their common top-left region instead of failing.
    #[arg(long)]
    crop_common: bool,
    /// Video: how to skip frames between steps.
    #[arg(long, value_enum, default_value_t = SeekArg::Auto)]
    seek: SeekArg,
    /// Where the frames go: ram, disk (decoded once into a .npy in the cache directory,
    /// then memory-mapped), or auto (RAM when it fits --max-ram, else disk when the cache
    /// directory has room, else subsampled).
    #[arg(long, default_value = "auto", value_name = "ram|disk|auto")]
    storage: StorageChoice,
    /// Cache directory for disk storage (default: $XDG_CACHE_HOME/blitz or ~/.cache/blitz).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Read a 3-D .npy of shape (A, B, 3) as A gray frames of B x 3 pixels, not as one
    /// colour image.
    #[arg(long)]
    as_frames: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum SeekArg {
    Auto,
    Never,
    Always,
}

impl LoadArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            grayscale: self.gray,
            to_8bit: self.eight_bit,
            normalize: self.normalize,
            size_ratio: self.size_ratio,
            subset_ratio: self.subset_ratio,
            step: self.step,
            first: self.first,
            last: self.last,
            max_ram_gib: self.max_ram,
            crop: self.crop,
            crop_to_common: self.crop_common,
            video_seek: match self.seek {
                SeekArg::Auto => VideoSeek::Auto,
                SeekArg::Never => VideoSeek::Never,
                SeekArg::Always => VideoSeek::Always,
            },
            storage: self.storage,
            cache_dir: self.cache_dir.clone(),
            as_frames: self.as_frames,
        }
    }
}

/// `text` of `option` parsed by the library's grammar; the error names the option.
pub fn parse_option<T: FromStr<Err = SpecError>>(option: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|e: SpecError| anyhow::anyhow!("{option} '{text}': {e}"))
}

/// The context of an error writing `out`.
pub fn writing(out: &Path) -> String {
    format!("writing {}", out.display())
}

/// The `--pixel-size` given, if any, parsed by the library's grammar.
pub fn pixel_size(text: &Option<String>) -> Result<Option<blitz::calibration::PixelSize>> {
    text.as_deref()
        .map(|p| parse_option("--pixel-size", p))
        .transpose()
}

/// The reference spec given to `option`, if any, with the option and its text.
pub fn source_spec<'a>(
    option: &'static str,
    text: &'a Option<String>,
) -> Result<Option<(&'static str, &'a str, SourceSpec)>> {
    text.as_deref()
        .map(|t| parse_option::<SourceSpec>(option, t).map(|spec| (option, t, spec)))
        .transpose()
}

/// An indicatif bar on stderr (hidden when stderr is not a terminal).
pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{msg:>18} [{bar:40}] {pos}/{len} frames {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar(b)
    }
}

impl Bar {
    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        self.0.set_message(what.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Loads `path` with a progress bar; the loader's notes go to stderr.
pub fn load_with_bar(path: &Path, opts: &LoadOptions) -> Result<(Stack, f64)> {
    let plan = load::plan(path, opts)?;
    let bar = Bar::new();
    let t0 = Instant::now();
    let stack = load::load_plan(&plan, opts, &bar)?;
    let secs = t0.elapsed().as_secs_f64();
    bar.0.finish_and_clear();
    for n in &stack.source.notes {
        eprintln!("note: {n}");
    }
    Ok((stack, secs))
}
