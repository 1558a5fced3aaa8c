//! The GPU's chunk loop over a memory-mapped `.npy` (read ahead and dropped behind as it
//! streams): every streaming kernel gives bit for bit what it gives on the same stack in
//! RAM, in one chunk and in chunks of five frames (normalization in runs of one or two
//! output frames with the frames their windows reach), for frames of an odd byte count
//! (u8 words straddle frames) and for u16 and f32. Without any GPU adapter the test
//! says SKIPPED and passes.

use blitz::bench::random_stack;
use blitz::export::write_npy;
use blitz::gpu::normalize::GpuNormalize;
use blitz::gpu::profile::GpuProfile;
use blitz::gpu::reduce::GpuReduce;
use blitz::gpu::roi::GpuRoi;
use blitz::gpu::{GpuDevice, GpuError};
use blitz::load::{LoadOptions, NoProgress, load};
use blitz::ops::FrameRange;
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::profile::Orientation;
use blitz::ops::reduce::ReduceOp;
use blitz::ops::roi::{Roi, Stat};
use blitz::{Shape, Stack};

fn gpu(test: &str) -> Option<GpuDevice> {
    match GpuDevice::new() {
        Ok(g) => Some(g),
        Err(GpuError::NoAdapter(why)) => {
            eprintln!("SKIPPED: no GPU adapter ({why}); {test} did not run");
            None
        }
        Err(e) => panic!("GPU adapter found but the device failed to open: {e}"),
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every streaming kernel on `a` and `b` (the same samples) gives the same bits.
fn same_results(g: &GpuDevice, a: &Stack, b: &Stack, what: &str) {
    let t = a.shape().frames;
    let reduce = GpuReduce::new(g).unwrap();
    let resident = (reduce.upload(a).unwrap(), reduce.upload(b).unwrap());
    for op in ReduceOp::ALL {
        for r in [FrameRange::all(t), FrameRange::new(1, t - 2)] {
            let ctx = format!("{what} {op} {r:?}");
            let x = reduce.reduce(a, op, r).unwrap().data;
            let y = reduce.reduce(b, op, r).unwrap().data;
            assert_eq!(bits(&x), bits(&y), "{ctx}");
            let z = reduce.reduce_resident(&resident.1, op, r).unwrap().data;
            assert_eq!(bits(&x), bits(&z), "{ctx} resident");
            let w = reduce.reduce_resident(&resident.0, op, r).unwrap().data;
            assert_eq!(bits(&x), bits(&w), "{ctx} resident");
        }
    }
    let roi = GpuRoi::new(g).unwrap();
    let rect = Roi::Rect {
        x: 1,
        y: 0,
        w: 3,
        h: 2,
    };
    let r = FrameRange::new(1, t - 1);
    let (x, y) = (
        roi.series(a, &rect, Stat::Mean, r).unwrap(),
        roi.series(b, &rect, Stat::Mean, r).unwrap(),
    );
    assert_eq!(bits(&x.value), bits(&y.value), "{what} roi");
    assert_eq!(bits(&x.min), bits(&y.min), "{what} roi min");
    assert_eq!(bits(&x.max), bits(&y.max), "{what} roi max");
    let profile = GpuProfile::new(g).unwrap();
    for orient in [Orientation::Row, Orientation::Col] {
        let x = profile.dataset_envelope(a, orient, 1, 1, 0).unwrap();
        let y = profile.dataset_envelope(b, orient, 1, 1, 0).unwrap();
        assert_eq!(bits(&x.lo), bits(&y.lo), "{what} profile {orient:?}");
        assert_eq!(bits(&x.hi), bits(&y.hi), "{what} profile {orient:?}");
    }
    let normalize = GpuNormalize::new(g).unwrap();
    let sliding = |op, window, lag| Source::Sliding { op, window, lag };
    for n in [
        Normalize {
            subtract: Some(Step {
                source: sliding(ReduceOp::Mean, 3, 1),
                amount: 1.0,
            }),
            divide: Some(Step {
                source: sliding(ReduceOp::Max, 2, 0),
                amount: 0.5,
            }),
        },
        Normalize {
            subtract: Some(Step {
                source: Source::Range {
                    op: ReduceOp::Median,
                    range: FrameRange::new(0, 3),
                },
                amount: 1.0,
            }),
            divide: None,
        },
    ] {
        let x = normalize
            .apply(&n, a, &reduce)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let y = normalize.apply(&n, b, &reduce).unwrap();
        assert_eq!(x.shape(), y.shape(), "{what} normalize");
        let (x, y) = (x.as_slice::<f32>().unwrap(), y.as_slice::<f32>().unwrap());
        assert_eq!(bits(x), bits(y), "{what} normalize {n:?}");
    }
}

#[test]
fn a_mapped_stack_streams_to_the_gpu_with_the_results_it_has_in_ram() {
    let Some(g) = gpu("a_mapped_stack_streams_to_the_gpu_with_the_results_it_has_in_ram") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    // 3 x 5 u8 frames: 15 bytes, so words straddle frames
    let shape = Shape::new(9, 3, 5, 1);
    for ram in [
        random_stack::<u8>(shape).unwrap(),
        random_stack::<u16>(shape).unwrap(),
        random_stack::<f32>(shape).unwrap(),
    ] {
        let p = d.path().join(format!("{}.npy", ram.dtype()));
        write_npy(&p, &ram).unwrap();
        let mapped = load(&p, &LoadOptions::default(), &NoProgress).unwrap();
        assert!(mapped.is_mapped());
        let frame = (shape.frame_len() * ram.dtype().size()) as u64;
        for (g, chunks) in [
            (g.clone(), "one chunk"),
            (
                g.clone().with_chunk_limit(5 * frame + 1),
                "chunks of five frames",
            ),
        ] {
            let what = format!("{} {chunks}", ram.dtype());
            same_results(&g, &mapped, &ram, &what);
        }
    }
}
