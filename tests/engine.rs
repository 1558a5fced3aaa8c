//! The engine layer: the GPU when an adapter exists, the CPU with a note otherwise, and
//! the CPU result (with a note) for operations the GPU has no kernel for.

use std::process::Command;

use blitz::Shape;
use blitz::bench::random_stack;
use blitz::engine::{Engine, EngineChoice, EngineKind};
use blitz::ops::FrameRange;
use blitz::ops::reduce::{ReduceOp, reduce};

#[test]
fn cpu_engine_matches_the_reference_and_says_cpu() {
    let s = random_stack::<u8>(Shape::new(5, 7, 9, 1)).unwrap();
    let e = Engine::new(EngineChoice::Cpu);
    let (img, ran) = e.reduce(&s, ReduceOp::Max, FrameRange::all(5)).unwrap();
    assert_eq!(ran.engine, EngineKind::Cpu);
    assert_eq!(ran.note, None);
    assert_eq!(img, reduce(&s, ReduceOp::Max, FrameRange::all(5)).unwrap());
    assert_eq!(e.describe(), "cpu");
}

#[test]
fn gpu_engine_reduces_every_op_on_the_gpu() {
    let s = random_stack::<u16>(Shape::new(6, 5, 3, 1)).unwrap();
    let e = Engine::new(EngineChoice::Gpu);
    if let Some(why) = &e.fallback {
        eprintln!("SKIPPED: no GPU adapter ({why}); the CPU fallback is tested instead");
        let (_, ran) = e.reduce(&s, ReduceOp::Sum, FrameRange::all(6)).unwrap();
        assert_eq!(ran.engine, EngineKind::Cpu);
        assert!(ran.note.is_some());
        return;
    }
    let all = FrameRange::all(6);
    let (img, ran) = e.reduce(&s, ReduceOp::Sum, all).unwrap();
    assert_eq!(ran.engine, EngineKind::Gpu);
    // u16 sums of 6 frames are exact on both engines
    assert_eq!(img, reduce(&s, ReduceOp::Sum, all).unwrap());
    // the median has its own kernel: no fallback, and exact for u16
    let (img, ran) = e.reduce(&s, ReduceOp::Median, all).unwrap();
    assert_eq!(ran.engine, EngineKind::Gpu);
    assert_eq!(ran.note, None);
    assert_eq!(img, reduce(&s, ReduceOp::Median, all).unwrap());
    // a bad range is the user's error on either engine
    assert!(e.reduce(&s, ReduceOp::Mean, FrameRange::new(2, 9)).is_err());
}

#[test]
fn auto_leaves_a_software_adapter_to_the_cpu() {
    let s = random_stack::<u8>(Shape::new(3, 4, 4, 1)).unwrap();
    let e = Engine::new(EngineChoice::Auto);
    let (_, ran) = e.reduce(&s, ReduceOp::Mean, FrameRange::all(3)).unwrap();
    match blitz::gpu::GpuDevice::new() {
        Ok(d) if d.info().device_type == "Cpu" => {
            assert_eq!(ran.engine, EngineKind::Cpu);
            assert!(ran.note.unwrap().contains("software adapter"));
        }
        Ok(_) => assert_eq!(ran.engine, EngineKind::Gpu),
        Err(_) => assert_eq!(ran.engine, EngineKind::Cpu),
    }
}

#[test]
fn without_any_adapter_the_cli_computes_on_the_cpu_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.npy");
    let res = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args([
            "reduce",
            "demo:4,8,8",
            "--op",
            "mean",
            "--engine",
            "gpu",
            "-o",
        ])
        .arg(&out)
        // a backend this build has no support for: no adapter at all
        .env("WGPU_BACKEND", "metal")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{err}");
    assert!(
        err.contains("no GPU adapter") && err.contains("running on the CPU"),
        "{err}"
    );
    assert!(stdout.contains("engine cpu"), "{stdout}");
    assert!(out.exists());
}

