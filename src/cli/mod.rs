//! The blitz command line: the clap definitions, one function per command that calls the
//! library, and the printers. It belongs to the binary only, so the library never
//! depends on clap. What is parsed from text here (reference specs, ROIs, the viewer's
//! set-up) is parsed by the library's `FromStr` impls; this module only adds the name of
//! the option to their errors.

/// `println!` that survives a closed stdout (`blitz info X | head -1`): a reader that went
/// away ends the process quietly, any other write error is reported once. `println!`
/// would panic instead.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::cli::stdout_failed(e);
        }
    }};
}

mod analyse;
mod args;
mod bench;
mod info;
mod kymograph;
mod pca;
mod view;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use args::{EngineArgs, Input, RangeArgs};

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
    View(view::ViewArgs),
    /// Shape, dtype, bytes and what the memory guard does, from headers (or a full decode).
    Info {
        #[command(flatten)]
        input: Input,
        /// Decode the whole stack as a load would: exact frame count, time, value range.
        #[arg(long)]
        full: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Load with options and write the stack as .npy or .tif, (T, H, W[, C]).
    Convert {
        #[command(flatten)]
        input: Input,
        /// Output file: .npy or .tif.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Reduce a frame range over time (mean, max, min, std, median, sum) to one image.
    Reduce {
        #[command(flatten)]
        input: Input,
        /// mean, max, min, std, median or sum.
        #[arg(long)]
        op: blitz::ops::reduce::ReduceOp,
        #[command(flatten)]
        range: RangeArgs,
        /// Output: .npy (f32, (H, W[, C])), .tif (f32) or .png (8-bit through auto-levels).
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Subtract and/or divide a reference from every frame; writes the whole f32 stack.
    Normalize(analyse::NormalizeArgs),
    /// Line profile of one frame along a row, a column or a polyline, band-averaged, as CSV.
    Profile(analyse::ProfileArgs),
    /// ROI time series: per frame the mean (or median), min and max over a rectangle,
    /// polygon or ellipse, as CSV; several ROIs (repeated options, or a --rois set) give
    /// a table of mean, std, min, max and area per ROI.
    #[command(group(
        clap::ArgGroup::new("shape")
            .required(true)
            .multiple(true)
            .args(["rect", "polygon", "ellipse", "rois"])
    ))]
    Roi(analyse::RoiArgs),
    /// Kymograph: the x-t image of a row, a column or a polyline through the frames, row t
    /// the line's band-averaged profile in frame t.
    Kymograph(kymograph::KymographArgs),
    /// PCA of the frames: the first K components (images), each frame's scores and the
    /// variance each explains; exact for few frames, randomized (streamed) for many.
    Pca(pca::PcaArgs),
    /// The disk cache of decoded sources (--storage disk): list or clear it.
    Cache {
        #[command(subcommand)]
        action: info::CacheAction,
    },
    /// The GPU adapter wgpu picks (WGPU_BACKEND, WGPU_ADAPTER_NAME) and the limits in use.
    GpuInfo {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Time every operation on a stack (a file, or random data of the given shape).
    Bench(bench::BenchArgs),
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        return view::open_path(cli.path);
    };
    match command {
        Command::View(a) => view::run(a),
        Command::Info { input, full, json } => info::info(&input, full, json),
        Command::Convert { input, output } => analyse::convert(&input, &output),
        Command::Reduce {
            input,
            op,
            range,
            output,
            engine,
        } => analyse::reduce(&input, op, range, &output, engine),
        Command::Normalize(a) => analyse::normalize(a),
        Command::Profile(a) => analyse::profile(a),
        Command::Roi(a) => analyse::roi(a),
        Command::Kymograph(a) => kymograph::run(a),
        Command::Pca(a) => pca::run(a),
        Command::Cache { action } => info::cache(action),
        Command::GpuInfo { json } => info::gpu_info(json),
        Command::Bench(a) => bench::run(a),
    }
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

/// The whole program: prepares the process, parses the arguments, runs the command and
/// exits with 1 and the error on stderr when it fails. Call it first thing in `main`.
/// Ends the process after a failed write to stdout: silently (status 0) when the reader
/// closed the pipe, as `head` expects, else with the error.
pub(crate) fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("blitz: error: writing to stdout: {e}");
    std::process::exit(1);
}

pub fn main() {
    quiet_vulkan_runtime_dir();
    // a file-size limit reached while writing (a cache or an output) is a write error
    // reported with the file's name, not a signal that kills the process
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to ignore, before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // Ctrl-C, SIGTERM and SIGHUP take the temporary files of exports in flight with them
    #[cfg(unix)]
    blitz::export::partial::remove_on_signals();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("blitz: error: {}", blitz::report::report(e.as_ref()));
        std::process::exit(1);
    }
}
