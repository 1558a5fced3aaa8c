//! The commands that load a stack, compute and write a file: convert, reduce, normalize,
//! profile, roi.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use blitz::Stack;
use blitz::calibration::PixelSize;
use blitz::engine::{Engine, EngineChoice};
use blitz::export::{self, ENV_DATASET, ProfileColumns};
use blitz::load::{self, human_bytes};
use blitz::ops::SpecError;
use blitz::ops::normalize::{Normalize, SourceSpec, Step};
use blitz::ops::profile::{self, Orientation};
use blitz::ops::reduce::ReduceOp;
use blitz::ops::roi::set::{NamedRoi, read_rois};
use blitz::ops::roi::{Roi, Stat};

use super::args::{
    EngineArgs, Input, LineArgs, LineChoice, RangeArgs, engine_used, pixel_size, source_spec,
    writing,
};

/// `blitz normalize`.
#[derive(Args)]
pub struct NormalizeArgs {
    #[command(flatten)]
    input: Input,
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
    #[command(flatten)]
    engine: EngineArgs,
}

/// `blitz profile`.
#[derive(Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    input: Input,
    /// The line (with --line the CSV's first column is the arc length in pixels).
    #[command(flatten)]
    path: LineArgs,
    /// Frame (after loading).
    #[arg(long, default_value_t = 0, value_name = "T")]
    frame: usize,
    /// Add the per-position dataset envelope: min/max for 0, else percentiles Q and
    /// 100-Q over frames of the band mean (0..=49).
    #[arg(long, value_name = "Q")]
    envelope: Option<u32>,
    /// Output .csv: position (pixel centre, i + 0.5), value(s)[, env_min, env_max].
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `blitz roi`.
#[derive(Args)]
pub struct RoiArgs {
    #[command(flatten)]
    input: Input,
    /// Rectangle in pixels, clamped to the frame; a fifth number turns it by that many
    /// degrees (clockwise) about its centre. Repeatable.
    #[arg(long, value_name = "X,Y,W,H[,ANGLE]", allow_hyphen_values = true)]
    rect: Vec<String>,
    /// Polygon vertices in pixel coordinates; pixels whose centre is inside count.
    /// Repeatable.
    #[arg(long, value_name = "X1,Y1,X2,Y2,...", allow_hyphen_values = true)]
    polygon: Vec<String>,
    /// Ellipse: centre, radii, and the angle of its x axis in degrees. Repeatable.
    #[arg(long, value_name = "CX,CY,RX,RY[,ANGLE]", allow_hyphen_values = true)]
    ellipse: Vec<String>,
    /// A ROI set file (JSON, as the viewer saves it): {"rois": [{"name": "a", "rect":
    /// [x, y, w, h]}, {"polygon": [[x, y], ...]}, {"ellipse": [cx, cy, rx, ry], "angle":
    /// 30}]}.
    #[arg(long, value_name = "FILE.json")]
    rois: Option<PathBuf>,
    /// Size of a pixel with its unit (e.g. 2.5um): the table adds each ROI's area in it.
    #[arg(long, value_name = "SIZE")]
    pixel_size: Option<String>,
    /// Write the ROIs used as a set file, for --rois or the viewer.
    #[arg(long, value_name = "FILE.json")]
    save_rois: Option<PathBuf>,
    /// Median instead of mean (one ROI); with several, a median column beside the mean.
    #[arg(long)]
    median: bool,
    #[command(flatten)]
    range: RangeArgs,
    /// Output .csv. One rectangle or polygon: frame, source_frame, time_s, value, min,
    /// max (per channel for RGB). Several ROIs, an ellipse or a set: per ROI NAME,
    /// NAME_mean, NAME_std, NAME_min, NAME_max, NAME_area_px (per channel for RGB).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn convert(input: &Input, out: &Path) -> Result<()> {
    let (stack, secs) = input.load()?;
    let t0 = Instant::now();
    export::write_stack(out, &stack).with_context(|| writing(out))?;
    outln!(
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

pub fn reduce(
    input: &Input,
    op: ReduceOp,
    range: RangeArgs,
    out: &Path,
    engine: EngineArgs,
) -> Result<()> {
    let (stack, range) = input.load_range(range)?;
    let engine = engine.open();
    let t0 = Instant::now();
    let (img, ran) = engine.reduce(&stack, op, range)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    export::write_image(out, &img).with_context(|| writing(out))?;
    outln!(
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

pub fn normalize(a: NormalizeArgs) -> Result<()> {
    let sub = source_spec("--subtract", &a.subtract)?;
    let div = source_spec("--divide", &a.divide)?;
    if sub.is_none() && div.is_none() {
        anyhow::bail!("nothing to do: give --subtract and/or --divide");
    }
    let (stack, _) = a.input.load()?;
    let opts = a.input.options();
    // each step resolved and checked against the stack alone, so an error names its option
    let step = |s: Option<(&str, &str, SourceSpec)>, amount| -> Result<Option<Step>> {
        let Some((option, text, spec)) = s else {
            return Ok(None);
        };
        let context = || format!("{option} '{text}'");
        let source = spec.resolve(stack.shape(), &opts).with_context(context)?;
        let step = Step { source, amount };
        let alone = Normalize {
            subtract: Some(step.clone()),
            divide: None,
        };
        alone.validate(stack.shape()).with_context(context)?;
        Ok(Some(step))
    };
    let n = Normalize {
        subtract: step(sub, a.amount_sub)?,
        divide: step(div, a.amount_div)?,
    };
    let sh = stack.shape();
    let n_out = n.output_frames(sh.frames);
    let result_bytes = (n_out as u64) * (sh.frame_len() as u64) * 4;
    // the loaded stack shares the budget with the result, unless it is a mapped file
    let resident = if stack.is_mapped() { 0 } else { stack.bytes() };
    let streamable = matches!(
        load::ext_of_path(&a.output).as_str(),
        "npy" | "tif" | "tiff"
    );
    if resident.saturating_add(result_bytes) > opts.budget_bytes() && streamable {
        return normalize_streamed(&stack, &n, &a.output, opts.budget_bytes());
    }
    let engine = a.engine.open();
    let t0 = Instant::now();
    let (result, ran) = engine.normalize(&stack, &n)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    let out = &a.output;
    export::write_stack(out, &result).with_context(|| writing(out))?;
    outln!(
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
/// each run of output frames written to the `.npy` or `.tif` as it is finished.
fn normalize_streamed(stack: &Stack, n: &Normalize, out: &Path, budget: u64) -> Result<()> {
    let sh = stack.shape();
    let n_out = n.output_frames(sh.frames);
    let out_shape = blitz::Shape::new(n_out, sh.height, sh.width, sh.channels);
    // input and output of a chunk together stay well inside the budget
    let chunk = blitz::stack::chunk_bytes_from_env()
        .min(usize::try_from(budget / 4).unwrap_or(usize::MAX))
        .max(1);
    let t0 = Instant::now();
    let mut w = export::StackWriter::create(out, blitz::Dtype::F32, out_shape)?;
    n.apply_chunked(stack, chunk, |_, frames| {
        w.write(blitz::stack::Samples::F32(frames))
            .map_err(anyhow::Error::from)
    })?;
    w.finish()?;
    let secs = t0.elapsed().as_secs_f64();
    outln!(
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

pub fn profile(a: ProfileArgs) -> Result<()> {
    if let Some(q) = a.envelope {
        profile::check_percentile(q).with_context(|| format!("--envelope {q}"))?;
    }
    let width = a.path.width;
    let pixel = pixel_size(&a.path.pixel_size)?;
    let (orient, pos) = match a.path.choice()? {
        LineChoice::Row(y) => (Orientation::Row, y),
        LineChoice::Col(x) => (Orientation::Col, x),
        LineChoice::Poly(text) => {
            a.engine.cpu_only("line profile");
            return super::kymograph::line_profile(
                &a.input,
                (text, width),
                a.frame,
                a.envelope,
                pixel,
                &a.output,
            );
        }
    };
    let (stack, _) = a.input.load()?;
    // the envelope over every frame is the part with a GPU kernel; the profile of one
    // frame is computed on the CPU
    let engine = match a.envelope {
        Some(_) => a.engine.open(),
        None => {
            a.engine.cpu_only("one-frame profile");
            Engine::new(EngineChoice::Cpu)
        }
    };
    let t0 = Instant::now();
    let what = format!(
        "--{} {pos}",
        if orient == Orientation::Row {
            "row"
        } else {
            "col"
        }
    );
    let p = profile::profile(&stack, a.frame, orient, pos, width).context(what.clone())?;
    let env = a
        .envelope
        .map(|q| engine.dataset_envelope(&stack, orient, pos, width, q))
        .transpose()
        .context(format!("--envelope with {what}"))?;
    let name = match &env {
        Some((_, ran)) => engine_used(&engine, ran),
        None => "cpu".to_string(),
    };
    let secs = t0.elapsed().as_secs_f64();
    let curve = ProfileColumns {
        prefix: "",
        profile: &p,
        envelopes: env.iter().map(|(e, _)| (ENV_DATASET, e)).collect(),
    };
    let out = &a.output;
    export::write_profiles_csv_described(out, &[curve], &[], pixel)
        .with_context(|| writing(out))?;
    outln!(
        "engine {name}: {orient} profile at {orient} {pos} (width {}) of frame {}, {} positions{} in {:.3} s -> {}",
        width,
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

/// A ROI text parser of the library.
type RoiParser = fn(&str) -> Result<Roi, SpecError>;

/// The ROIs of `--rect`, `--polygon`, `--ellipse` (named rect1, polygon1, ellipse1, ...
/// in the order given per kind) and `--rois`, each text parsed by the library's grammar.
fn named_rois(a: &RoiArgs) -> Result<Vec<NamedRoi>> {
    let mut out = Vec::new();
    let kinds: [(&str, &Vec<String>, RoiParser); 3] = [
        ("rect", &a.rect, Roi::parse_rect_turned),
        ("polygon", &a.polygon, Roi::parse_polygon),
        ("ellipse", &a.ellipse, Roi::parse_ellipse),
    ];
    for (kind, texts, parse) in kinds {
        for (i, t) in texts.iter().enumerate() {
            let roi = parse(t).map_err(|e| anyhow::anyhow!("--{kind} '{t}': {e}"))?;
            out.push(NamedRoi {
                name: format!("{kind}{}", i + 1),
                roi,
            });
        }
    }
    if let Some(p) = &a.rois {
        for r in read_rois(p)? {
            if out.iter().any(|o| o.name == r.name) {
                anyhow::bail!(
                    "{}: the name '{}' is taken by an option",
                    p.display(),
                    r.name
                );
            }
            out.push(r);
        }
    }
    Ok(out)
}

pub fn roi(a: RoiArgs) -> Result<()> {
    let rois = named_rois(&a)?;
    // a bad --pixel-size is said before anything is loaded
    let pixel = pixel_size(&a.pixel_size)?;

    if let Some(p) = &a.save_rois {
        export::write_rois(p, &rois).with_context(|| writing(p))?;
    }
    // the single-ROI columns, unless the table is asked for (a set, an ellipse, units)
    let single = rois.len() == 1 && a.rois.is_none() && a.ellipse.is_empty() && pixel.is_none();
    if !single {
        return roi_table_csv(&a, &rois, pixel);
    }
    let (option, roi) = (
        if a.rect.is_empty() {
            "--polygon"
        } else {
            "--rect"
        },
        rois[0].roi.clone(),
    );
    let stat = if a.median { Stat::Median } else { Stat::Mean };
    let (stack, range) = a.input.load_range(a.range)?;
    let engine = a.engine.open();
    let t0 = Instant::now();
    let (r, ran) = engine.roi(&stack, &roi, stat, range).context(option)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    let out = &a.output;
    let (index, time) = stack.source.clock(r.frames.iter().copied());
    let clock = export::FrameClock {
        index: &index,
        time: &time,
    };
    export::write_roi_csv_described(out, &r, &[], Some(clock)).with_context(|| writing(out))?;
    outln!(
        "engine {name}: ROI {stat} over {} pixels, frames {}..={} in {:.3} s -> {}",
        r.pixels,
        range.first,
        range.last,
        secs,
        out.display()
    );
    Ok(())
}

/// `blitz roi` with several ROIs: the results table as CSV.
fn roi_table_csv(a: &RoiArgs, rois: &[NamedRoi], pixel: Option<PixelSize>) -> Result<()> {
    let (stack, range) = a.input.load_range(a.range)?;
    let engine = a.engine.open();
    let t0 = Instant::now();
    let (table, ran) =
        engine.roi_table_watched(&stack, rois, range, a.median, &blitz::NoProgress)?;
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    let (index, time) = stack.source.clock(table.frames.iter().copied());
    let clock = export::FrameClock {
        index: &index,
        time: &time,
    };
    let out = &a.output;
    export::write_roi_table_csv(out, &table, rois, &[], clock, pixel)
        .with_context(|| writing(out))?;
    outln!(
        "engine {name}: {} ROIs ({}), frames {}..={} in {:.3} s -> {}",
        rois.len(),
        table.names.join(", "),
        range.first,
        range.last,
        secs,
        out.display()
    );
    Ok(())
}
