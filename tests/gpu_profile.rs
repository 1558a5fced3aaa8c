//! GPU dataset envelope of a crosshair profile against the CPU reference
//! (`ops::profile::dataset_envelope`, q = 0) on lavapipe: exact min/max for every dtype,
//! both orientations, bands clipped at the frame's edge, NaNs, and frames streamed in
//! tiny chunks so chunk borders are crossed.

mod common;

use blitz::gpu::GpuError;
use blitz::gpu::profile::GpuProfile;
use blitz::ops::profile::{Orientation, dataset_envelope};
use blitz::{Shape, Stack};
use common::{Kind, gpu, random};

fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

#[test]
fn dataset_min_max_equals_the_cpu_for_every_dtype_and_chunking() {
    let Some(g) = gpu("dataset_min_max_equals_the_cpu_for_every_dtype_and_chunking") else {
        return;
    };
    let mut floats: Vec<f32> = random(Kind::F32, Shape::new(7, 9, 13, 3), 1)
        .as_slice::<f32>()
        .unwrap()
        .to_vec();
    for (i, v) in floats.iter_mut().enumerate() {
        if i % 11 == 0 {
            *v = f32::NAN;
        }
        *v -= 0.5;
    }
    // one column entirely NaN: its envelope is NaN on both engines
    for t in 0..7 {
        for y in 0..9 {
            for c in 0..3 {
                floats[((t * 9 + y) * 13 + 4) * 3 + c] = f32::NAN;
            }
        }
    }
    let stacks = [
        random(Kind::U8, Shape::new(5, 6, 7, 1), 2),
        random(Kind::U16, Shape::new(9, 11, 5, 1), 3),
        random(Kind::U8, Shape::new(3, 4, 9, 3), 4),
        Stack::from_vec(Shape::new(7, 9, 13, 3), floats).unwrap(),
        random(Kind::U8, Shape::new(1, 1, 1, 1), 5),
    ];
    for s in &stacks {
        let sh = s.shape();
        let frame_bytes = (sh.frame_len() * s.dtype().size()) as u64;
        // one frame per chunk, two frames per chunk, everything at once
        for chunk in [frame_bytes, 2 * frame_bytes + 1, u64::MAX] {
            let k = GpuProfile::new(&g.clone().with_chunk_limit(chunk)).unwrap();
            for orient in [Orientation::Row, Orientation::Col] {
                let lines = orient.lines(sh);
                for (pos, width) in [(0, 0), (lines / 2, 1), (lines - 1, 3), (lines / 3, 100)] {
                    let gpu = k.dataset_envelope(s, orient, pos, width, 0).unwrap();
                    let cpu = dataset_envelope(s, orient, pos, width, 0).unwrap();
                    let what = format!("{:?} {orient} pos {pos} width {width} chunk {chunk}", sh);
                    assert!(
                        same(&gpu.lo, &cpu.lo),
                        "{what}: lo {:?} vs {:?}",
                        gpu.lo,
                        cpu.lo
                    );
                    assert!(
                        same(&gpu.hi, &cpu.hi),
                        "{what}: hi {:?} vs {:?}",
                        gpu.hi,
                        cpu.hi
                    );
                }
            }
        }
    }
}

#[test]
fn percentiles_and_bad_positions_are_not_computed_here() {
    let Some(g) = gpu("percentiles_and_bad_positions_are_not_computed_here") else {
        return;
    };
    let k = GpuProfile::new(&g).unwrap();
    let s = random(Kind::U8, Shape::new(2, 3, 4, 1), 6);
    assert!(matches!(
        k.dataset_envelope(&s, Orientation::Row, 1, 0, 5),
        Err(GpuError::Unsupported(_))
    ));
    let e = k
        .dataset_envelope(&s, Orientation::Row, 3, 0, 0)
        .unwrap_err();
    assert!(matches!(e, GpuError::Op(_)), "{e}");
}

#[test]
fn long_stacks_with_wide_bands_stay_within_a_dispatch_loop_budget() {
    let Some(g) = gpu("long_stacks_with_wide_bands_stay_within_a_dispatch_loop_budget") else {
        return;
    };
    let k = GpuProfile::new(&g).unwrap();
    // 8192 frames x 5 band lines x 3 channels: 122 880 samples per position
    let s = random(Kind::U16, Shape::new(8192, 9, 4, 3), 7);
    for orient in [Orientation::Row, Orientation::Col] {
        let gpu = k.dataset_envelope(&s, orient, 2, 2, 0).unwrap();
        let cpu = dataset_envelope(&s, orient, 2, 2, 0).unwrap();
        assert!(same(&gpu.lo, &cpu.lo) && same(&gpu.hi, &cpu.hi), "{orient}");
    }
}
