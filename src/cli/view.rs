//! `blitz view` (and `blitz [PATH]`): the window, set up from the command line.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use blitz::engine::EngineChoice;
use blitz::load::{self, LoadOptions};
use blitz::ops::normalize::{Source, SourceSpec};
use blitz::ops::roi::Roi;
use blitz::viewer::setup::{AggregateSpec, Crosshair, ViewSetup};
use blitz::viewer::{self, ViewOptions};

use super::args::{EngineArgs, LoadArgs, parse_option, source_spec};

/// `blitz view`.
#[derive(Args)]
pub struct ViewArgs {
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
    #[command(flatten)]
    setup: SetupArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    load: LoadArgs,
}

/// The analysis `blitz view` starts with.
#[derive(Args, Default)]
pub struct SetupArgs {
    /// Start in aggregate mode: OP (mean, max, min, std, median, sum) over all
    /// frames, or OP:A:B over frames A..=B.
    #[arg(long, value_name = "OP[:A:B]")]
    pub aggregate: Option<String>,
    /// Ops: reference to subtract, range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG.
    #[arg(long, value_name = "SRC")]
    pub subtract: Option<String>,
    /// Ops: reference to divide by (same forms as --subtract).
    #[arg(long, value_name = "SRC")]
    pub divide: Option<String>,
    /// Apply the ops to the full stack at start instead of previewing them.
    #[arg(long)]
    pub apply: bool,
    /// Profile crosshair at pixel X,Y.
    #[arg(long, value_name = "X,Y")]
    pub crosshair: Option<String>,
    /// Profile line width (half-width of the averaged band).
    #[arg(long, default_value_t = 0)]
    pub line_width: usize,
    /// Show the profile envelopes (per image, per crosshair, per position).
    #[arg(long)]
    pub envelopes: bool,
    /// ROI rectangle X,Y,W,H whose time series is plotted.
    #[arg(long, value_name = "X,Y,W,H")]
    pub rect: Option<String>,
}

impl SetupArgs {
    /// The viewer's set-up for `path` loaded with `opts`. Every text is parsed before
    /// the window opens, and a reference file is read and checked against the frame
    /// shape the load will give (from the headers), so a bad flag ends the command at
    /// once with an error naming it.
    pub fn setup(&self, path: &std::path::Path, opts: &LoadOptions) -> Result<ViewSetup> {
        let subtract = source_spec("--subtract", &self.subtract)?;
        let divide = source_spec("--divide", &self.divide)?;
        let resolve = |s: Option<(&str, &str, SourceSpec)>| -> Result<Option<Source>> {
            let Some((option, text, spec)) = s else {
                return Ok(None);
            };
            // ranges and windows are checked against the loaded stack by the engine; a
            // file is checked now against the frame shape the headers promise
            let shape = match spec {
                SourceSpec::File(_) => load::plan(path, opts)?.shape,
                _ => blitz::Shape::new(0, 0, 0, 0),
            };
            let source = spec
                .resolve(shape, opts)
                .with_context(|| format!("{option} '{text}'"))?;
            Ok(Some(source))
        };
        Ok(ViewSetup {
            aggregate: self
                .aggregate
                .as_deref()
                .map(|a| parse_option::<AggregateSpec>("--aggregate", a))
                .transpose()?,
            subtract: resolve(subtract)?,
            divide: resolve(divide)?,
            apply: self.apply,
            crosshair: self
                .crosshair
                .as_deref()
                .map(|c| parse_option::<Crosshair>("--crosshair", c))
                .transpose()?,
            width: self.line_width,
            envelopes: self.envelopes,
            roi: self
                .rect
                .as_deref()
                .map(|r| Roi::parse_rect(r).map_err(|e| anyhow::anyhow!("--rect '{r}': {e}")))
                .transpose()?,
        })
    }
}

fn demo_or(path: Option<PathBuf>) -> PathBuf {
    path.unwrap_or_else(|| PathBuf::from("demo"))
}

/// `blitz [PATH]`: the viewer with default options.
pub fn open_path(path: Option<PathBuf>) -> Result<()> {
    viewer::run(ViewOptions {
        path: demo_or(path),
        load: LoadOptions::default(),
        engine: EngineChoice::Auto,
        screenshot: None,
        exit_after_frames: None,
        frame: 0,
        drop: None,
        setup: Default::default(),
    })
}

pub fn run(a: ViewArgs) -> Result<()> {
    let opts = a.load.options();
    let path = demo_or(a.path);
    let setup = a.setup.setup(&path, &opts)?;
    viewer::run(ViewOptions {
        path,
        load: opts,
        engine: a.engine.choice(),
        screenshot: a.screenshot,
        exit_after_frames: a.exit_after_frames,
        frame: a.frame,
        drop: a.drop,
        setup,
    })
}
