//! Exports from the viewer never write over the open source, replace an existing file
//! only when the user agreed, and default to names that say what they hold.

use std::path::Path;
use std::sync::Arc;

use blitz::engine::{Engine, EngineChoice};
use blitz::ops::FrameRange;
use blitz::ops::reduce::ReduceOp;
use blitz::viewer::state::pipeline::Aggregate;
use blitz::viewer::state::{ExportDialog, ExportKind, LoadJob, ViewerState};
use blitz::{LoadOptions, Shape, Stack};

fn viewer(path: &Path) -> ViewerState {
    let e = Arc::new(Engine::new(EngineChoice::Cpu));
    let loaded = LoadJob::start(path, LoadOptions::default(), e.clone())
        .wait()
        .unwrap();
    ViewerState::new(loaded, LoadOptions::default(), e, "none".into())
}

fn dialog(kind: ExportKind, path: &Path) -> ExportDialog {
    ExportDialog {
        kind,
        path: path.display().to_string(),
        first: 0,
        last: 3,
        ext: "png",
        replace: false,
    }
}

#[test]
fn the_open_source_is_never_overwritten_and_existing_files_need_consent() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.npy");
    let s = Stack::from_vec(Shape::new(4, 8, 8, 1), (0..256u16).collect()).unwrap();
    blitz::export::write_npy(&rec, &s).unwrap();
    let original = std::fs::read(&rec).unwrap();
    let mut v = viewer(&rec);

    // the source's own path, even when agreed to replace and spelled another way
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    for kind in [ExportKind::Stack, ExportKind::Frame] {
        let mut d = dialog(kind, &dir.path().join("sub/../rec.npy"));
        d.replace = true;
        let e = v.start_export(&d).unwrap_err().to_string();
        assert!(e.contains("open source"), "{e}");
        v.wait_jobs();
        assert_eq!(std::fs::read(&rec).unwrap(), original, "{kind:?}");
    }

    // an existing file: refused until replacing is agreed
    let other = dir.path().join("other.npy");
    std::fs::write(&other, b"keep me").unwrap();
    let mut d = dialog(ExportKind::Stack, &other);
    assert_eq!(d.existing(), vec![other.clone()]);
    let e = v.start_export(&d).unwrap_err().to_string();
    assert!(e.contains("exists"), "{e}");
    v.wait_jobs();
    assert_eq!(std::fs::read(&other).unwrap(), b"keep me");
    d.replace = true;
    v.start_export(&d).unwrap();
    v.wait_jobs();
    assert!(v.error.is_none(), "{:?}", v.error);
    assert_eq!(std::fs::read(&other).unwrap(), original, "the same stack");

    // a frame range over existing numbered files asks too
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    std::fs::write(frames.join("frame_002.png"), b"old").unwrap();
    let d = dialog(ExportKind::Range, &frames);
    let e = v.start_export(&d).unwrap_err().to_string();
    assert!(e.contains("exists"), "{e}");
    assert_eq!(std::fs::read(frames.join("frame_002.png")).unwrap(), b"old");
}

#[test]
fn default_export_names_say_what_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.npy");
    let s = Stack::from_vec(Shape::new(256, 4, 4, 1), vec![7u8; 256 * 16]).unwrap();
    blitz::export::write_npy(&rec, &s).unwrap();
    let mut v = viewer(&rec);
    assert_eq!(
        v.default_export_name(ExportKind::Stack),
        "rec_stack_0-255.npy"
    );
    assert_eq!(v.default_export_name(ExportKind::Roi), "rec_roi_0-255.csv");
    v.set_frame(12);
    assert_eq!(v.default_export_name(ExportKind::Frame), "rec_frame_12.png");
    v.pipeline.aggregate = Some(Aggregate {
        op: ReduceOp::Std,
        range: FrameRange::new(0, 255),
        fixed_width: false,
    });
    assert_eq!(
        v.default_export_name(ExportKind::Stack),
        "rec_std_0-255.npy"
    );
    v.begin_export(ExportKind::Stack);
    let d = v.exports.dialog.as_ref().unwrap();
    assert_eq!(Path::new(&d.path), dir.path().join("rec_std_0-255.npy"));
    assert!(!d.replace);
}

#[test]
fn csv_exports_say_what_produced_them_with_source_frames_and_times() {
    use blitz::ops::roi::Roi;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.npy");
    let s = Stack::from_vec(Shape::new(4, 8, 8, 1), (0..256u16).collect()).unwrap();
    blitz::export::write_npy(&rec, &s).unwrap();
    let e = Arc::new(Engine::new(EngineChoice::Cpu));
    let mut loaded = LoadJob::start(&rec, LoadOptions::default(), e.clone())
        .wait()
        .unwrap();
    // as a loader with --step 10 from a 1000 fps recording would describe it
    let mut src = loaded.stack.source.clone();
    src.frame_index = vec![100, 110, 120, 130];
    src.fps = Some(1000.0);
    loaded.stack = loaded.stack.with_source(src);
    let mut v = ViewerState::new(loaded, LoadOptions::default(), e, "none".into());
    assert_eq!(v.source_frame(2), 120);
    assert_eq!(v.frame_time(2), Some(0.12));
    v.roi.region = Some(Roi::Rect {
        x: 1,
        y: 2,
        w: 3,
        h: 2,
    });
    v.compute_roi();
    v.wait_jobs();
    let out = dir.path().join("roi.csv");
    v.export_roi(&out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let comments: Vec<&str> = text.lines().filter(|l| l.starts_with("# ")).collect();
    let all = comments.join("\n");
    assert!(all.contains("rec.npy"), "{all}");
    assert!(all.contains("source frames 100-130"), "{all}");
    assert!(all.contains("Rect"), "{all}");
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows[0], "frame,source_frame,time_s,value,min,max");
    let third: Vec<&str> = rows[3].split(',').collect();
    assert_eq!(&third[..3], ["2", "120", "0.12"]);
}