#[test]
fn bench_json_has_cpu_rows_and_gpu_rows_resident_and_with_transfer() {
    let res = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(["bench", "--frames", "12", "--height", "8", "--width", "9"])
        .args(["--repeat", "1", "--json", "--engine", "gpu"])
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let ops = |engine: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["engine"] == engine)
            .map(|r| r["op"].as_str().unwrap().to_string())
            .collect()
    };
    for op in [
        "mean",
        "max",
        "min",
        "std",
        "median",
        "sum",
        "sliding_mean_w10",
    ] {
        assert!(ops("cpu").contains(&op.to_string()), "{op} missing");
    }
    for r in rows.iter().filter(|r| r["engine"] == "cpu") {
        assert!(r["seconds"].as_f64().unwrap() > 0.0 && r["gbps"].as_f64().unwrap() > 0.0);
    }
    if blitz::gpu::GpuDevice::new().is_ok() {
        assert_eq!(
            ops("gpu"),
            vec!["mean", "max", "min", "std", "median", "sum"]
        );
        for r in rows.iter().filter(|r| r["engine"] == "gpu") {
            assert!(r["seconds"].as_f64().unwrap() > 0.0);
            assert!(r["seconds_with_transfer"].as_f64().unwrap() > 0.0);
        }
    } else {
        eprintln!("SKIPPED: no GPU adapter; only the CPU rows were checked");
    }
}

#[test]
fn normalize_runs_on_the_gpu_when_it_can_and_on_the_cpu_when_it_cannot() {
    use blitz::ops::normalize::{Normalize, Source, Step};
    let s = random_stack::<u8>(Shape::new(8, 4, 5, 1)).unwrap();
    let slide = |op| Normalize {
        subtract: Some(Step {
            source: Source::Sliding {
                op,
                window: 3,
                lag: 1,
            },
            amount: 1.0,
        }),
        divide: None,
    };
    let e = Engine::new(EngineChoice::Gpu);
    let (out, ran) = e.normalize(&s, &slide(ReduceOp::Mean)).unwrap();
    let cpu = slide(ReduceOp::Mean).apply(&s).unwrap();
    assert_eq!(out.shape(), cpu.shape());
    for (a, b) in out
        .as_slice::<f32>()
        .unwrap()
        .iter()
        .zip(cpu.as_slice::<f32>().unwrap())
    {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }
    if e.fallback.is_none() {
        assert_eq!(ran.engine, EngineKind::Gpu);
        let (_, ran) = e.normalize(&s, &slide(ReduceOp::Max)).unwrap();
        assert_eq!(ran.engine, EngineKind::Gpu);
        let (_, ran) = e.normalize(&s, &slide(ReduceOp::Median)).unwrap();
        assert_eq!(ran.engine, EngineKind::Cpu);
        assert!(ran.note.unwrap().contains("the sliding median"));
    } else {
        eprintln!("SKIPPED: no GPU adapter; the CPU fallback was checked");
        assert_eq!(ran.engine, EngineKind::Cpu);
    }
}

#[test]
fn histograms_of_every_dtype_on_the_gpu() {
    use blitz::ops::histogram::histogram;
    let e = Engine::new(EngineChoice::Gpu);
    let s8 = random_stack::<u8>(Shape::new(3, 5, 7, 1)).unwrap();
    let s16 = random_stack::<u16>(Shape::new(3, 5, 7, 1)).unwrap();
    let s32 = random_stack::<f32>(Shape::new(3, 5, 7, 1)).unwrap();
    for s in [&s8, &s16, &s32] {
        let (h, ran) = e.histogram(s, FrameRange::all(3), Some(64)).unwrap();
        assert_eq!(h, histogram(s, FrameRange::all(3), Some(64)).unwrap());
        if e.fallback.is_none() {
            assert_eq!(ran.engine, EngineKind::Gpu, "{}", s.dtype());
        } else {
            assert_eq!(ran.engine, EngineKind::Cpu);
        }
    }
    if e.fallback.is_some() {
        eprintln!("SKIPPED: no GPU adapter; the CPU fallback was checked");
    }
}

#[test]
fn kept_stack_reduces_on_the_gpu_and_follows_a_new_stack() {
    use std::sync::Arc;
    let e = Engine::new(EngineChoice::Gpu);
    if let Some(why) = &e.fallback {
        eprintln!("SKIPPED: no GPU adapter ({why}); reduce_kept is the CPU reduce then");
        return;
    }
    let a = Arc::new(random_stack::<u16>(Shape::new(9, 5, 7, 1)).unwrap());
    for r in [
        FrameRange::new(0, 3),
        FrameRange::new(4, 8),
        FrameRange::new(2, 2),
    ] {
        let (img, ran) = e.reduce_kept(&a, ReduceOp::Sum, r).unwrap();
        assert_eq!(ran.engine, EngineKind::Gpu);
        assert_eq!(img, reduce(&a, ReduceOp::Sum, r).unwrap());
    }
    // another stack of the same shape: uploaded again, not the old copy reused
    let v: Vec<u16> = (0..9 * 35).map(|i| (i * 13 % 1000) as u16).collect();
    let b = Arc::new(blitz::Stack::from_vec(Shape::new(9, 5, 7, 1), v).unwrap());
    drop(a);
    let (img, _) = e
        .reduce_kept(&b, ReduceOp::Max, FrameRange::all(9))
        .unwrap();
    assert_eq!(img, reduce(&b, ReduceOp::Max, FrameRange::all(9)).unwrap());
}

