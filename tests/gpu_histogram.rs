//! GPU histogram against the CPU reference (`ops::histogram`) on lavapipe: exact counts
//! for u8 stacks of any length and chunking; other dtypes left to the CPU.

use blitz::bench::random_stack;
use blitz::gpu::histogram::GpuHistogram;
use blitz::gpu::{GpuDevice, GpuError};
use blitz::ops::FrameRange;
use blitz::ops::histogram::histogram;
use blitz::{Shape, Stack};

fn device(test: &str) -> Option<GpuDevice> {
    match GpuDevice::new() {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("SKIPPED: no GPU adapter ({e}); {test} did not run");
            None
        }
    }
}

#[test]
fn u8_counts_are_exact_across_chunks_and_odd_lengths() {
    let Some(g) = device("u8_counts_are_exact_across_chunks_and_odd_lengths") else {
        return;
    };
    // a run of one value on top of random data: many atomics on one bin
    let skewed = Stack::from_vec(
        Shape::new(3, 7, 9, 1),
        (0..189)
            .map(|i| {
                if i % 3 == 0 {
                    200
                } else {
                    (i * 37 % 256) as u8
                }
            })
            .collect(),
    )
    .unwrap();
    for s in [
        random_stack::<u8>(Shape::new(5, 13, 7, 1)).unwrap(),
        random_stack::<u8>(Shape::new(4, 3, 5, 3)).unwrap(),
        random_stack::<u8>(Shape::new(1, 1, 1, 1)).unwrap(),
        skewed,
    ] {
        let t = s.shape().frames;
        for gpu in [g.clone(), g.clone().with_chunk_limit(10)] {
            let k = GpuHistogram::new(&gpu).unwrap();
            for r in [FrameRange::all(t), FrameRange::new(t - 1, t - 1)] {
                let cpu = histogram(&s, r, None).unwrap();
                let got = k.histogram(&s, r).unwrap();
                assert_eq!(got.counts, cpu.counts, "{} {r:?}", s.shape());
                assert_eq!(
                    (got.lo, got.hi, got.total, got.exact),
                    (cpu.lo, cpu.hi, cpu.total, cpu.exact)
                );
            }
        }
    }
}

#[test]
fn other_dtypes_are_left_to_the_cpu() {
    let Some(g) = device("other_dtypes_are_left_to_the_cpu") else {
        return;
    };
    let k = GpuHistogram::new(&g).unwrap();
    let s = random_stack::<u16>(Shape::new(2, 2, 2, 1)).unwrap();
    assert!(matches!(
        k.histogram(&s, FrameRange::all(2)),
        Err(GpuError::Unsupported(_))
    ));
}
