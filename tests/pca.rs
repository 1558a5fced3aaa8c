//! PCA of the frames against the textbook route (`common::naive::pca`: Gram matrix,
//! power iteration, deflation): the variances, the component images (up to sign, which
//! blitz fixes by the largest sample), the scores; exact on few frames, randomized on
//! many with a clear spectrum, the same on a mapped stack as in RAM, and the frames
//! rebuilt from every component. Bad k is refused with a message. The GPU passes
//! (`gpu::pca`, f32 products) give the CPU's result on lavapipe.

mod common;

use blitz::ops::pca::{PcaMethod, pca, pca_watched};
use blitz::ops::{FrameRange, OpError};
use blitz::{NoProgress, Shape, Stack};

/// `t` frames of `h` x `w`: three patterns with amplitudes of clearly different sizes
/// varying over time, plus a small deterministic noise.
fn patterned(t: usize, h: usize, w: usize) -> Stack {
    let n = h * w;
    let mut data = Vec::with_capacity(t * n);
    for f in 0..t {
        let ft = f as f32;
        let a = [
            40.0 * (ft * 0.31).sin(),
            15.0 * (ft * 0.17 + 1.0).cos(),
            5.0 * ((ft * 0.53).sin() * (ft * 0.07).cos()),
        ];
        for i in 0..n {
            let (y, x) = ((i / w) as f32, (i % w) as f32);
            let p = [
                (x / w as f32 - 0.5) * 2.0,
                ((y * 0.4).sin()) * 1.5,
                if (x as usize + y as usize).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                },
            ];
            let noise = (((i * 7919 + f * 104729) % 1000) as f32 / 1000.0 - 0.5) * 0.2;
            data.push(100.0 + a[0] * p[0] + a[1] * p[1] + a[2] * p[2] + noise);
        }
    }
    Stack::from_vec(Shape::new(t, h, w, 1), data).unwrap()
}

fn dot(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum()
}

/// Checks blitz's result against the naive one, component by component.
fn check(s: &Stack, k: usize, range: FrameRange, method: PcaMethod, cos_min: f64, what: &str) {
    let got = pca(s, k, range, method).unwrap();
    let (vars, comps, scores) = common::naive::pca(s, k, range);
    assert_eq!(got.k(), k, "{what}");
    for j in 0..k {
        assert!(
            common::close(got.variance[j], vars[j], 1e-4),
            "{what}: variance {j}: {} vs {}",
            got.variance[j],
            vars[j]
        );
        // same direction up to sign; blitz's sign makes its largest sample positive
        let c = dot(&got.components[j].data, &comps[j]);
        assert!(c.abs() >= cos_min, "{what}: component {j}: cos {c}");
        let sign = c.signum();
        let peak = got.components[j]
            .data
            .iter()
            .fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        assert!(peak > 0.0, "{what}: component {j} sign");
        for (t, naive) in scores[j].iter().enumerate() {
            let want = sign * naive;
            let g = got.score(t, j) as f64;
            assert!(
                (g - want).abs() <= 1e-3 * (1.0 + want.abs()) + 1e-3 * vars[0].sqrt(),
                "{what}: score of frame {t} on {j}: {g} vs {want}"
            );
        }
    }
    let total: f64 = got.ratio.iter().sum();
    assert!(
        total <= 1.0 + 1e-9 && total > 0.0,
        "{what}: ratios sum {total}"
    );
}

#[test]
fn exact_pca_matches_the_textbook_route() {
    let s = patterned(24, 9, 11);
    check(
        &s,
        3,
        FrameRange::all(24),
        PcaMethod::Exact,
        1.0 - 1e-6,
        "exact",
    );
    // a range of frames, and u8 / u16 samples (the mean is removed in f64)
    check(
        &s,
        2,
        FrameRange::new(5, 20),
        PcaMethod::Auto,
        1.0 - 1e-6,
        "range",
    );
    let u16s = Stack::from_vec(
        Shape::new(24, 9, 11, 1),
        s.as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|v| (v * 100.0) as u16)
            .collect::<Vec<u16>>(),
    )
    .unwrap();
    check(
        &u16s,
        3,
        FrameRange::all(24),
        PcaMethod::Exact,
        1.0 - 1e-6,
        "u16",
    );
}

