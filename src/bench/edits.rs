//! `blitz bench --edits`: the viewer's edits of the whole stack (flip, rotate, crop to a
//! ROI, timeline crop, apply to full, undo) as the viewer makes them, timed on the UI
//! thread (until the call returns: what freezes the window) and until the result is in
//! (background jobs included). Rows "copy" time the copy the viewer made on the UI
//! thread before flips and turns became a view, on the same stack.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::engine::{Engine, EngineChoice};
use crate::load::LoadOptions;
use crate::ops::reduce::ReduceOp;
use crate::ops::{FrameRange, transform};
use crate::stack::Stack;
use crate::viewer::state::pipeline::SourceKind;
use crate::viewer::state::{Loaded, ViewerState};

/// One edit: seconds on the UI thread and until the new stack is shown.
#[derive(Clone, Debug, Serialize)]
pub struct EditRow {
    pub edit: String,
    pub ui_seconds: f64,
    pub total_seconds: f64,
    /// Bytes of the displayed stack after the edit.
    pub stack_bytes: u64,
}

/// Times `edit` on `v`: the call, then the jobs it started.
fn timed(v: &mut ViewerState, name: &str, edit: impl FnOnce(&mut ViewerState)) -> EditRow {
    let t0 = Instant::now();
    edit(v);
    let ui = t0.elapsed().as_secs_f64();
    v.wait_jobs();
    // a refused edit (too little RAM) is no timing: say so in the row
    let name = match v.error.take() {
        Some(e) => format!("{name}: refused ({})", e.lines().next().unwrap_or("")),
        None => name.to_string(),
    };
    EditRow {
        edit: name,
        ui_seconds: ui,
        total_seconds: t0.elapsed().as_secs_f64(),
        stack_bytes: v.pipeline.stack.bytes(),
    }
}

/// Times a copy of the whole stack as the viewer made it on the UI thread before.
fn copy_row(name: &str, stack: &Stack, copy: impl FnOnce(&Stack) -> Stack) -> EditRow {
    let t0 = Instant::now();
    let out = copy(stack);
    let s = t0.elapsed().as_secs_f64();
    EditRow {
        edit: name.to_string(),
        ui_seconds: s,
        total_seconds: s,
        stack_bytes: out.bytes(),
    }
}

/// Every edit on a viewer of `stack` computing on the CPU engine, in the order a user
/// might make them; each starts from the state the one before left.
pub fn run_edits(stack: Stack) -> Result<Vec<EditRow>, String> {
    let sh = stack.shape();
    let loaded = Loaded {
        path: "bench".into(),
        stack,
        histogram: None,
        seconds: 0.0,
    };
    let engine = Arc::new(Engine::new(EngineChoice::Cpu));
    let mut v = ViewerState::new(loaded, LoadOptions::default(), engine, "none".into());
    // without a window nothing else limits them: the checks against RAM still apply
    v.wait_jobs();
    let raw = v.pipeline.raw.clone();
    let mut rows = vec![
        copy_row("flip x, copy (before)", &raw, transform::flip_x),
        copy_row("rotate 90, copy (before)", &raw, transform::rotate90_cw),
    ];
    rows.push(timed(&mut v, "flip x (a view)", |v| v.toggle_flip_x()));
    rows.push(timed(&mut v, "rotate 90 (a view)", |v| v.rotate90()));
    rows.push(timed(&mut v, "undo the turn (Ctrl+Z)", |v| v.undo()));
    rows.push(timed(&mut v, "undo the flip (Ctrl+Z)", |v| v.undo()));
    let (w, h) = (sh.width / 2, sh.height / 2);
    rows.push(timed(&mut v, "crop to a ROI of half the frame", |v| {
        v.crop_to_rect((sh.width / 4) as i64, (sh.height / 4) as i64, w, h)
    }));
    rows.push(timed(&mut v, "undo the crop (Ctrl+Z)", |v| v.undo()));
    rows.push(timed(&mut v, "timeline crop to half the frames", |v| {
        v.crop_timeline(FrameRange::new(0, (sh.frames / 2).max(1) - 1))
    }));
    v.pipeline.ops.subtract.kind = SourceKind::Range;
    v.pipeline.ops.subtract.op = ReduceOp::Mean;
    v.ops_changed();
    rows.push(timed(&mut v, "apply to full: subtract the mean", |v| {
        v.start_apply()
    }));
    Ok(rows)
}
