//! The blitz command line: parse, call the library, print.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use blitz::engine::{Engine, EngineChoice, Ran};
use blitz::load::{self, LoadOptions, Plan, Progress, StorageChoice, VideoSeek, human_bytes};
use blitz::ops::FrameRange;
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::profile::{self, Orientation};
use blitz::ops::reduce::{ReduceOp, reduce};
use blitz::ops::roi::{Roi, Stat};
use blitz::{Stack, bench, export};

#[derive(Parser)]
#[command(
    name = "blitz",
    version,
    about = "Load, analyse and view huge image stacks and videos",
    long_about = "Load, analyse and view huge image stacks and videos.\n\n`blitz [PATH]` opens \
                  the viewer on PATH (the built-in demo stack without one), as `blitz view` does.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Image folder or file, TIFF stack, video or .npy to open in the viewer.
    path: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the viewer window (no PATH: the built-in demo stack).
    View {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: Option<PathBuf>,
        /// Write a PNG of the window: after --exit-after-frames frames, else of the first.
        #[arg(long, value_name = "OUT.png")]
        screenshot: Option<PathBuf>,
        /// Close the window after drawing N frames (scripts, tests).
        #[arg(long, value_name = "N")]
        exit_after_frames: Option<u64>,
        /// Frame shown first.
        #[arg(long, default_value_t = 0)]
        frame: usize,
        /// After the first frame, open PATH as if it were dropped on the window.
        #[arg(long, value_name = "PATH", hide = true)]
        drop: Option<PathBuf>,
        /// Start in aggregate mode: OP (mean, max, min, std, median, sum) over all
        /// frames, or OP:A:B over frames A..=B.
        #[arg(long, value_name = "OP[:A:B]")]
        aggregate: Option<String>,
        /// Ops: reference to subtract, range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG.
        #[arg(long, value_name = "SRC")]
        subtract: Option<String>,
        /// Ops: reference to divide by (same forms as --subtract).
        #[arg(long, value_name = "SRC")]
        divide: Option<String>,
        /// Apply the ops to the full stack at start instead of previewing them.
        #[arg(long)]
        apply: bool,
        /// Profile crosshair at pixel X,Y.
        #[arg(long, value_name = "X,Y")]
        crosshair: Option<String>,
        /// Profile line width (half-width of the averaged band).
        #[arg(long, default_value_t = 0)]
        line_width: usize,
        /// Show the profile envelopes (per image, per crosshair, per position).
        #[arg(long)]
        envelopes: bool,
        /// ROI rectangle X,Y,W,H whose time series is plotted.
        #[arg(long, value_name = "X,Y,W,H")]
        rect: Option<String>,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Shape, dtype, bytes and what the memory guard does, from headers (or a full decode).
    Info {
        /// Image folder or file, TIFF stack, video, .npy, or `demo`.
        path: PathBuf,
        /// Decode the whole stack as a load would: exact frame count, time, value range.
        #[arg(long)]
        full: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Load with options and write the stack as .npy or .tif, (T, H, W[, C]).
    Convert {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: PathBuf,
        /// Output file: .npy or .tif.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Reduce a frame range over time (mean, max, min, std, median, sum) to one image.
    Reduce {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: PathBuf,
        /// mean, max, min, std, median or sum.
        #[arg(long)]
        op: ReduceOp,
        #[command(flatten)]
        range: RangeArgs,
        /// Output: .npy (f32, (H, W[, C])), .tif (f32) or .png (8-bit through auto-levels).
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Subtract and/or divide a reference from every frame; writes the whole f32 stack.
    Normalize {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: PathBuf,
        /// Reference to subtract: range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG.
        #[arg(long, value_name = "SRC")]
        subtract: Option<String>,
        /// Reference to divide by: range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG.
        #[arg(long, value_name = "SRC")]
        divide: Option<String>,
        /// Amount of the subtraction, 0..1.
        #[arg(long, default_value_t = 1.0, value_name = "X")]
        amount_sub: f32,
        /// Amount of the division, 0..1 (blends the denominator toward 1).
        #[arg(long, default_value_t = 1.0, value_name = "X")]
        amount_div: f32,
        /// Output: .npy or .tif (f32, (T, H, W[, C])).
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Line profile of one frame along a row or a column, band-averaged, as CSV.
    #[command(group(clap::ArgGroup::new("line").required(true).args(["row", "col"])))]
    Profile {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: PathBuf,
        /// Profile along x at row Y.
        #[arg(long, value_name = "Y")]
        row: Option<usize>,
        /// Profile along y at column X.
        #[arg(long, value_name = "X")]
        col: Option<usize>,
        /// Half-width of the band: the mean over lines pos-K ..= pos+K.
        #[arg(long, default_value_t = 0, value_name = "K")]
        width: usize,
        /// Frame (after loading).
        #[arg(long, default_value_t = 0, value_name = "T")]
        frame: usize,
        /// Add the per-position dataset envelope: min/max for 0, else percentiles Q and
        /// 100-Q over frames of the band mean (0..=49).
        #[arg(long, value_name = "Q")]
        envelope: Option<u32>,
        /// Output .csv: position, value(s)[, env_min, env_max].
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// ROI time series: per frame the mean (or median), min and max over a rectangle or
    /// polygon, as CSV.
    #[command(group(clap::ArgGroup::new("shape").required(true).args(["rect", "polygon"])))]
    Roi {
        /// Image folder or file, TIFF stack, video, .npy, or `demo` (`demo:T,H,W`).
        path: PathBuf,
        /// Rectangle in pixels, clamped to the frame.
        #[arg(long, value_name = "X,Y,W,H", allow_hyphen_values = true)]
        rect: Option<String>,
        /// Polygon vertices in pixel coordinates; pixels whose centre is inside count.
        #[arg(long, value_name = "X1,Y1,X2,Y2,...", allow_hyphen_values = true)]
        polygon: Option<String>,
        /// Median instead of mean.
        #[arg(long)]
        median: bool,
        #[command(flatten)]
        range: RangeArgs,
        /// Output .csv: frame, value, min, max (per channel for RGB).
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// The disk cache of decoded sources (--storage disk): list or clear it.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// The GPU adapter wgpu picks (WGPU_BACKEND, WGPU_ADAPTER_NAME) and the limits in use.
    GpuInfo {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Time every operation on a stack (a file, or random data of the given shape).
    Bench {
        /// Stack to load; without it a random stack of --frames x --height x --width.
        path: Option<PathBuf>,
        #[arg(long, default_value_t = 200)]
        frames: usize,
        #[arg(long, default_value_t = 1024)]
        height: usize,
        #[arg(long, default_value_t = 1024)]
        width: usize,
        /// Sample type of the random stack.
        #[arg(long, value_enum, default_value_t = DtypeArg::U8)]
        dtype: DtypeArg,
        /// Timed runs per operation (the best is reported), after one warm-up run.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Print a JSON array of rows.
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
        engine: EngineArg,
        /// Time the viewer's frame change instead (upload + draw of 1080p and 4K frames,
        /// u8 and u16) on the GPU adapter, lavapipe included.
        #[arg(long)]
        display: bool,
        /// Frame changes timed per case with --display.
        #[arg(long, default_value_t = 30)]
        changes: usize,
        /// Time the viewer's interactive analysis instead: a moved aggregate range and a
        /// changed sliding window, from the change to the new image drawn.
        #[arg(long)]
        interactive: bool,
        #[command(flatten)]
        load: LoadArgs,
    },
}

#[derive(Subcommand)]
enum CacheAction {
    /// Every cache file with its size and source.
    List {
        /// Cache directory (default: $XDG_CACHE_HOME/blitz or ~/.cache/blitz).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove every cache file.
    Clear {
        /// Cache directory (default: $XDG_CACHE_HOME/blitz or ~/.cache/blitz).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

fn cache_cmd(action: CacheAction) -> Result<()> {
    let dir_of = |d: Option<PathBuf>| {
        load::cache_dir(&LoadOptions {
            cache_dir: d,
            ..Default::default()
        })
    };
    match action {
        CacheAction::List { cache_dir, json } => {
            let dir = dir_of(cache_dir);
            let files = load::list_cache(&dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&files)?);
                return Ok(());
            }
            let total: u64 = files.iter().map(|f| f.bytes).sum();
            println!(
                "cache {}: {} file(s), {}",
                dir.display(),
                files.len(),
                human_bytes(total)
            );
            for f in &files {
                println!(
                    "{:>10}  {}  {}",
                    human_bytes(f.bytes),
                    f.path.display(),
                    if f.partial {
                        "(being written or interrupted)".to_string()
                    } else {
                        f.source.clone().unwrap_or_default()
                    }
                );
            }
        }
        CacheAction::Clear { cache_dir } => {
            let dir = dir_of(cache_dir);
            let (n, bytes) = load::clear_cache(&dir)?;
            println!(
                "cache {}: removed {n} file(s), {}",
                dir.display(),
                human_bytes(bytes)
            );
        }
    }
    Ok(())
}

/// An inclusive frame range of the loaded stack.
#[derive(Args, Clone, Copy)]
struct RangeArgs {
    /// First frame of the range (inclusive, after loading); default 0.
    #[arg(long, value_name = "A")]
    from: Option<usize>,
    /// Last frame of the range (inclusive); default the last frame.
    #[arg(long, value_name = "B")]
    to: Option<usize>,
}

/// Which engine computes.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum EngineArg {
    /// The GPU when an adapter exists, else the CPU.
    Auto,
    Cpu,
    Gpu,
}

impl EngineArg {
    fn choice(self) -> EngineChoice {
        match self {
            EngineArg::Auto => EngineChoice::Auto,
            EngineArg::Cpu => EngineChoice::Cpu,
            EngineArg::Gpu => EngineChoice::Gpu,
        }
    }

    /// For operations without a GPU kernel yet: they run on the CPU, and say so when
    /// the GPU was asked for by name.
    fn cpu_only(self, what: &str) {
        if self == EngineArg::Gpu {
            eprintln!("note: the GPU engine has no {what} kernel yet; computed on the CPU");
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum DtypeArg {
    U8,
    U16,
    F32,
}

/// Load options shared by every command that reads data.
#[derive(Args, Clone)]
struct LoadArgs {
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
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum SeekArg {
    Auto,
    Never,
    Always,
}

impl LoadArgs {
    fn options(&self) -> LoadOptions {
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
            crop_to_common: self.crop_common,
            video_seek: match self.seek {
                SeekArg::Auto => VideoSeek::Auto,
                SeekArg::Never => VideoSeek::Never,
                SeekArg::Always => VideoSeek::Always,
            },
            storage: self.storage,
            cache_dir: self.cache_dir.clone(),
        }
    }
}

/// An indicatif bar on stderr (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
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

fn load_with_bar(path: &Path, opts: &LoadOptions) -> Result<(Stack, f64)> {
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

fn plan_json(p: &Plan) -> serde_json::Value {
    json!({
        "path": p.path.display().to_string(),
        "kind": p.kind,
        "frames": p.shape.frames,
        "height": p.shape.height,
        "width": p.shape.width,
        "channels": p.shape.channels,
        "dtype": p.dtype,
        "bytes": p.bytes(),
        "mapped": p.mapped,
        "storage": p.storage,
        "cache_file": p.cache.as_ref().map(|c| c.path.display().to_string()),
        "cached": p.cache.as_ref().is_some_and(|c| c.path.exists()),
        "source": {
            "frames": p.source_frames,
            "frames_exact": p.frames_exact,
            "height": p.source_height,
            "width": p.source_width,
            "channels": p.source_channels,
            "dtype": p.source_dtype,
        },
        "selection": p.selection,
        "guard": p.guard,
        "notes": p.notes,
    })
}

fn info(path: &Path, full: bool, as_json: bool, opts: &LoadOptions) -> Result<()> {
    let plan = load::plan(path, opts)?;
    let mut j = plan_json(&plan);
    if full {
        let (stack, secs) = load_with_bar(path, opts)?;
        let range = stack.value_range();
        let s = stack.shape();
        j["frames"] = json!(s.frames);
        j["bytes"] = json!(stack.bytes());
        j["mapped"] = json!(stack.is_mapped());
        j["seconds"] = json!(secs);
        j["gbps"] = json!(stack.bytes() as f64 / secs.max(1e-9) / 1e9);
        j["min"] = json!(range.map(|r| r.0));
        j["max"] = json!(range.map(|r| r.1));
        j["notes"] = json!(stack.source.notes);
        j["skipped"] = json!(stack.source.skipped);
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(());
    }
    let g = &plan.guard;
    println!("path      {}", plan.path.display());
    println!("kind      {}", plan.kind.name());
    println!(
        "source    {} frames{} of {} x {} x {} {}",
        plan.source_frames,
        if plan.frames_exact {
            ""
        } else {
            " (estimated)"
        },
        plan.source_height,
        plan.source_width,
        plan.source_channels,
        plan.source_dtype.name()
    );
    println!(
        "frames    {} (frames {}..={}, step {})",
        j["frames"], plan.selection.first, plan.selection.last, plan.selection.step
    );
    println!(
        "frame     {} x {} (H x W), {} channel(s), {}",
        plan.shape.height, plan.shape.width, plan.shape.channels, plan.dtype
    );
    println!(
        "bytes     {} ({}){}",
        j["bytes"],
        human_bytes(j["bytes"].as_u64().unwrap_or(0)),
        if plan.mapped { ", memory-mapped" } else { "" }
    );
    match &plan.cache {
        Some(c) => println!(
            "storage   disk: {} ({})",
            c.path.display(),
            if c.path.exists() {
                "cached: opens at once"
            } else {
                "decoded on first open"
            }
        ),
        None => println!("storage   {}", plan.storage.name()),
    }
    if plan.storage == load::Storage::Disk {
        println!(
            "guard     not needed: every frame goes to the disk cache (RAM budget {})",
            human_bytes(g.budget_bytes)
        );
    } else if g.applies {
        println!(
            "guard     budget {}; {}",
            human_bytes(g.budget_bytes),
            g.describe()
                .unwrap_or_else(|| format!("all {} frames fit", g.frames_kept))
        );
    } else {
        println!("guard     not needed: the file is mapped, not copied");
    }
    if full {
        println!(
            "load      {:.3} s, {:.2} GB/s",
            j["seconds"].as_f64().unwrap_or(0.0),
            j["gbps"].as_f64().unwrap_or(0.0)
        );
        println!("range     {} ..= {}", j["min"], j["max"]);
    }
    for n in j["notes"].as_array().into_iter().flatten() {
        println!("note      {}", n.as_str().unwrap_or_default());
    }
    Ok(())
}

fn convert(path: &Path, out: &Path, opts: &LoadOptions) -> Result<()> {
    let (stack, secs) = load_with_bar(path, opts)?;
    let t0 = Instant::now();
    export::write_stack(out, &stack).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {}: {} {} ({}), loaded in {:.2} s, written in {:.2} s",
        out.display(),
        stack.shape(),
        stack.dtype(),
        human_bytes(stack.bytes()),
        secs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Loads `path` and returns it with the range `from..=to` checked against it.
fn load_range(
    path: &Path,
    RangeArgs { from, to }: RangeArgs,
    opts: &LoadOptions,
) -> Result<(Stack, FrameRange)> {
    let (stack, _) = load_with_bar(path, opts)?;
    let n = stack.shape().frames;
    let range = FrameRange::new(from.unwrap_or(0), to.unwrap_or(n.saturating_sub(1)));
    range.check(n).context("--from/--to")?;
    Ok((stack, range))
}

/// Prints why the engine asked for did not compute, if so, and names the one that did.
fn engine_used(engine: &Engine, ran: &Ran) -> String {
    if let Some(note) = &ran.note {
        eprintln!("note: {note}");
    }
    if ran.engine == "gpu" {
        engine.describe()
    } else {
        "cpu".into()
    }
}

fn reduce_cmd(
    path: &Path,
    op: ReduceOp,
    range: RangeArgs,
    out: &Path,
    engine: EngineArg,
    opts: &LoadOptions,
) -> Result<()> {
    let (stack, range) = load_range(path, range, opts)?;
    let engine = Engine::new(engine.choice());
    let t0 = Instant::now();
    let (img, ran) = engine.reduce(&stack, op, range)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    export::write_image(out, &img).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "engine {name}: {op} of frames {}..={} ({} x {} x {}) in {:.3} s -> {}",
        range.first,
        range.last,
        img.height,
        img.width,
        img.channels,
        secs,
        out.display()
    );
    Ok(())
}

/// Parses `OP` or `OP:A:B` (aggregate mode of the viewer).
fn parse_aggregate(s: &str) -> Result<(ReduceOp, Option<FrameRange>)> {
    let f: Vec<&str> = s.split(':').collect();
    let op = |o: &str| {
        o.parse()
            .map_err(|e: String| anyhow::anyhow!("--aggregate: {e}"))
    };
    match f.as_slice() {
        [o] => Ok((op(o)?, None)),
        [o, a, b] => {
            let n = |v: &str| {
                v.parse::<usize>()
                    .map_err(|_| anyhow::anyhow!("--aggregate '{s}': expected OP or OP:A:B"))
            };
            Ok((op(o)?, Some(FrameRange::new(n(a)?, n(b)?))))
        }
        _ => anyhow::bail!("--aggregate '{s}': expected OP or OP:A:B"),
    }
}

/// Parses `range:OP:A:B`, `file:PATH` or `sliding:OP:WINDOW:LAG`.
fn parse_source(s: &str, option: &str, opts: &LoadOptions) -> Result<Source> {
    let bad = || {
        anyhow::anyhow!("{option} '{s}': expected range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG")
    };
    let parts: Vec<&str> = s.splitn(2, ':').collect();
    match parts.as_slice() {
        ["file", p] => {
            // the reference loads like the data, but whole: one frame is expected
            let ref_opts = LoadOptions {
                first: None,
                last: None,
                step: None,
                subset_ratio: 1.0,
                ..opts.clone()
            };
            let stack = load::load(Path::new(p), &ref_opts, &load::NoProgress)
                .with_context(|| format!("{option} reference"))?;
            let sh = stack.shape();
            if sh.frames != 1 {
                anyhow::bail!(
                    "{option} reference {p} has {} frames; it must have one",
                    sh.frames
                );
            }
            Ok(Source::File(reduce(
                &stack,
                ReduceOp::Mean,
                FrameRange::all(1),
            )?))
        }
        ["range", rest] => {
            let f: Vec<&str> = rest.split(':').collect();
            let [op, a, b] = f.as_slice() else {
                return Err(bad());
            };
            Ok(Source::Range {
                op: op
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("{option}: {e}"))?,
                range: FrameRange::new(
                    a.parse().map_err(|_| bad())?,
                    b.parse().map_err(|_| bad())?,
                ),
            })
        }
        ["sliding", rest] => {
            let f: Vec<&str> = rest.split(':').collect();
            let [op, w, l] = f.as_slice() else {
                return Err(bad());
            };
            Ok(Source::Sliding {
                op: op
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("{option}: {e}"))?,
                window: w.parse().map_err(|_| bad())?,
                lag: l.parse().map_err(|_| bad())?,
            })
        }
        _ => Err(bad()),
    }
}

fn normalize_cmd(
    path: &Path,
    n: Normalize,
    out: &Path,
    engine: EngineArg,
    opts: &LoadOptions,
) -> Result<()> {
    if n.subtract.is_none() && n.divide.is_none() {
        anyhow::bail!("nothing to do: give --subtract and/or --divide");
    }
    let (stack, _) = load_with_bar(path, opts)?;
    let sh = stack.shape();
    let n_out = n.output_frames(sh.frames);
    let result_bytes = (n_out as u64) * (sh.frame_len() as u64) * 4;
    if result_bytes > opts.budget_bytes() && load::ext_of_path(out) == "npy" {
        return normalize_streamed(&stack, &n, out, opts.budget_bytes());
    }
    let engine = Engine::new(engine.choice());
    let t0 = Instant::now();
    let (result, ran) = engine.normalize(&stack, &n)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    export::write_stack(out, &result).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "engine {name}: normalized {} -> {} frames in {:.3} s ({:.2} GB/s of input) -> {}",
        stack.shape().frames,
        result.shape().frames,
        secs,
        stack.bytes() as f64 / secs.max(1e-9) / 1e9,
        out.display()
    );
    Ok(())
}

/// `blitz normalize` of a result bigger than the RAM budget: on the CPU, in frame order,
/// each run of output frames written to the `.npy` as it is finished.
fn normalize_streamed(stack: &Stack, n: &Normalize, out: &Path, budget: u64) -> Result<()> {
    let sh = stack.shape();
    let n_out = n.output_frames(sh.frames);
    let mut dims = vec![n_out, sh.height, sh.width];
    if sh.channels != 1 {
        dims.push(sh.channels);
    }
    // input and output of a chunk together stay well inside the budget
    let chunk = blitz::stack::chunk_bytes_from_env()
        .min(usize::try_from(budget / 4).unwrap_or(usize::MAX))
        .max(1);
    let t0 = Instant::now();
    let mut w = export::NpyWriter::create(out, blitz::Dtype::F32, &dims)?;
    n.apply_chunked(stack, chunk, |_, frames| {
        w.write(blitz::stack::Samples::F32(frames))
            .map_err(anyhow::Error::from)
    })?;
    w.finish()?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "engine cpu (streamed to disk: the {} result exceeds the RAM budget of {}): normalized {} -> {} frames in {:.3} s ({:.2} GB/s of input) -> {}",
        human_bytes(n_out as u64 * sh.frame_len() as u64 * 4),
        human_bytes(budget),
        sh.frames,
        n_out,
        secs,
        stack.bytes() as f64 / secs.max(1e-9) / 1e9,
        out.display()
    );
    Ok(())
}

/// Column names for one value per channel: `name`, or `name_r`, `name_g`, `name_b`.
fn channel_columns(name: &str, channels: usize) -> Vec<String> {
    if channels == 3 {
        ["r", "g", "b"]
            .iter()
            .map(|c| format!("{name}_{c}"))
            .collect()
    } else {
        vec![name.to_string()]
    }
}

/// What `blitz profile` computes.
struct ProfileArgs {
    orient: Orientation,
    pos: usize,
    width: usize,
    frame: usize,
    envelope: Option<u32>,
}

fn profile_cmd(
    path: &Path,
    a: ProfileArgs,
    out: &Path,
    engine: EngineArg,
    opts: &LoadOptions,
) -> Result<()> {
    let (stack, _) = load_with_bar(path, opts)?;
    // the envelope over every frame is the part with a GPU kernel; the profile of one
    // frame is computed on the CPU
    let engine = match a.envelope {
        Some(_) => Engine::new(engine.choice()),
        None => {
            engine.cpu_only("one-frame profile");
            Engine::new(EngineChoice::Cpu)
        }
    };
    let t0 = Instant::now();
    let what = format!(
        "--{} {}",
        if a.orient == Orientation::Row {
            "row"
        } else {
            "col"
        },
        a.pos
    );
    let p = profile::profile(&stack, a.frame, a.orient, a.pos, a.width).context(what.clone())?;
    let env = a
        .envelope
        .map(|q| engine.dataset_envelope(&stack, a.orient, a.pos, a.width, q))
        .transpose()
        .context(format!("--envelope with {what}"))?;
    let name = match &env {
        Some((_, ran)) => engine_used(&engine, ran),
        None => "cpu".to_string(),
    };
    let env = env.map(|(e, _)| e);
    let secs = t0.elapsed().as_secs_f64();
    let mut header = vec!["position".to_string()];
    header.extend(channel_columns("value", p.channels));
    if env.is_some() {
        header.extend(["env_min".to_string(), "env_max".to_string()]);
    }
    let c = p.channels;
    let rows = (0..p.len()).map(|i| {
        let mut r = vec![i as f32];
        r.extend_from_slice(&p.values[i * c..(i + 1) * c]);
        if let Some(e) = &env {
            r.extend([e.lo[i], e.hi[i]]);
        }
        r
    });
    export::write_csv(out, &header, rows).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "engine {name}: {} profile at {} {} (width {}) of frame {}, {} positions{} in {:.3} s -> {}",
        a.orient,
        a.orient,
        a.pos,
        a.width,
        a.frame,
        p.len(),
        a.envelope
            .map(|q| format!(" with envelope q = {q}"))
            .unwrap_or_default(),
        secs,
        out.display()
    );
    Ok(())
}

/// Parses comma-separated numbers for `option`.
fn parse_numbers<T: std::str::FromStr>(s: &str, option: &str, expected: &str) -> Result<Vec<T>> {
    s.split(',')
        .map(|v| v.trim().parse::<T>())
        .collect::<Result<Vec<T>, _>>()
        .map_err(|_| anyhow::anyhow!("{option} '{s}': expected {expected}"))
}

/// Parses `--rect X,Y,W,H` or `--polygon X1,Y1,X2,Y2,...`.
fn parse_roi(rect: Option<String>, polygon: Option<String>) -> Result<Roi> {
    if let Some(r) = rect {
        let v: Vec<i64> = parse_numbers(&r, "--rect", "four integers X,Y,W,H")?;
        let [x, y, w, h] = v.as_slice() else {
            anyhow::bail!(
                "--rect '{r}': expected four integers X,Y,W,H, got {}",
                v.len()
            );
        };
        if *w <= 0 || *h <= 0 {
            anyhow::bail!("--rect '{r}': width and height must be positive");
        }
        return Ok(Roi::Rect {
            x: *x,
            y: *y,
            w: *w as usize,
            h: *h as usize,
        });
    }
    let Some(p) = polygon else {
        anyhow::bail!("give --rect X,Y,W,H or --polygon X1,Y1,X2,Y2,...");
    };
    let v: Vec<f32> = parse_numbers(&p, "--polygon", "numbers X1,Y1,X2,Y2,...")?;
    if !v.len().is_multiple_of(2) {
        anyhow::bail!(
            "--polygon '{p}': expected x,y pairs, got {} numbers",
            v.len()
        );
    }
    if v.len() < 6 {
        anyhow::bail!(
            "--polygon '{p}': a polygon needs at least 3 vertices, got {}",
            v.len() / 2
        );
    }
    Ok(Roi::Polygon(
        v.chunks_exact(2).map(|c| (c[0], c[1])).collect(),
    ))
}

fn roi_cmd(
    path: &Path,
    roi: &Roi,
    stat: Stat,
    range: RangeArgs,
    out: &Path,
    engine: EngineArg,
    opts: &LoadOptions,
) -> Result<()> {
    let (stack, range) = load_range(path, range, opts)?;
    let engine = Engine::new(engine.choice());
    let t0 = Instant::now();
    let option = if matches!(roi, Roi::Rect { .. }) {
        "--rect"
    } else {
        "--polygon"
    };
    let (r, ran) = engine.roi(&stack, roi, stat, range).context(option)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    let c = r.channels;
    let mut header = vec!["frame".to_string()];
    let suffixes: Vec<String> = if c == 3 {
        ["_r", "_g", "_b"].iter().map(|s| s.to_string()).collect()
    } else {
        vec![String::new()]
    };
    for sfx in &suffixes {
        header.extend(["value", "min", "max"].iter().map(|n| format!("{n}{sfx}")));
    }
    let rows = r.frames.iter().enumerate().map(|(i, &t)| {
        let mut row = vec![t as f32];
        for ch in 0..c {
            let k = r.at(i, ch);
            row.extend([r.value[k], r.min[k], r.max[k]]);
        }
        row
    });
    export::write_csv(out, &header, rows).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "engine {name}: ROI {stat} over {} pixels, frames {}..={} in {:.3} s -> {}",
        r.pixels,
        range.first,
        range.last,
        secs,
        out.display()
    );
    Ok(())
}

fn bench_cmd(stack: &Stack, repeat: usize, as_json: bool, engine: EngineArg) -> Result<()> {
    let mut rows = bench::run_cpu(stack, repeat)?;
    if engine != EngineArg::Cpu {
        // every compute pass timed by timestamp queries where the adapter has them
        let device = blitz::gpu::GpuDevice::new().map(|d| d.clone().with_timer().unwrap_or(d));
        let e = Engine::with_device(device, engine.choice());
        match e.gpu() {
            Some(g) => rows.extend(bench::run_gpu(stack, repeat, g)?),
            None => eprintln!(
                "note: no GPU rows: {}",
                e.fallback.as_deref().unwrap_or("no GPU")
            ),
        }
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "stack {} {} ({}), {} rayon threads",
        stack.shape(),
        stack.dtype(),
        human_bytes(stack.bytes()),
        rayon::current_num_threads()
    );
    if let Some(t) = rows.iter().find_map(|r| r.timing) {
        println!("GPU \"seconds\": the resident compute, by {t}");
    }
    println!(
        "{:<22} {:>6} {:>11} {:>15} {:>9}",
        "op", "engine", "seconds", "with transfer", "GB/s"
    );
    let cell = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.4}"));
    for r in rows {
        println!(
            "{:<22} {:>6} {:>11} {:>15} {:>9.2}",
            r.op,
            r.engine,
            cell(r.seconds),
            cell(r.seconds_with_transfer),
            r.gbps
        );
    }
    Ok(())
}

/// Prints the adapter, backend, device type and the limits the GPU engine uses.
fn gpu_info(as_json: bool) -> Result<()> {
    let info = blitz::gpu::GpuDevice::new()?.info();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!("adapter       {}", info.name);
    println!("backend       {}", info.backend);
    println!("device type   {}", info.device_type);
    println!("driver        {} {}", info.driver, info.driver_info);
    println!(
        "max buffer    {} ({})",
        info.max_buffer_size,
        human_bytes(info.max_buffer_size)
    );
    println!(
        "max storage binding {} ({})",
        info.max_storage_buffer_binding_size,
        human_bytes(info.max_storage_buffer_binding_size)
    );
    println!(
        "storage buffers per stage {}",
        info.max_storage_buffers_per_shader_stage
    );
    println!(
        "workgroup storage {} bytes, {} invocations per workgroup, {} workgroups per dimension",
        info.max_compute_workgroup_storage_size,
        info.max_compute_invocations_per_workgroup,
        info.max_compute_workgroups_per_dimension
    );
    println!(
        "chunk of frames uploaded at once {} ({})",
        info.chunk_bytes,
        human_bytes(info.chunk_bytes)
    );
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        return Ok(blitz::viewer::run(blitz::viewer::ViewOptions {
            path: cli.path.unwrap_or_else(|| PathBuf::from("demo")),
            load: LoadOptions::default(),
            engine: EngineChoice::Auto,
            screenshot: None,
            exit_after_frames: None,
            frame: 0,
            drop: None,
            setup: Default::default(),
        })?);
    };
    match command {
        Command::Cache { action } => cache_cmd(action),
        Command::View {
            path,
            screenshot,
            exit_after_frames,
            frame,
            drop,
            aggregate,
            subtract,
            divide,
            apply,
            crosshair,
            line_width,
            envelopes,
            rect,
            engine,
            load,
        } => {
            let opts = load.options();
            let setup = blitz::viewer::ViewSetup {
                aggregate: aggregate.map(|a| parse_aggregate(&a)).transpose()?,
                subtract: subtract
                    .map(|s| parse_source(&s, "--subtract", &opts))
                    .transpose()?,
                divide: divide
                    .map(|s| parse_source(&s, "--divide", &opts))
                    .transpose()?,
                apply,
                crosshair: crosshair
                    .map(|c| -> Result<(usize, usize)> {
                        let v: Vec<usize> = parse_numbers(&c, "--crosshair", "X,Y")?;
                        match v.as_slice() {
                            [x, y] => Ok((*x, *y)),
                            _ => anyhow::bail!("--crosshair '{c}': expected X,Y"),
                        }
                    })
                    .transpose()?,
                width: line_width,
                envelopes,
                roi: rect.map(|r| parse_roi(Some(r), None)).transpose()?,
            };
            Ok(blitz::viewer::run(blitz::viewer::ViewOptions {
                path: path.unwrap_or_else(|| PathBuf::from("demo")),
                load: opts,
                engine: engine.choice(),
                screenshot,
                exit_after_frames,
                frame,
                drop,
                setup,
            })?)
        }
        Command::Info {
            path,
            full,
            json,
            load,
        } => info(&path, full, json, &load.options()),
        Command::Convert { path, output, load } => convert(&path, &output, &load.options()),
        Command::Reduce {
            path,
            op,
            range,
            output,
            engine,
            load,
        } => reduce_cmd(&path, op, range, &output, engine, &load.options()),
        Command::Normalize {
            path,
            subtract,
            divide,
            amount_sub,
            amount_div,
            output,
            engine,
            load,
        } => {
            let opts = load.options();
            let sub = subtract
                .map(|s| {
                    parse_source(&s, "--subtract", &opts).map(|source| Step {
                        source,
                        amount: amount_sub,
                    })
                })
                .transpose()?;
            let div = divide
                .map(|s| {
                    parse_source(&s, "--divide", &opts).map(|source| Step {
                        source,
                        amount: amount_div,
                    })
                })
                .transpose()?;
            normalize_cmd(
                &path,
                Normalize {
                    subtract: sub,
                    divide: div,
                },
                &output,
                engine,
                &opts,
            )
        }
        Command::Profile {
            path,
            row,
            col,
            width,
            frame,
            envelope,
            output,
            engine,
            load,
        } => {
            if let Some(q) = envelope
                && q > profile::MAX_PERCENTILE
            {
                anyhow::bail!(
                    "--envelope {q}: the percentile must be in 0..={}",
                    profile::MAX_PERCENTILE
                );
            }
            let (orient, pos) = match (row, col) {
                (Some(y), None) => (Orientation::Row, y),
                (None, Some(x)) => (Orientation::Col, x),
                _ => anyhow::bail!("give exactly one of --row Y or --col X"),
            };
            let a = ProfileArgs {
                orient,
                pos,
                width,
                frame,
                envelope,
            };
            profile_cmd(&path, a, &output, engine, &load.options())
        }
        Command::Roi {
            path,
            rect,
            polygon,
            median,
            range,
            output,
            engine,
            load,
        } => {
            let roi = parse_roi(rect, polygon)?;
            let stat = if median { Stat::Median } else { Stat::Mean };
            roi_cmd(&path, &roi, stat, range, &output, engine, &load.options())
        }
        Command::GpuInfo { json } => gpu_info(json),
        Command::Bench {
            path,
            frames,
            height,
            width,
            dtype,
            repeat,
            json,
            engine,
            display,
            changes,
            interactive,
            load,
        } => {
            if display {
                return bench_display(changes.max(1), json);
            }
            let stack = match path {
                Some(p) => load_with_bar(&p, &load.options())?.0,
                None => {
                    let shape = blitz::Shape::new(frames, height, width, 1);
                    match dtype {
                        DtypeArg::U8 => bench::random_stack::<u8>(shape),
                        DtypeArg::U16 => bench::random_stack::<u16>(shape),
                        DtypeArg::F32 => bench::random_stack::<f32>(shape),
                    }?
                }
            };
            if interactive {
                return bench_interactive(&stack, changes.max(1), json, engine);
            }
            bench_cmd(&stack, repeat.max(1), json, engine)
        }
    }
}

/// `blitz bench --interactive`: from a change in the viewer to the new image drawn.
fn bench_interactive(stack: &Stack, changes: usize, json: bool, engine: EngineArg) -> Result<()> {
    let gpu = blitz::gpu::GpuDevice::new()?;
    let info = gpu.info();
    let rows = bench::run_interactive(stack, &gpu, engine != EngineArg::Cpu, changes)
        .map_err(anyhow::Error::msg)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let s = stack.shape();
    println!(
        "stack {} x {} x {} {} ({}); result drawn into 1920x1080 on {} ({})",
        s.frames,
        s.height,
        s.width,
        stack.dtype().name(),
        human_bytes(stack.bytes()),
        info.name,
        info.device_type
    );
    println!(
        "{:<44} {:>6} {:>12} {:>12}",
        "change", "engine", "total ms", "compute ms"
    );
    for r in rows {
        println!(
            "{:<44} {:>6} {:>12.2} {:>12.2}",
            r.change, r.engine, r.ms_median, r.ms_compute
        );
    }
    Ok(())
}

/// `blitz bench --display`: the viewer's cost per frame change.
fn bench_display(changes: usize, json: bool) -> Result<()> {
    let gpu = blitz::gpu::GpuDevice::new()?;
    let info = gpu.info();
    let rows = bench::run_display_scrub(&gpu, changes).map_err(anyhow::Error::msg)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "frame change = upload of the frame in its raw dtype + draw through the colormap into \
         1920x1080, waited for; {} ({}, {})",
        info.name, info.backend, info.device_type
    );
    println!(
        "{:<18} {:>5} {:>8} {:>12} {:>10} {:>12}",
        "frame", "dtype", "changes", "median ms", "mean ms", "redraw ms"
    );
    for r in rows {
        println!(
            "{:<18} {:>5} {:>8} {:>12.2} {:>10.2} {:>12.2}",
            r.frame, r.dtype, r.changes, r.ms_median, r.ms_mean, r.ms_redraw
        );
    }
    Ok(())
}

/// Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" on stderr when
/// the variable is missing (headless machines, CI); give them a private folder instead.
#[cfg(unix)]
fn quiet_vulkan_runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("blitz-runtime-{user}"));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    if std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_ok() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

#[cfg(not(unix))]
fn quiet_vulkan_runtime_dir() {}

fn main() {
    quiet_vulkan_runtime_dir();
    // a file-size limit reached while writing (a cache or an output) is a write error
    // reported with the file's name, not a signal that kills the process
    // SAFETY: setting a signal's disposition to ignore, before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("blitz: error: {e:#}");
        std::process::exit(1);
    }
}