#[test]
fn randomized_pca_finds_the_same_components_on_many_frames() {
    let s = patterned(260, 12, 10);
    let got = pca(&s, 3, FrameRange::all(260), PcaMethod::Auto).unwrap();
    assert!(got.method.starts_with("randomized"), "{}", got.method);
    check(
        &s,
        3,
        FrameRange::all(260),
        PcaMethod::Randomized {
            power_iterations: 2,
        },
        1.0 - 1e-6,
        "randomized",
    );
    // three patterns hold nearly all the variance
    assert!(got.ratio.iter().sum::<f64>() > 0.99, "{:?}", got.ratio);
}

#[test]
fn every_component_rebuilds_the_frames() {
    let s = common::random(common::Kind::U8, Shape::new(7, 5, 6, 3), 11);
    let got = pca(&s, 6, FrameRange::all(7), PcaMethod::Exact).unwrap();
    for t in 0..7 {
        let img = got.reconstruct(t, 6);
        let f = s.frame(t);
        for (i, v) in img.data.iter().enumerate() {
            assert!((v - f.get_f32(i)).abs() < 1e-2, "frame {t} sample {i}: {v}");
        }
    }
    // no component: the mean frame
    let mean = got.reconstruct(3, 0);
    let want: f32 = (0..7).map(|t| s.frame(t).get_f32(0)).sum::<f32>() / 7.0;
    assert!((mean.data[0] - want).abs() < 1e-4);
}

#[test]
fn a_mapped_stack_gives_what_the_stack_in_ram_gives() {
    let s = patterned(30, 8, 8);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.npy");
    blitz::export::write_npy(&p, &s).unwrap();
    let mapped = blitz::load(&p, &Default::default(), &NoProgress).unwrap();
    assert!(mapped.is_mapped());
    let a = pca(&s, 2, FrameRange::all(30), PcaMethod::Exact).unwrap();
    let b = pca(&mapped, 2, FrameRange::all(30), PcaMethod::Exact).unwrap();
    assert_eq!(a.components[0].data, b.components[0].data);
    assert_eq!(a.scores, b.scores);
}

