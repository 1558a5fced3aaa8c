//! The engine layer: the GPU when an adapter exists, the CPU with a note otherwise, and
//! the CPU result (with a note) for operations the GPU has no kernel for. Results are
//! checked against the naive oracles of `common::naive`, so that without an adapter (the
//! CPU computes) they are not checked against the code that computed them.

mod common;

use blitz::Shape;
use blitz::engine::{Engine, EngineChoice, EngineKind};
use blitz::ops::FrameRange;
use blitz::ops::reduce::ReduceOp;
use common::{Kind, NORMALIZE_REL, REDUCE_REL, assert_all_close, blitz_with_env, naive, random};

/// Asserts that a result the GPU computes when an adapter exists came from the GPU, and
/// otherwise from the CPU with a note saying why.
fn assert_ran_on_gpu_if_any(ran: &blitz::engine::Ran, gpu: bool, what: &str) {
    if gpu {
        assert_eq!(ran.engine, EngineKind::Gpu, "{what}: {:?}", ran.note);
    } else {
        assert_eq!(ran.engine, EngineKind::Cpu, "{what}");
        assert!(ran.note.is_some(), "{what}: the CPU fallback says why");
    }
}

#[test]
fn cpu_engine_reduces_as_the_naive_oracle_and_says_cpu() {
    let s = random(Kind::U8, Shape::new(5, 7, 9, 1), 1);
    let e = Engine::new(EngineChoice::Cpu);
    let all = FrameRange::all(5);
    for op in [ReduceOp::Max, ReduceOp::Mean, ReduceOp::Median] {
        let (img, ran) = e.reduce(&s, op, all).unwrap();
        assert_eq!(ran.engine, EngineKind::Cpu);
        assert_eq!(ran.note, None);
        assert_eq!((img.height, img.width, img.channels), (7, 9, 1));
        assert_all_close(
            &img.data,
            &naive::reduce(&s, op, all),
            REDUCE_REL,
            op.name(),
        );
    }
    assert_eq!(e.describe(), "cpu");
}

#[test]
fn gpu_engine_reduces_every_op_on_the_gpu() {
    let test = "gpu_engine_reduces_every_op_on_the_gpu";
    let gpu = common::gpu(test).is_some();
    let s = random(Kind::U16, Shape::new(6, 5, 3, 1), 2);
    let e = Engine::new(EngineChoice::Gpu);
    let all = FrameRange::all(6);
    // u16 sums of 6 frames and u16 medians (halves) are exact in f32 on both engines
    for op in [ReduceOp::Sum, ReduceOp::Median] {
        let (img, ran) = e.reduce(&s, op, all).unwrap();
        assert_ran_on_gpu_if_any(&ran, gpu, op.name());
        let want: Vec<f32> = naive::reduce(&s, op, all)
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(img.data, want, "{op}");
    }
    // a bad range is the user's error on either engine
    assert!(e.reduce(&s, ReduceOp::Mean, FrameRange::new(2, 9)).is_err());
}

#[test]
fn auto_leaves_a_software_adapter_to_the_cpu() {
    let s = random(Kind::U8, Shape::new(3, 4, 4, 1), 3);
    let e = Engine::new(EngineChoice::Auto);
    let (_, ran) = e.reduce(&s, ReduceOp::Mean, FrameRange::all(3)).unwrap();
    match common::gpu("auto_leaves_a_software_adapter_to_the_cpu") {
        Some(d) if d.info().device_type == "Cpu" => {
            assert_eq!(ran.engine, EngineKind::Cpu);
            assert!(ran.note.unwrap().contains("software adapter"));
        }
        Some(_) => assert_eq!(ran.engine, EngineKind::Gpu),
        None => assert_eq!(ran.engine, EngineKind::Cpu),
    }
}

/// A backend this build has no support for: no adapter at all.
const NO_ADAPTER: [(&str, &str); 1] = [("WGPU_BACKEND", "metal")];

