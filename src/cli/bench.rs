//! `blitz bench`: every operation timed (CPU rows, GPU rows), or the viewer's frame
//! change (`--display`) and interactive analysis (`--interactive`), as tables or JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use blitz::engine::Engine;
use blitz::load::human_bytes;
use blitz::{Stack, bench};

use super::args::{DtypeArg, EngineArg, EngineArgs, LoadArgs, load_with_bar};

/// `blitz bench`.
#[derive(Args)]
pub struct BenchArgs {
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
    #[command(flatten)]
    engine: EngineArgs,
    /// Leave out the CPU rows (a GPU check on a stack the CPU takes long over).
    #[arg(long)]
    skip_cpu: bool,
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
    /// Time the viewer's edits of the whole stack instead (flip, rotate, crop, timeline
    /// crop, apply to full, undo): on the UI thread and until the result is in.
    #[arg(long)]
    edits: bool,
    #[command(flatten)]
    load: LoadArgs,
}

pub fn run(a: BenchArgs) -> Result<()> {
    if a.display {
        return bench_display(a.changes.max(1), a.json);
    }
    let stack = match &a.path {
        Some(p) => load_with_bar(p, &a.load.options())?.0,
        None => {
            let shape = blitz::Shape::new(a.frames, a.height, a.width, 1);
            match a.dtype {
                DtypeArg::U8 => bench::random_stack::<u8>(shape),
                DtypeArg::U16 => bench::random_stack::<u16>(shape),
                DtypeArg::F32 => bench::random_stack::<f32>(shape),
            }?
        }
    };
    if a.edits {
        return bench_edits(stack, a.json);
    }
    if a.interactive {
        return bench_interactive(&stack, a.changes.max(1), a.json, a.engine);
    }
    bench_cmd(&stack, a.repeat.max(1), a.json, a.engine, a.skip_cpu)
}

fn bench_cmd(
    stack: &Stack,
    repeat: usize,
    as_json: bool,
    engine: EngineArgs,
    skip_cpu: bool,
) -> Result<()> {
    let mut rows = if skip_cpu {
        Vec::new()
    } else {
        bench::run_cpu(stack, repeat)?
    };
    if engine.engine != EngineArg::Cpu {
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
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "stack {} {} ({}), {} rayon threads",
        stack.shape(),
        stack.dtype(),
        human_bytes(stack.bytes()),
        rayon::current_num_threads()
    );
    if let Some(t) = rows.iter().find_map(|r| r.timing) {
        outln!("GPU \"seconds\": the resident compute, by {t}");
    }
    outln!(
        "{:<22} {:>6} {:>11} {:>15} {:>9}",
        "op",
        "engine",
        "seconds",
        "with transfer",
        "GB/s"
    );
    let cell = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.4}"));
    for r in rows {
        outln!(
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

/// `blitz bench --interactive`: from a change in the viewer to the new image drawn.
fn bench_interactive(stack: &Stack, changes: usize, json: bool, engine: EngineArgs) -> Result<()> {
    let gpu = blitz::gpu::GpuDevice::new()?;
    let info = gpu.info();
    let rows = bench::run_interactive(stack, &gpu, engine.engine != EngineArg::Cpu, changes)
        .map_err(anyhow::Error::msg)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let s = stack.shape();
    outln!(
        "stack {} x {} x {} {} ({}); result drawn into 1920x1080 on {} ({})",
        s.frames,
        s.height,
        s.width,
        stack.dtype().name(),
        human_bytes(stack.bytes()),
        info.name,
        info.device_type
    );
    outln!(
        "{:<44} {:>6} {:>12} {:>12}",
        "change",
        "engine",
        "total ms",
        "compute ms"
    );
    for r in rows {
        outln!(
            "{:<44} {:>6} {:>12.2} {:>12.2}",
            r.change,
            r.engine,
            r.ms_median,
            r.ms_compute
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
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "frame change = upload of the frame in its raw dtype + draw through the colormap into \
         1920x1080, waited for; {} ({}, {})",
        info.name,
        info.backend,
        info.device_type
    );
    outln!(
        "{:<18} {:>5} {:>8} {:>12} {:>10} {:>12}",
        "frame",
        "dtype",
        "changes",
        "median ms",
        "mean ms",
        "redraw ms"
    );
    for r in rows {
        outln!(
            "{:<18} {:>5} {:>8} {:>12.2} {:>10.2} {:>12.2}",
            r.frame,
            r.dtype,
            r.changes,
            r.ms_median,
            r.ms_mean,
            r.ms_redraw
        );
    }
    Ok(())
}

/// `blitz bench --edits`: the viewer's edits, on the UI thread and in all.
fn bench_edits(stack: Stack, json: bool) -> Result<()> {
    let head = format!(
        "stack {} {} ({}), viewer edits on the cpu engine, {} rayon threads",
        stack.shape(),
        stack.dtype(),
        human_bytes(stack.bytes()),
        rayon::current_num_threads()
    );
    let rows = bench::edits::run_edits(stack).map_err(anyhow::Error::msg)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!("{head}");
    outln!(
        "{:<36} {:>12} {:>12} {:>12}",
        "edit",
        "UI thread s",
        "in all s",
        "stack shown"
    );
    for r in rows {
        outln!(
            "{:<36} {:>12.4} {:>12.4} {:>12}",
            r.edit,
            r.ui_seconds,
            r.total_seconds,
            human_bytes(r.stack_bytes)
        );
    }
    Ok(())
}