#[test]
fn bad_k_and_a_cancel_are_errors_with_a_message() {
    let s = patterned(10, 4, 4);
    let e = pca(&s, 10, FrameRange::all(10), PcaMethod::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.contains("k = 10") && e.contains("9 components"), "{e}");
    let e = pca(&s, 0, FrameRange::all(10), PcaMethod::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one"), "{e}");
    assert!(pca(&s, 2, FrameRange::new(3, 12), PcaMethod::Auto).is_err());
    struct Stop;
    impl blitz::load::Progress for Stop {
        fn is_cancelled(&self) -> bool {
            true
        }
    }
    let r = pca_watched(&s, 2, FrameRange::all(10), PcaMethod::Auto, &Stop);
    assert!(matches!(r, Err(OpError::Cancelled)));
}

/// The GPU's PCA against the CPU's: the same variances (to f32 sums' precision), the
/// same component directions and signs, the same scores.
fn check_gpu(g: &blitz::gpu::GpuDevice, s: &Stack, k: usize, method: PcaMethod, what: &str) {
    check_gpu_first(g, s, (k, k), method, what)
}

/// [`check_gpu`] for `k` components of which the first `compare` (those above the
/// noise, whose directions are defined) are compared.
fn check_gpu_first(
    g: &blitz::gpu::GpuDevice,
    s: &Stack,
    (k, compare): (usize, usize),
    method: PcaMethod,
    what: &str,
) {
    let range = FrameRange::all(s.shape().frames);
    let cpu = pca(s, k, range, method).unwrap();
    let got = blitz::gpu::pca::GpuPca::new(g)
        .unwrap()
        .pca(s, k, range, method, &NoProgress)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(got.method, cpu.method, "{what}");
    assert_eq!(
        got.mean.data, cpu.mean.data,
        "{what}: the mean frame is the CPU's"
    );
    assert_eq!(got.k(), k, "{what}");
    for j in 0..compare {
        assert!(
            common::close_rel(got.variance[j], cpu.variance[j], 1e-3),
            "{what}: variance {j}: {} vs {}",
            got.variance[j],
            cpu.variance[j]
        );
        let want: Vec<f64> = cpu.components[j].data.iter().map(|&v| v as f64).collect();
        let c = dot(&got.components[j].data, &want);
        assert!(c >= 1.0 - 1e-4, "{what}: component {j}: cos {c}");
        let scale = cpu.variance[0].sqrt();
        for t in 0..range.len() {
            let (a, b) = (got.score(t, j) as f64, cpu.score(t, j) as f64);
            assert!(
                (a - b).abs() <= 2e-3 * scale,
                "{what}: score of frame {t} on {j}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn gpu_passes_give_the_cpu_pca() {
    let Some(g) = common::gpu("gpu_passes_give_the_cpu_pca") else {
        return;
    };
    let s = patterned(24, 9, 11);
    check_gpu(&g, &s, 3, PcaMethod::Exact, "exact f32");
    // u8 samples, and NaN (taken as the mean, as on the CPU)
    let u8s = Stack::from_vec(
        Shape::new(24, 9, 11, 1),
        s.as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|v| (v - 40.0) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    check_gpu(&g, &u8s, 3, PcaMethod::Exact, "exact u8");
    let mut v = s.as_slice::<f32>().unwrap().to_vec();
    for i in (0..v.len()).step_by(37) {
        v[i] = f32::NAN;
    }
    let nans = Stack::from_vec(Shape::new(24, 9, 11, 1), v).unwrap();
    check_gpu(&g, &nans, 2, PcaMethod::Exact, "exact with NaN");
    // many frames, randomized, two frames per chunk: chunk borders are crossed
    let many = patterned(260, 12, 10);
    let two = g.clone().with_chunk_limit(2 * 12 * 10 * 4);
    let randomized = PcaMethod::Randomized {
        power_iterations: 2,
    };
    check_gpu(&two, &many, 3, randomized, "randomized in chunks");
    // 100 directions: the products run in blocks of 64 columns
    check_gpu(
        &g,
        &patterned(100, 6, 7),
        3,
        PcaMethod::Exact,
        "exact, 100 columns",
    );
    // 56 components: a sketch of 66 directions, two blocks of sign columns and power
    // iterations over 64 + 2 columns (the noise components are compared no further
    // than the three patterns)
    check_gpu_first(&g, &many, (56, 3), randomized, "randomized, 66 columns");
    // frames over one workgroup's block of 16 384 samples
    check_gpu(
        &g,
        &patterned(12, 130, 130),
        2,
        PcaMethod::Exact,
        "large frames",
    );
}

#[test]
fn the_engine_runs_the_pca_on_the_gpu_and_stops_when_cancelled() {
    let Some(g) = common::gpu("the_engine_runs_the_pca_on_the_gpu_and_stops_when_cancelled") else {
        return;
    };
    use blitz::engine::{Engine, EngineChoice, EngineKind};
    let engine = Engine::with_device(Ok(g), EngineChoice::Gpu);
    let s = patterned(20, 6, 6);
    let (p, ran) = engine
        .pca_watched(&s, 2, FrameRange::all(20), PcaMethod::Auto, &NoProgress)
        .unwrap();
    assert_eq!(ran.engine, EngineKind::Gpu);
    assert_eq!(p.k(), 2);
    // bad k is the user's error, said as on the CPU, not retried there
    let e = engine
        .pca_watched(&s, 20, FrameRange::all(20), PcaMethod::Auto, &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("k = 20"), "{e}");
    struct Stop;
    impl blitz::load::Progress for Stop {
        fn is_cancelled(&self) -> bool {
            true
        }
    }
    // frames that do not vary have no component: said, on either engine
    let flat = Stack::from_vec(Shape::new(6, 4, 4, 1), vec![7u8; 96]).unwrap();
    for e in [&engine, &Engine::new(EngineChoice::Cpu)] {
        let err = e
            .pca_watched(&flat, 2, FrameRange::all(6), PcaMethod::Auto, &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("do not vary"), "{err}");
    }
    let r = engine.pca_watched(&s, 2, FrameRange::all(20), PcaMethod::Auto, &Stop);
    assert!(
        matches!(r, Err(OpError::Cancelled)),
        "{:?}",
        r.map(|p| p.0.k())
    );
}
