//! The commands that describe: info (what a load would do), cache (list, clear),
//! gpu-info (the adapter and limits in use).

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use blitz::load::{self, LoadOptions, Plan, human_bytes};

use super::args::{Input, load_with_bar};

#[derive(Subcommand)]
pub enum CacheAction {
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

pub fn cache(action: CacheAction) -> Result<()> {
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
                outln!("{}", serde_json::to_string_pretty(&files)?);
                return Ok(());
            }
            let total: u64 = files.iter().map(|f| f.bytes).sum();
            outln!(
                "cache {}: {} file(s), {}",
                dir.display(),
                files.len(),
                human_bytes(total)
            );
            for f in &files {
                outln!(
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
            outln!(
                "cache {}: removed {n} file(s), {}",
                dir.display(),
                human_bytes(bytes)
            );
        }
    }
    Ok(())
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
        "fps": p.fps,
        "time_range": p.time_range.map(|(a, b)| [a, b]),
    })
}

/// `blitz info`: the plan from the headers, or (`full`) the decoded stack too.
pub fn info(input: &Input, full: bool, as_json: bool) -> Result<()> {
    let opts = &input.options();
    let plan = load::plan(&input.path, opts)?;
    let mut j = plan_json(&plan);
    if full {
        let (stack, secs) = load_with_bar(&input.path, opts)?;
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
        let t = &stack.source.frame_time;
        j["fps"] = json!(stack.source.fps);
        j["time_range"] = json!(t.first().zip(t.last()).map(|(a, b)| [a, b]));
    }
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(());
    }
    let g = &plan.guard;
    outln!("path      {}", plan.path.display());
    outln!("kind      {}", plan.kind.name());
    outln!(
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
    outln!(
        "frames    {} (frames {}..={}, step {})",
        j["frames"],
        plan.selection.first,
        plan.selection.last,
        plan.selection.step
    );
    outln!(
        "frame     {} x {} (H x W), {} channel(s), {}",
        plan.shape.height,
        plan.shape.width,
        plan.shape.channels,
        plan.dtype
    );
    outln!(
        "bytes     {} ({}){}",
        j["bytes"],
        human_bytes(j["bytes"].as_u64().unwrap_or(0)),
        if plan.mapped { ", memory-mapped" } else { "" }
    );
    match &plan.cache {
        Some(c) => outln!(
            "storage   disk: {} ({})",
            c.path.display(),
            if c.path.exists() {
                "cached: opens at once"
            } else {
                "decoded on first open"
            }
        ),
        None => outln!("storage   {}", plan.storage.name()),
    }
    if plan.storage == load::Storage::Disk {
        outln!(
            "guard     not needed: every frame goes to the disk cache (RAM budget {})",
            human_bytes(g.budget_bytes)
        );
    } else if g.applies {
        outln!(
            "guard     budget {}; {}",
            human_bytes(g.budget_bytes),
            g.describe()
                .unwrap_or_else(|| format!("all {} frames fit", g.frames_kept))
        );
    } else {
        outln!("guard     not needed: the file is mapped, not copied");
    }
    if full {
        outln!(
            "load      {:.3} s, {:.2} GB/s",
            j["seconds"].as_f64().unwrap_or(0.0),
            j["gbps"].as_f64().unwrap_or(0.0)
        );
        outln!("range     {} ..= {}", j["min"], j["max"]);
    }
    for n in j["notes"].as_array().into_iter().flatten() {
        outln!("note      {}", n.as_str().unwrap_or_default());
    }
    Ok(())
}

/// Prints the adapter, backend, device type and the limits the GPU engine uses.
pub fn gpu_info(as_json: bool) -> Result<()> {
    let info = blitz::gpu::GpuDevice::new()?.info();
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    outln!("adapter       {}", info.name);
    outln!("backend       {}", info.backend);
    outln!("device type   {}", info.device_type);
    outln!("driver        {} {}", info.driver, info.driver_info);
    outln!(
        "max buffer    {} ({})",
        info.max_buffer_size,
        human_bytes(info.max_buffer_size)
    );
    outln!(
        "max storage binding {} ({})",
        info.max_storage_buffer_binding_size,
        human_bytes(info.max_storage_buffer_binding_size)
    );
    outln!(
        "storage buffers per stage {}",
        info.max_storage_buffers_per_shader_stage
    );
    outln!(
        "workgroup storage {} bytes, {} invocations per workgroup, {} workgroups per dimension",
        info.max_compute_workgroup_storage_size,
        info.max_compute_invocations_per_workgroup,
        info.max_compute_workgroups_per_dimension
    );
    outln!(
        "chunk of frames uploaded at once {} ({})",
        info.chunk_bytes,
        human_bytes(info.chunk_bytes)
    );
    Ok(())
}
