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

use super::args::{EngineArgs, LoadArgs, parse_option, pixel_size, source_spec};
use blitz::calibration::{Calibration, FrameTime, parse_seconds};
use blitz::ops::kymograph::Line;

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
    /// Window size in logical pixels, WxH (default 1400x860).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    window_size: Option<(u32, u32)>,
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
    #[arg(long, value_name = "X,Y,W,H", allow_hyphen_values = true)]
    pub rect: Option<String>,
    /// The line tool's line X1,Y1,X2,Y2[,X3,Y3...] (a polyline from three points): its
    /// profile at any angle replaces the H profile.
    #[arg(long, value_name = "X1,Y1,X2,Y2[,...]", allow_hyphen_values = true)]
    pub line: Option<String>,
    /// Compute the kymograph of --line over the frames at start (its panel opens).
    #[arg(long, requires = "line")]
    pub kymograph: bool,
    /// A ROI set file (JSON, as `blitz roi --rois` reads it): each ROI drawn with its name,
    /// its mean plotted, its table in the ROI section.
    #[arg(long, value_name = "FILE.json")]
    pub rois: Option<std::path::PathBuf>,
    /// Size of a pixel with its unit (nm, um, mm, m), e.g. 2.5um: the probe, the measure
    /// tool, the plots and a scale bar in units.
    #[arg(long, value_name = "SIZE")]
    pub pixel_size: Option<String>,
    /// Time between frames, e.g. 10us (default: the source's rate or timestamps).
    #[arg(long, value_name = "TIME")]
    pub frame_interval: Option<String>,
    /// Compute K PCA components of the frames at start and show the first (the PCA
    /// section of the right panel shows the others and rebuilt frames).
    #[arg(long, value_name = "K")]
    pub pca: Option<usize>,
    /// Pin pixel X,Y: its time series is plotted (repeatable, up to 4).
    #[arg(long, value_name = "X,Y")]
    pub pin: Vec<String>,
    /// Show the frames turned and flipped (a view, nothing is copied): none, or a comma
    /// list of rot90, rot180, rot270 (clockwise), flipx, flipy.
    #[arg(long, value_name = "LIST")]
    pub orient: Option<String>,
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
            pca: self.pca,
            line: self
                .line
                .as_deref()
                .map(|t| {
                    Line::parse(t, 0)
                        .map(|l| l.points)
                        .map_err(|e| anyhow::anyhow!("--line '{t}': {e}"))
                })
                .transpose()?,
            kymograph: self.kymograph,
            rois: match &self.rois {
                Some(p) => blitz::ops::roi::set::read_rois(p)?,
                None => Vec::new(),
            },
            calibration: Calibration {
                pixel: pixel_size(&self.pixel_size)?,
                time: match self.frame_interval.as_deref() {
                    Some(t) => FrameTime::Interval(
                        parse_seconds(t)
                            .map_err(|e| anyhow::anyhow!("--frame-interval '{t}': {e}"))?,
                    ),
                    None => FrameTime::Source,
                },
            },
            pins: self
                .pin
                .iter()
                .map(|p| parse_option::<Crosshair>("--pin", p))
                .collect::<Result<_>>()?,
            orient: self
                .orient
                .as_deref()
                .map(|o| parse_option("--orient", o))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

fn demo_or(path: Option<PathBuf>) -> PathBuf {
    path.unwrap_or_else(|| PathBuf::from("demo"))
}

/// `blitz [PATH]`: the viewer with default options.
pub fn open_path(path: Option<PathBuf>) -> Result<()> {
    Ok(viewer::run(ViewOptions {
        path: demo_or(path),
        load: LoadOptions::default(),
        engine: EngineChoice::Auto,
        screenshot: None,
        exit_after_frames: None,
        frame: 0,
        drop: None,
        setup: Default::default(),
        size: None,
    })?)
}

/// `WxH`, both at least 100.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}': expected WIDTHxHEIGHT, e.g. 800x600, each at least 100");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if w < 100 || h < 100 {
        return Err(bad());
    }
    Ok((w, h))
}

