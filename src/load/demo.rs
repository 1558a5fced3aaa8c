//! The built-in synthetic stack: moving structures, noise, a slow background drift and a
//! flicker event, so that reduce, normalization and envelopes all have something to show.

use std::path::Path;

use crate::stack::{Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::OutBuf;
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard,
};

/// Default demo size: 256 frames of 512 x 512, gray u8.
pub const DEMO_SHAPE: Shape = Shape {
    frames: 256,
    height: 512,
    width: 512,
    channels: 1,
};

/// Frames (as a fraction of T) during which the whole field flickers brighter.
const FLICKER: (f32, f32) = (0.60, 0.625);

fn parse_size(path: &Path) -> Result<Shape, LoadError> {
    let s = path.to_string_lossy();
    let Some(dims) = s.strip_prefix("demo:") else {
        return Ok(DEMO_SHAPE);
    };
    let v: Vec<usize> = dims
        .split([',', 'x'])
        .map(|d| d.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| LoadError::Option {
            option: "demo",
            msg: format!("'{s}': expected demo:T,H,W"),
        })?;
    match v.as_slice() {
        [t, h, w] if *t > 0 && *h > 0 && *w > 0 && t.max(h).max(w) <= &(1 << 20) => {
            Ok(Shape::new(*t, *h, *w, 1))
        }
        _ => Err(LoadError::Option {
            option: "demo",
            msg: format!("'{s}': expected three sizes in 1..=1048576, demo:T,H,W"),
        }),
    }
}

/// Deterministic noise in [-1, 1) from a pixel address.
fn noise(t: usize, i: usize) -> f32 {
    let mut z = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 31;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 29;
    (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// One demo frame at time t as u8.
fn frame(shape: Shape, t: usize) -> Vec<u8> {
    let (h, w, n) = (shape.height as f32, shape.width as f32, shape.frames as f32);
    let phase = t as f32 / n.max(1.0);
    let flicker = if phase >= FLICKER.0 && phase < FLICKER.1 {
        45.0
    } else {
        0.0
    };
    // three blobs: one circling, one crossing left to right, one pulsing in place
    let a = phase * std::f32::consts::TAU;
    let blobs = [
        (
            0.5 * w + 0.3 * w * a.cos(),
            0.5 * h + 0.3 * h * a.sin(),
            0.05 * w,
            120.0,
        ),
        (w * (0.1 + 0.8 * phase), 0.75 * h, 0.035 * w, 90.0),
        (
            0.25 * w,
            0.25 * h,
            0.06 * w,
            60.0 * (0.5 + 0.5 * (4.0 * a).sin()),
        ),
    ];
    let mut out = Vec::with_capacity(shape.height * shape.width);
    for y in 0..shape.height {
        for x in 0..shape.width {
            let (xf, yf) = (x as f32, y as f32);
            // background: a gradient that slowly brightens over time
            let mut v = 30.0 + 25.0 * xf / w + 40.0 * phase;
            for &(bx, by, r, amp) in &blobs {
                let d2 = ((xf - bx).powi(2) + (yf - by).powi(2)) / (r * r);
                if d2 < 16.0 {
                    v += amp * (-0.5 * d2).exp();
                }
            }
            // a standing ring that envelopes can find
            let rr = ((xf - 0.7 * w).powi(2) + (yf - 0.3 * h).powi(2)).sqrt() / (0.08 * w);
            v += 25.0 * (-(rr - 1.0).powi(2) * 20.0).exp();
            v += flicker + 12.0 * noise(t, y * shape.width + x);
            out.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    out
}

pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let full = parse_size(path)?;
    let pipeline = FramePipeline::new(SrcDtype::U8, full.height, full.width, 1, opts)?;
    let sel = Selection::resolve(full.frames, opts)?;
    let (sel, report) = guard::apply(
        path,
        sel,
        (pipeline.frame_len() * pipeline.out.size()) as u64,
        budget,
    )?;
    Ok(Plan {
        path: path.to_path_buf(),
        kind: SourceKind::Demo,
        source_frames: full.frames,
        frames_exact: true,
        source_height: full.height,
        source_width: full.width,
        source_channels: 1,
        source_dtype: SrcDtype::U8,
        selection: sel,
        shape: Shape::new(sel.count(), pipeline.out_h, pipeline.out_w, 1),
        dtype: pipeline.out,
        mapped: false,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes: vec!["synthetic: moving blobs, a ring, noise, background drift, flicker".into()],
        fps: None,
        time_range: None,
        detail: Detail::Demo(pipeline),
    })
}

pub fn load(
    plan: &Plan,
    pipe: &FramePipeline,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    let full = parse_size(&plan.path)?;
    let sel = plan.selection;
    let count = sel.count();
    let mut buf = OutBuf::for_plan(plan, count)?;
    progress.start("generating demo", count as u64);
    buf.par_fill(
        count,
        plan.shape.frame_len(),
        1,
        || Ok(()),
        |_, k, slot| {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled(plan.path.clone()));
            }
            let raw = RawFrame {
                h: full.height,
                w: full.width,
                c: 1,
                data: RawData::U8(frame(full, sel.index(k))),
            };
            pipe.run(&plan.path, raw, slot)?;
            progress.advance(1);
            Ok(())
        },
    )?
    .into_iter()
    .collect::<Result<(), LoadError>>()?;
    let source = SourceInfo {
        frame_index: sel.indices().collect(),
        ..Default::default()
    };
    buf.into_stack(plan.shape, source)
}

/// The demo stack at a given size, with default options.
pub fn demo_stack(shape: Shape) -> Result<Stack, LoadError> {
    let name = format!("demo:{},{},{}", shape.frames, shape.height, shape.width);
    super::load(
        Path::new(&name),
        &LoadOptions::default(),
        &super::NoProgress,
    )
}