#[test]
fn dataset_envelope_runs_on_the_gpu_for_min_max_and_on_the_cpu_for_percentiles() {
    use blitz::ops::profile::{Orientation, dataset_envelope};
    let e = Engine::new(EngineChoice::Gpu);
    let s = random_stack::<u8>(Shape::new(6, 8, 10, 1)).unwrap();
    let (env, ran) = e.dataset_envelope(&s, Orientation::Col, 4, 1, 0).unwrap();
    assert_eq!(
        env,
        dataset_envelope(&s, Orientation::Col, 4, 1, 0).unwrap()
    );
    if e.fallback.is_some() {
        eprintln!("SKIPPED: no GPU adapter; the CPU path was checked instead");
        assert_eq!(ran.engine, EngineKind::Cpu);
        return;
    }
    assert_eq!(ran.engine, EngineKind::Gpu);
    let (env, ran) = e.dataset_envelope(&s, Orientation::Row, 2, 0, 5).unwrap();
    assert_eq!(ran.engine, EngineKind::Cpu);
    assert!(
        ran.note
            .as_deref()
            .is_some_and(|n| n.contains("percentile"))
    );
    assert_eq!(
        env,
        dataset_envelope(&s, Orientation::Row, 2, 0, 5).unwrap()
    );
}

#[test]
fn a_kept_gpu_copy_is_freed_once_its_stack_is_gone() {
    use std::sync::Arc;
    let e = Engine::new(EngineChoice::Gpu);
    if e.fallback.is_some() {
        eprintln!("SKIPPED: no GPU adapter; nothing is kept on the CPU");
        return;
    }
    let a = Arc::new(random_stack::<u8>(Shape::new(4, 8, 8, 1)).unwrap());
    e.reduce_kept(&a, ReduceOp::Mean, FrameRange::all(4))
        .unwrap();
    assert!(e.keeps_a_stack());
    drop(a);
    // any later engine call frees it
    let b = random_stack::<u8>(Shape::new(2, 3, 3, 1)).unwrap();
    e.reduce(&b, ReduceOp::Max, FrameRange::all(2)).unwrap();
    assert!(!e.keeps_a_stack());
}

#[test]
fn every_analysis_command_runs_on_the_cpu_without_an_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let runs: Vec<Vec<String>> = vec![
        vec![
            "normalize".into(),
            "demo:6,8,8".into(),
            "--subtract".into(),
            "sliding:mean:2:0".into(),
            "-o".into(),
            out("n.npy"),
        ],
        vec![
            "roi".into(),
            "demo:6,8,8".into(),
            "--rect".into(),
            "1,1,4,4".into(),
            "-o".into(),
            out("r.csv"),
        ],
        vec![
            "profile".into(),
            "demo:6,8,8".into(),
            "--row".into(),
            "3".into(),
            "--envelope".into(),
            "0".into(),
            "-o".into(),
            out("p.csv"),
        ],
        vec![
            "reduce".into(),
            "demo:6,8,8".into(),
            "--op".into(),
            "median".into(),
            "-o".into(),
            out("m.npy"),
        ],
    ];
    for args in runs {
        let res = Command::new(env!("CARGO_BIN_EXE_blitz"))
            .args(&args)
            .args(["--engine", "gpu"])
            // a backend this build has no support for: no adapter at all
            .env("WGPU_BACKEND", "metal")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&res.stderr);
        let stdout = String::from_utf8_lossy(&res.stdout);
        assert!(res.status.success(), "{}: {err}", args[0]);
        assert!(err.contains("no GPU adapter"), "{}: {err}", args[0]);
        assert!(stdout.contains("engine cpu"), "{}: {stdout}", args[0]);
    }
}