pub fn run(a: ViewArgs) -> Result<()> {
    let opts = a.load.options();
    let path = demo_or(a.path);
    let setup = a.setup.setup(&path, &opts)?;
    Ok(viewer::run(ViewOptions {
        path,
        load: opts,
        engine: a.engine.choice(),
        screenshot: a.screenshot,
        exit_after_frames: a.exit_after_frames,
        frame: a.frame,
        drop: a.drop,
        setup,
        size: a.window_size,
    })?)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use blitz::Shape;
    use blitz::ops::FrameRange;
    use blitz::ops::reduce::ReduceOp;

    use super::*;
    use crate::cli::{Cli, Command};

    /// `blitz view ARGS` parsed and set up as the command would, without a window.
    fn setup(args: &[&str]) -> Result<ViewSetup> {
        let argv = ["blitz", "view"].iter().chain(args).copied();
        let Some(Command::View(a)) = Cli::try_parse_from(argv)?.command else {
            panic!("not a view command");
        };
        let path = demo_or(a.path);
        a.setup.setup(&path, &a.load.options())
    }

    fn error(args: &[&str]) -> String {
        format!("{:#}", setup(args).unwrap_err())
    }

    #[test]
    fn no_flag_sets_nothing_up() {
        let s = setup(&["demo:4,8,8"]).unwrap();
        assert_eq!(s.aggregate, None);
        assert_eq!((s.subtract, s.divide), (None, None));
        assert!(!s.apply && !s.envelopes);
        assert_eq!((s.crosshair, s.width, s.roi), (None, 0, None));
    }

    #[test]
    fn every_set_up_flag_reaches_the_viewers_set_up() {
        let s = setup(&[
            "demo:6,8,8",
            "--aggregate",
            "max:1:4",
            "--subtract",
            "range:median:0:2",
            "--divide",
            "sliding:mean:3:1",
            "--apply",
            "--crosshair",
            "5,6",
            "--line-width",
            "2",
            "--envelopes",
            "--rect",
            "-1,2,3,4",
        ])
        .unwrap();
        assert_eq!(
            s.aggregate,
            Some(AggregateSpec {
                op: ReduceOp::Max,
                range: Some(FrameRange::new(1, 4))
            })
        );
        assert_eq!(
            s.subtract,
            Some(Source::Range {
                op: ReduceOp::Median,
                range: FrameRange::new(0, 2)
            })
        );
        assert_eq!(
            s.divide,
            Some(Source::Sliding {
                op: ReduceOp::Mean,
                window: 3,
                lag: 1
            })
        );
        assert!(s.apply && s.envelopes);
        assert_eq!(s.crosshair, Some(Crosshair { x: 5, y: 6 }));
        assert_eq!(s.width, 2);
        assert_eq!(
            s.roi,
            Some(Roi::Rect {
                x: -1,
                y: 2,
                w: 3,
                h: 4
            })
        );
        // an aggregate without a range is over every frame
        let s = setup(&["demo:6,8,8", "--aggregate", "std"]).unwrap();
        assert_eq!(
            s.aggregate,
            Some(AggregateSpec {
                op: ReduceOp::Std,
                range: None
            })
        );
    }

    /// A one-frame u8 `.npy` of `h` x `w` holding `10 + x + y`.
    fn reference(dir: &std::path::Path, name: &str, h: usize, w: usize) -> PathBuf {
        let v: Vec<u8> = (0..h * w).map(|i| (10 + i / w + i % w) as u8).collect();
        let s = blitz::Stack::from_vec(Shape::new(1, h, w, 1), v).unwrap();
        let p = dir.join(name);
        blitz::export::write_npy(&p, &s).unwrap();
        p
    }

    #[test]
    fn a_file_reference_is_read_with_the_datas_options_and_checked_before_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let good = reference(dir.path(), "ref.npy", 8, 8);
        let file = format!("file:{}", good.display());
        let s = setup(&["demo:4,8,8", "--subtract", &file]).unwrap();
        let Some(Source::File(img)) = s.subtract else {
            panic!("a file source");
        };
        assert_eq!((img.height, img.width, img.channels), (8, 8, 1));
        // x = 3, y = 2: 10 + 2 + 3
        assert_eq!(img.get(2, 3, 0), 15.0);
        // the data at half size: the reference is halved as well, 2x2 block means
        let s = setup(&["demo:4,8,8", "--size-ratio", "0.5", "--divide", &file]).unwrap();
        let Some(Source::File(img)) = s.divide else {
            panic!("a file source");
        };
        assert_eq!((img.height, img.width), (4, 4));
        // block (y 0..2, x 0..2): 10, 11, 11, 12
        assert_eq!(img.get(0, 0, 0), 11.0);
        // a reference of another frame shape is refused, naming the option and the file
        let small = reference(dir.path(), "small.npy", 4, 8);
        let file = format!("file:{}", small.display());
        let e = error(&["demo:4,8,8", "--divide", &file]);
        assert!(
            e.contains("--divide 'file:") && e.contains("small.npy"),
            "{e}"
        );
        assert!(
            e.contains("one frame of the data's 8 x 8 x 1 is needed"),
            "{e}"
        );
        let e = error(&["demo:4,8,8", "--subtract", "file:/no/such/ref.png"]);
        assert!(
            e.contains("--subtract") && e.contains("/no/such/ref.png"),
            "{e}"
        );
    }

    #[test]
    fn bad_set_up_flags_name_the_option() {
        for (args, want) in [
            (
                ["--aggregate", "mean:1"],
                "--aggregate 'mean:1': expected OP or OP:A:B",
            ),
            (
                ["--aggregate", "avg"],
                "--aggregate 'avg': unknown reduce op 'avg'",
            ),
            (
                ["--subtract", "range:mean:2"],
                "--subtract 'range:mean:2': expected range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG",
            ),
            (
                ["--divide", "sliding:max:0:1"],
                "--divide 'sliding:max:0:1': the sliding WINDOW must be at least 1",
            ),
            (
                ["--crosshair", "5"],
                "--crosshair '5': expected X,Y (two whole numbers), got 1",
            ),
            (
                ["--rect", "1,2,3"],
                "--rect '1,2,3': expected four integers X,Y,W,H, got 3",
            ),
            (
                ["--rect", "1,2,0,3"],
                "--rect '1,2,0,3': width and height must be positive",
            ),
        ] {
            let e = error(&["demo:4,8,8", args[0], args[1]]);
            assert!(e.starts_with(want), "{args:?}: {e}");
        }
        // a line width is a number, checked by clap
        assert!(setup(&["demo:4,8,8", "--line-width", "x"]).is_err());
    }
}