#[test]
fn without_any_adapter_the_cli_computes_on_the_cpu_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.npy");
    let args = [
        "reduce",
        "demo:4,8,8",
        "--op",
        "mean",
        "--engine",
        "gpu",
        "-o",
    ];
    let mut args = args.to_vec();
    args.push(out.to_str().unwrap());
    let res = blitz_with_env(&args, &NO_ADAPTER);
    let err = common::stderr(&res);
    let stdout = common::stdout(&res);
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
    let res = common::ok(&[
        "bench", "--frames", "12", "--height", "8", "--width", "9", "--repeat", "1", "--json",
        "--engine", "gpu",
    ]);
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
    // every row names its engine as the text "cpu" or "gpu"
    assert!(
        rows.iter()
            .all(|r| r["engine"] == "cpu" || r["engine"] == "gpu")
    );
    if common::gpu("bench_json_has_cpu_rows_and_gpu_rows_resident_and_with_transfer").is_some() {
        assert_eq!(
            ops("gpu"),
            vec![
                "mean",
                "max",
                "min",
                "std",
                "median",
                "sum",
                "ceiling_copy_d2d",
                "ceiling_upload_h2d",
                "subtract_range_mean",
                "sliding_mean_w10",
                "roi_series_mean",
            ]
        );
        for r in rows.iter().filter(|r| r["engine"] == "gpu") {
            let op = r["op"].as_str().unwrap();
            assert!(r["gbps"].as_f64().unwrap() > 0.0, "{op}");
            if op.starts_with("ceiling") {
                // the ceilings: one measurement of the bytes they moved
                assert!(r["seconds"].as_f64().unwrap() > 0.0, "{op}");
                assert!(r["bytes"].as_u64().unwrap() > 0, "{op}");
            } else {
                assert!(r["seconds_with_transfer"].as_f64().unwrap() > 0.0, "{op}");
            }
            if ["mean", "max", "min", "std", "median", "sum"].contains(&op) {
                assert!(r["seconds"].as_f64().unwrap() > 0.0, "{op}");
            }
        }
    }
}

#[test]
fn normalize_runs_on_the_gpu_when_it_can_and_on_the_cpu_when_it_cannot() {
    use blitz::ops::normalize::{Normalize, Source, Step};
    let gpu = common::gpu("normalize_runs_on_the_gpu_when_it_can_and_on_the_cpu_when_it_cannot");
    let s = random(Kind::U8, Shape::new(8, 4, 5, 1), 4);
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
    for op in [ReduceOp::Mean, ReduceOp::Max] {
        let (out, ran) = e.normalize(&s, &slide(op)).unwrap();
        // 8 frames, window 3 at lag 1: frames 0..=4
        assert_eq!(out.shape(), Shape::new(5, 4, 5, 1));
        let want = naive::subtract_sliding(&s, op, 3, 1);
        assert_all_close(
            out.as_slice::<f32>().unwrap(),
            &want,
            NORMALIZE_REL,
            op.name(),
        );
        assert_ran_on_gpu_if_any(&ran, gpu.is_some(), op.name());
    }
    // no GPU kernel for the sliding median: the CPU computes it and says so
    let (out, ran) = e.normalize(&s, &slide(ReduceOp::Median)).unwrap();
    let want = naive::subtract_sliding(&s, ReduceOp::Median, 3, 1);
    assert_all_close(
        out.as_slice::<f32>().unwrap(),
        &want,
        NORMALIZE_REL,
        "median",
    );
    assert_eq!(ran.engine, EngineKind::Cpu);
    if gpu.is_some() {
        assert!(ran.note.unwrap().contains("the sliding median"));
    }
}

#[test]
fn histograms_of_every_dtype_on_the_gpu() {
    let gpu = common::gpu("histograms_of_every_dtype_on_the_gpu").is_some();
    let e = Engine::new(EngineChoice::Gpu);
    let all = FrameRange::all(3);
    for (k, kind) in [Kind::U8, Kind::U16, Kind::F32].into_iter().enumerate() {
        let s = random(kind, Shape::new(3, 5, 7, 1), 5 + k as u32);
        let (h, ran) = e.histogram(&s, all, Some(64)).unwrap();
        let v = naive::finite(&s, all);
        let (lo, hi, counts) = naive::histogram_counts(kind, &v, 64);
        assert_eq!((h.lo, h.hi), (lo, hi), "{kind:?}");
        assert_eq!(h.counts, counts, "{kind:?}");
        assert_eq!(h.total, v.len() as u64);
        assert_ran_on_gpu_if_any(&ran, gpu, &format!("{kind:?}"));
    }
}

