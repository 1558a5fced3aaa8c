//! `blitz kymograph`: the x–t image of a line through the stack
//! ([`blitz::ops::kymograph`]), written as an image or a CSV.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use blitz::export;
use blitz::ops::kymograph::{self, Line};

use blitz::calibration::PixelSize;

use super::args::{
    EngineArgs, Input, LineArgs, LineChoice, RangeArgs, engine_used, pixel_size, writing,
};

/// `blitz kymograph`.
#[derive(Args)]
pub struct KymographArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    path: LineArgs,
    #[command(flatten)]
    range: RangeArgs,
    /// Output: .npy or .tif (f32, (T, L[, C])), .png (8-bit through its min..max) or .csv
    /// (a row per frame: frame, source_frame, time_s, then a column per position and
    /// channel).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(a: KymographArgs) -> Result<()> {
    let width = a.path.width;
    let pixel = pixel_size(&a.path.pixel_size)?;
    let choice = a.path.choice()?;
    // a bad --line is said before anything is loaded
    let parsed = match choice {
        LineChoice::Poly(t) => Some(Line::parse(t, width)?),
        _ => None,
    };
    let (stack, range) = a.input.load_range(a.range)?;
    let sh = stack.shape();
    let (what, line) = match (choice, parsed) {
        (LineChoice::Row(y), _) => {
            inside("--row", y, sh.height, "height")?;
            (format!("--row {y}"), Line::row(y, sh.width, width))
        }
        (LineChoice::Col(x), _) => {
            inside("--col", x, sh.width, "width")?;
            (format!("--col {x}"), Line::col(x, sh.height, width))
        }
        (LineChoice::Poly(t), Some(l)) => (format!("--line {t}"), l),
        (LineChoice::Poly(_), None) => unreachable!("parsed above"),
    };
    let engine = a.engine.open();
    let t0 = Instant::now();
    let (img, ran) = engine
        .kymograph(&stack, &line, range)
        .context(what.clone())?;
    let name = engine_used(&engine, &ran);
    let secs = t0.elapsed().as_secs_f64();
    let out = &a.output;
    let is_csv = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut header = export::FrameClock::header();
        for p in 0..img.width {
            header.extend(export::channel_columns(&format!("p{p}"), img.channels));
        }
        let (index, time) = stack.source.clock(range.first..range.last + 1);
        let clock = export::FrameClock {
            index: &index,
            time: &time,
        };
        let row_len = img.width * img.channels;
        let rows = img.data.chunks(row_len.max(1)).enumerate().map(|(t, r)| {
            let mut v = clock.row(t, range.first + t);
            v.extend_from_slice(r);
            v
        });
        // the columns' positions along the line in units, where calibrated
        let comments: Vec<String> = pixel
            .map(|px| {
                // as the CSV writes its numbers: an f32 as Rust prints it
                let at = line
                    .arc_lengths()
                    .into_iter()
                    .map(|a| (px.length(a as f64) as f32).to_string());
                format!(
                    "position_{} of p0..p{}: {}",
                    px.unit.ascii(),
                    img.width.saturating_sub(1),
                    at.collect::<Vec<_>>().join(" ")
                )
            })
            .into_iter()
            .collect();
        export::write_csv_commented(out, &comments, &header, rows).with_context(|| writing(out))?;
    } else {
        if pixel.is_some() {
            eprintln!("note: --pixel-size adds the positions to a CSV output only");
        }
        export::write_image(out, &img).with_context(|| writing(out))?;
    }
    outln!(
        "engine {name}: kymograph along {what} (width {}, {:.1} px long, {} positions) of frames {}..={} in {secs:.3} s -> {}",
        width,
        line.length(),
        img.width,
        range.first,
        range.last,
        out.display()
    );
    Ok(())
}

/// `pos` (of `option`) within a frame dimension of `n`.
fn inside(option: &str, pos: usize, n: usize, dim: &str) -> Result<()> {
    if pos >= n {
        anyhow::bail!("{option} {pos} is outside the frame ({dim} {n})");
    }
    Ok(())
}

/// `blitz profile --line`: the profile of one frame along a polyline, with the dataset
/// envelope when asked, as CSV: arc length in pixels from the first point, value(s)
/// [, dataset_min, dataset_max].
pub fn line_profile(
    input: &Input,
    (text, width): (&str, usize),
    frame: usize,
    envelope: Option<u32>,
    pixel: Option<PixelSize>,
    out: &std::path::Path,
) -> Result<()> {
    let line = Line::parse(text, width)?;
    let (stack, _) = input.load()?;
    let what = format!("--line {text}");
    let t0 = Instant::now();
    let p = kymograph::line_profile(&stack, frame, &line).context(what.clone())?;
    let env = envelope
        .map(|q| kymograph::line_envelope(&stack, &line, q))
        .transpose()
        .context(format!("--envelope with {what}"))?;
    let arc = line.arc_lengths();
    let mut header = vec!["arc_px".to_string()];
    if let Some(px) = pixel {
        header.push(format!("arc_{}", px.unit.ascii()));
    }
    header.extend(export::channel_columns("value", p.channels));
    if env.is_some() {
        header.extend(["dataset_min".to_string(), "dataset_max".to_string()]);
    }
    let rows = (0..p.len()).map(|i| {
        let mut row = vec![arc[i]];
        if let Some(px) = pixel {
            row.push(px.length(arc[i] as f64) as f32);
        }
        row.extend((0..p.channels).map(|c| p.get(i, c)));
        if let Some(e) = &env {
            row.extend([e.lo[i], e.hi[i]]);
        }
        row
    });
    export::write_csv(out, &header, rows).with_context(|| writing(out))?;
    outln!(
        "engine cpu: profile along {what} (width {width}, {:.1} px long) of frame {frame}, {} positions{} in {:.3} s -> {}",
        line.length(),
        p.len(),
        envelope
            .map(|q| format!(" with envelope q = {q}"))
            .unwrap_or_default(),
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
