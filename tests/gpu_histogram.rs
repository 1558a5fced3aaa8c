//! GPU histogram against the CPU reference (`ops::histogram`) on lavapipe: exact counts
//! for u8, u16 and f32 stacks of any length and chunking.

mod common;

use blitz::gpu::GpuError;
use blitz::gpu::histogram::GpuHistogram;
use blitz::ops::FrameRange;
use blitz::ops::histogram::histogram;
use blitz::{Shape, Stack};
use common::{Kind, gpu, random};

#[test]
fn u8_counts_are_exact_across_chunks_and_odd_lengths() {
    let Some(g) = gpu("u8_counts_are_exact_across_chunks_and_odd_lengths") else {
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
        random(Kind::U8, Shape::new(5, 13, 7, 1), 1),
        random(Kind::U8, Shape::new(4, 3, 5, 3), 2),
        random(Kind::U8, Shape::new(1, 1, 1, 1), 3),
        skewed,
    ] {
        let t = s.shape().frames;
        for gpu in [g.clone(), g.clone().with_chunk_limit(10)] {
            let k = GpuHistogram::new(&gpu).unwrap();
            for r in [FrameRange::all(t), FrameRange::new(t - 1, t - 1)] {
                let cpu = histogram(&s, r, None).unwrap();
                let got = k.histogram(&s, r, None).unwrap();
                assert_eq!(got.counts, cpu.counts, "{} {r:?}", s.shape());
                assert_eq!(
                    (got.lo, got.hi, got.total, got.exact),
                    (cpu.lo, cpu.hi, cpu.total, cpu.exact)
                );
            }
        }
    }
}

/// u16 and f32 stacks binned on the GPU: counts, edges and total equal the CPU's.
fn check_binned(k: &GpuHistogram, s: &Stack, bins: Option<usize>) {
    let t = s.shape().frames;
    for r in [FrameRange::all(t), FrameRange::new(t - 1, t - 1)] {
        let cpu = histogram(s, r, bins).unwrap();
        let got = k
            .histogram(s, r, bins)
            .unwrap_or_else(|e| panic!("{} {} {r:?}: {e}", s.dtype(), s.shape()));
        assert_eq!(got, cpu, "{} {} {r:?} bins {bins:?}", s.dtype(), s.shape());
    }
}

#[test]
fn u16_and_f32_counts_are_exact_across_chunks() {
    let Some(g) = gpu("u16_and_f32_counts_are_exact_across_chunks") else {
        return;
    };
    let shape = Shape::new(4, 9, 7, 1);
    let f: Vec<f32> = random(Kind::F32, shape, 4)
        .as_slice::<f32>()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, &x)| match i % 11 {
            // NaN and infinities are not counted; signed zeros and negatives are
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => -0.0,
            4 => 0.0,
            _ => x * 2000.0 - 700.0,
        })
        .collect();
    let narrow: Vec<u16> = (0..shape.len())
        .map(|i| 1000 + (i * 7 % 5) as u16)
        .collect();
    let stacks = [
        random(Kind::U16, shape, 5),
        Stack::from_vec(shape, narrow).unwrap(),
        Stack::from_vec(shape, f).unwrap(),
        random(Kind::F32, Shape::new(3, 2, 3, 3), 6),
        random(Kind::U16, Shape::new(1, 1, 1, 1), 7),
        // every sample NaN: an empty histogram
        Stack::from_vec(Shape::new(2, 1, 3, 1), vec![f32::NAN; 6]).unwrap(),
        // one value: every sample in the first bin
        Stack::from_vec(Shape::new(2, 1, 3, 1), vec![2.5f32; 6]).unwrap(),
    ];
    // odd chunk sizes (whole words), and more bins than a workgroup holds locally
    for gpu in [
        g.clone(),
        g.clone().with_chunk_limit(10),
        g.clone().with_chunk_limit(36),
    ] {
        let k = GpuHistogram::new(&gpu).unwrap();
        for s in &stacks {
            for bins in [None, Some(1), Some(7), Some(5000)] {
                check_binned(&k, s, bins);
            }
        }
    }
}

#[test]
fn too_many_bins_is_the_users_error() {
    let Some(g) = gpu("too_many_bins_is_the_users_error") else {
        return;
    };
    let k = GpuHistogram::new(&g).unwrap();
    let s = random(Kind::U16, Shape::new(2, 2, 2, 1), 8);
    assert!(matches!(
        k.histogram(&s, FrameRange::all(2), Some(0)),
        Err(GpuError::Op(_))
    ));
}