#[test]
fn kept_stack_reduces_on_the_gpu_and_follows_a_new_stack() {
    use std::sync::Arc;
    if common::gpu("kept_stack_reduces_on_the_gpu_and_follows_a_new_stack").is_none() {
        return;
    }
    let e = Engine::new(EngineChoice::Gpu);
    let exact = |s: &blitz::Stack, op, r| -> Vec<f32> {
        naive::reduce(s, op, r).iter().map(|&v| v as f32).collect()
    };
    let a = Arc::new(random(Kind::U16, Shape::new(9, 5, 7, 1), 8));
    for r in [
        FrameRange::new(0, 3),
        FrameRange::new(4, 8),
        FrameRange::new(2, 2),
    ] {
        let (img, ran) = e.reduce_kept(&a, ReduceOp::Sum, r).unwrap();
        assert_eq!(ran.engine, EngineKind::Gpu);
        assert_eq!(img.data, exact(&a, ReduceOp::Sum, r), "{r:?}");
    }
    // another stack of the same shape: uploaded again, not the old copy reused
    let v: Vec<u16> = (0..9 * 35).map(|i| (i * 13 % 1000) as u16).collect();
    let b = Arc::new(blitz::Stack::from_vec(Shape::new(9, 5, 7, 1), v).unwrap());
    drop(a);
    let all = FrameRange::all(9);
    let (img, _) = e.reduce_kept(&b, ReduceOp::Max, all).unwrap();
    assert_eq!(img.data, exact(&b, ReduceOp::Max, all));
}

#[test]
fn dataset_envelope_runs_on_the_gpu_for_min_max_and_on_the_cpu_for_percentiles() {
    use blitz::ops::profile::Orientation;
    let gpu =
        common::gpu("dataset_envelope_runs_on_the_gpu_for_min_max_and_on_the_cpu_for_percentiles");
    let e = Engine::new(EngineChoice::Gpu);
    let s = random(Kind::U8, Shape::new(6, 8, 10, 1), 9);
    let split = |v: Vec<(f64, f64)>| -> (Vec<f64>, Vec<f64>) { v.into_iter().unzip() };
    let (env, ran) = e.dataset_envelope(&s, Orientation::Col, 4, 1, 0).unwrap();
    let (lo, hi) = split(naive::dataset_env(&s, Orientation::Col, 4, 1, 0));
    // min and max of u8 samples: exact
    assert_all_close(&env.lo, &lo, 0.0, "min");
    assert_all_close(&env.hi, &hi, 0.0, "max");
    assert_ran_on_gpu_if_any(&ran, gpu.is_some(), "min/max");
    // percentiles have no GPU kernel: the CPU, with a note when the GPU was there
    let (env, ran) = e.dataset_envelope(&s, Orientation::Row, 2, 0, 5).unwrap();
    let (lo, hi) = split(naive::dataset_env(&s, Orientation::Row, 2, 0, 5));
    assert_all_close(&env.lo, &lo, REDUCE_REL, "5th percentile");
    assert_all_close(&env.hi, &hi, REDUCE_REL, "95th percentile");
    assert_eq!(ran.engine, EngineKind::Cpu);
    if gpu.is_some() {
        assert!(
            ran.note
                .as_deref()
                .is_some_and(|n| n.contains("percentile"))
        );
    }
}

#[test]
fn a_kept_gpu_copy_is_freed_once_its_stack_is_gone() {
    use std::sync::Arc;
    if common::gpu("a_kept_gpu_copy_is_freed_once_its_stack_is_gone").is_none() {
        return;
    }
    let e = Engine::new(EngineChoice::Gpu);
    let a = Arc::new(random(Kind::U8, Shape::new(4, 8, 8, 1), 10));
    e.reduce_kept(&a, ReduceOp::Mean, FrameRange::all(4))
        .unwrap();
    assert!(e.keeps_a_stack());
    drop(a);
    // any later engine call frees it
    let b = random(Kind::U8, Shape::new(2, 3, 3, 1), 11);
    e.reduce(&b, ReduceOp::Max, FrameRange::all(2)).unwrap();
    assert!(!e.keeps_a_stack());
}

#[test]
fn every_analysis_command_runs_on_the_cpu_without_an_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let (n, r, p, m) = (out("n.npy"), out("r.csv"), out("p.csv"), out("m.npy"));
    let d = "demo:6,8,8";
    let runs: Vec<Vec<&str>> = vec![
        vec!["normalize", d, "--subtract", "sliding:mean:2:0", "-o", &n],
        vec!["roi", d, "--rect", "1,1,4,4", "-o", &r],
        vec!["profile", d, "--row", "3", "--envelope", "0", "-o", &p],
        vec!["reduce", d, "--op", "median", "-o", &m],
    ];
    for mut args in runs {
        args.extend(["--engine", "gpu"]);
        let res = blitz_with_env(&args, &NO_ADAPTER);
        let err = common::stderr(&res);
        let stdout = common::stdout(&res);
        assert!(res.status.success(), "{}: {err}", args[0]);
        assert!(err.contains("no GPU adapter"), "{}: {err}", args[0]);
        assert!(stdout.contains("engine cpu"), "{}: {stdout}", args[0]);
    }
}
