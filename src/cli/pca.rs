//! `blitz pca`: the first K principal components of the frames ([`blitz::ops::pca`]),
//! written as a stack of component images, with each frame's scores and the mean frame
//! beside it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use blitz::ops::pca::PcaMethod;
use blitz::{Shape, Stack, export};

use super::args::{Bar, EngineArgs, Input, RangeArgs, engine_used, writing};

/// `blitz pca`.
#[derive(Args)]
pub struct PcaArgs {
    #[command(flatten)]
    input: Input,
    /// Components to compute (at most the frames less one).
    #[arg(short = 'k', long, default_value_t = 5)]
    k: usize,
    #[command(flatten)]
    range: RangeArgs,
    /// auto (exact up to 200 frames, randomized beyond), exact, or randomized.
    #[arg(long, default_value = "auto")]
    method: String,
    /// Output .npy or .tif: the components as f32 (K, H, W[, C]). Beside it
    /// OUT.scores.csv (a row per frame: frame, source_frame, time_s, pc1..pcK, with the
    /// explained variance in its `# ` lines) and OUT.mean.npy|tif (the mean frame).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `out` with `.what` before its extension: `pca.npy` -> `pca.scores.csv`.
fn beside(out: &Path, what: &str, ext: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "pca".to_string(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.{what}.{ext}"))
}

pub fn run(a: PcaArgs) -> Result<()> {
    let method: PcaMethod = a
        .method
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--method: {e}"))?;
    let ext = blitz::load::ext_of_path(&a.output);
    if !["npy", "tif", "tiff"].contains(&ext.as_str()) {
        anyhow::bail!(
            "--output {}: the components are written as .npy or .tif",
            a.output.display()
        );
    }
    let (stack, range) = a.input.load_range(a.range)?;
    let sh = stack.shape();
    let engine = a.engine.open();
    let bar = Bar::new();
    let t0 = Instant::now();
    let (p, ran) = engine
        .pca_watched(&stack, a.k, range, method, &bar)
        .with_context(|| format!("{}", a.input.path.display()))?;
    bar.finish();
    let secs = t0.elapsed().as_secs_f64();
    let name = engine_used(&engine, &ran);
    let k = p.k();
    let comps = Stack::from_vec(
        Shape::new(k, sh.height, sh.width, sh.channels),
        p.components
            .iter()
            .flat_map(|c| c.data.iter().copied())
            .collect::<Vec<f32>>(),
    )?;
    let out = &a.output;
    export::write_stack(out, &comps).with_context(|| writing(out))?;
    let mean_path = beside(out, "mean", &ext);
    let mean = Stack::from_vec(
        Shape::new(1, sh.height, sh.width, sh.channels),
        p.mean.data.clone(),
    )?;
    export::write_stack(&mean_path, &mean).with_context(|| writing(&mean_path))?;
    let scores_path = beside(out, "scores", "csv");
    let mut header = export::FrameClock::header();
    header.extend((1..=k).map(|j| format!("pc{j}")));
    let comments = vec![
        format!(
            "blitz pca of {}, frames {}..={}, {}",
            a.input.path.display(),
            range.first,
            range.last,
            p.method
        ),
        format!(
            "explained variance ratio: {}",
            p.ratio
                .iter()
                .map(|r| format!("{r:.6}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    let (index, time) = stack.source.clock(range.first..range.last + 1);
    let clock = export::FrameClock {
        index: &index,
        time: &time,
    };
    let rows = (0..range.len()).map(|t| {
        let mut v = clock.row(t, range.first + t);
        v.extend((0..k).map(|j| p.score(t, j)));
        v
    });
    export::write_csv_commented(&scores_path, &comments, &header, rows)
        .with_context(|| writing(&scores_path))?;
    outln!(
        "engine {name}: pca of frames {}..={} ({} frames of {} samples), {}, {k} components in {secs:.3} s",
        range.first,
        range.last,
        range.len(),
        sh.frame_len(),
        p.method
    );
    outln!(
        "{:>4} {:>14} {:>10} {:>10}",
        "pc",
        "variance",
        "ratio",
        "cumulative"
    );
    let mut cum = 0.0;
    for j in 0..k {
        cum += p.ratio[j];
        outln!(
            "{:>4} {:>14.6e} {:>10.6} {:>10.6}",
            j + 1,
            p.variance[j],
            p.ratio[j],
            cum
        );
    }
    outln!(
        "-> {} (components), {}, {}",
        out.display(),
        scores_path.display(),
        mean_path.display()
    );
    Ok(())
}
