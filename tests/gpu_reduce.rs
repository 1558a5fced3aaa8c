//! GPU temporal reduce against the CPU reference (`blitz::ops::reduce::reduce`), and
//! naga validation of every shader. Without any GPU adapter the GPU tests say SKIPPED
//! loudly and pass; with Mesa lavapipe installed they run on the CPU adapter.

mod common;

use blitz::gpu::reduce::GpuReduce;
use blitz::gpu::{GpuDevice, GpuError};
use blitz::ops::FrameRange;
use blitz::ops::reduce::{ReduceOp, reduce};
use blitz::stack::StackSample;
use blitz::{Dtype, Shape, Stack};
use common::{Kind, REDUCE_REL, Values, close_rel, make, random};

const GPU_OPS: [ReduceOp; 6] = [
    ReduceOp::Mean,
    ReduceOp::Sum,
    ReduceOp::Max,
    ReduceOp::Min,
    ReduceOp::Std,
    ReduceOp::Median,
];

fn gpu(test: &str) -> Option<GpuDevice> {
    common::gpu(test)
}

fn random_u8(shape: Shape, seed: u64) -> Stack {
    make(Kind::U8, shape, &[seed as u32], Values::default())
}

fn random_u16(shape: Shape, seed: u64) -> Stack {
    make(Kind::U16, shape, &[seed as u32], Values::default())
}

/// Values in offset..offset+scale, about one in eight NaN, and sample 0 NaN in every frame.
fn random_f32(shape: Shape, seed: u64, offset: f32, scale: f32) -> Stack {
    let v = Values::floats(offset, offset + scale)
        .nan_every(8)
        .nan_pixel();
    make(Kind::F32, shape, &[seed as u32], v)
}

fn stack_of<T: StackSample>(shape: Shape, v: Vec<T>) -> Stack {
    Stack::from_vec(shape, v).unwrap()
}

/// GPU and CPU agree on `op` over `range`: bit for bit for integer sum/max/min, for
/// max/min of floats and for every median, within 1e-5 relative otherwise; NaN where the
/// CPU gives NaN.
fn check(kernel: &GpuReduce, stack: &Stack, op: ReduceOp, range: FrameRange, what: &str) {
    let got = kernel
        .reduce(stack, op, range)
        .unwrap_or_else(|e| panic!("{what} {op:?} {range:?}: {e}"));
    compare(got, stack, op, range, what);
}

/// The GPU image against the CPU reference: exact where integers allow, else 1e-5.
fn compare(got: blitz::ops::Image, stack: &Stack, op: ReduceOp, range: FrameRange, what: &str) {
    let cpu = reduce(stack, op, range).unwrap();
    assert_eq!(
        (got.height, got.width, got.channels),
        (cpu.height, cpu.width, cpu.channels)
    );
    let exact = matches!(op, ReduceOp::Max | ReduceOp::Min)
        || (op == ReduceOp::Sum && stack.dtype() != Dtype::F32);
    for (i, (&g, &c)) in got.data.iter().zip(&cpu.data).enumerate() {
        let ctx = || format!("{what} {op:?} {range:?} sample {i}: gpu {g}, cpu {c}");
        if c.is_nan() {
            assert!(g.is_nan(), "{}", ctx());
        } else if op == ReduceOp::Median {
            // the same value, down to the sign of a zero
            assert_eq!(g.to_bits(), c.to_bits(), "{}", ctx());
        } else if exact {
            assert_eq!(g, c, "{}", ctx());
        } else {
            assert!(close_rel(g as f64, c as f64, REDUCE_REL), "{}", ctx());
        }
    }
}

/// Every op on the whole range, a sub-range and a single frame.
fn check_ranges(kernel: &GpuReduce, stack: &Stack, what: &str) {
    let t = stack.shape().frames;
    let mut ranges = vec![FrameRange::all(t), FrameRange::new(t - 1, t - 1)];
    if t >= 3 {
        ranges.push(FrameRange::new(1, t - 2));
    }
    for op in GPU_OPS {
        for &r in &ranges {
            check(kernel, stack, op, r, what);
        }
    }
}

/// (T, H, W, C) with widths that are not multiples of 4, one frame, one pixel, RGB.
const SHAPES: [(usize, usize, usize, usize); 7] = [
    (1, 1, 1, 1),
    (6, 1, 1, 1),
    (5, 4, 1, 1),
    (7, 3, 3, 1),
    (9, 5, 65, 1),
    (4, 3, 5, 3),
    (1, 2, 3, 1),
];

/// Parses and validates one WGSL module with every naga check on.
fn validate_wgsl(what: &str, src: &str) {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)));
}

#[test]
fn every_shader_parses_and_validates_with_naga() {
    use blitz::gpu::shader::{KERNELS, PRELUDE_FILES};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    // the prelude on its own: constants and functions only
    for f in PRELUDE_FILES {
        validate_wgsl(f, &std::fs::read_to_string(dir.join(f)).unwrap());
    }
    // each kernel as the device gets it: composed after the prelude (a kernel that still
    // carried its own copy of a prelude item would fail here as a redefinition)
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        match KERNELS.iter().find(|k| k.file == name) {
            Some(k) => validate_wgsl(&format!("{name} composed"), k.source),
            // the viewer's display shader shares nothing with the kernels
            None if name == "display.wgsl" => {
                validate_wgsl(name, &std::fs::read_to_string(&path).unwrap())
            }
            None => panic!("{name} is in shaders/ but not in blitz::gpu::shader::KERNELS"),
        }
        seen += 1;
    }
    assert_eq!(
        seen,
        KERNELS.len() + 1,
        "kernels found in {}",
        dir.display()
    );
}

#[test]
fn hand_worked_u8_reductions_on_gpu() {
    let Some(g) = gpu("hand_worked_u8_reductions_on_gpu") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    // two pixels over 4 frames: [1, 5, 3, 7] and [10, 10, 0, 255]
    let s = stack_of(Shape::new(4, 1, 2, 1), vec![1u8, 10, 5, 10, 3, 0, 7, 255]);
    let all = FrameRange::all(4);
    let r = |op| k.reduce(&s, op, all).unwrap().data;
    assert_eq!(r(ReduceOp::Sum), vec![16.0, 275.0]);
    assert_eq!(r(ReduceOp::Mean), vec![4.0, 68.75]);
    assert_eq!(r(ReduceOp::Max), vec![7.0, 255.0]);
    assert_eq!(r(ReduceOp::Min), vec![1.0, 0.0]);
    // population std of [1, 5, 3, 7]: mean 4, squared deviations 9+1+1+9 = 20, /4 = 5
    assert!((r(ReduceOp::Std)[0] - 5f32.sqrt()).abs() < 1e-6);
    // sorted [1, 3, 5, 7] -> (3 + 5) / 2; [0, 10, 10, 255] -> (10 + 10) / 2
    assert_eq!(r(ReduceOp::Median), vec![4.0, 10.0]);
    // odd counts: frames 0..=2 are [1, 5, 3] -> 3 and [10, 10, 0] -> 10
    let m = k
        .reduce(&s, ReduceOp::Median, FrameRange::new(0, 2))
        .unwrap();
    assert_eq!(m.data, vec![3.0, 10.0]);
}

#[test]
fn u8_stacks_match_cpu() {
    let Some(g) = gpu("u8_stacks_match_cpu") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    for (n, &(t, h, w, c)) in SHAPES.iter().enumerate() {
        let s = random_u8(Shape::new(t, h, w, c), 11 + n as u64);
        check_ranges(&k, &s, &format!("u8 {t}x{h}x{w}x{c}"));
    }
}

#[test]
fn u16_stacks_match_cpu() {
    let Some(g) = gpu("u16_stacks_match_cpu") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    for (n, &(t, h, w, c)) in SHAPES.iter().enumerate() {
        let s = random_u16(Shape::new(t, h, w, c), 101 + n as u64);
        check_ranges(&k, &s, &format!("u16 {t}x{h}x{w}x{c}"));
    }
}

#[test]
fn f32_stacks_with_nan_match_cpu() {
    let Some(g) = gpu("f32_stacks_with_nan_match_cpu") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    for (n, &(t, h, w, c)) in SHAPES.iter().enumerate() {
        let shape = Shape::new(t, h, w, c);
        check_ranges(&k, &random_f32(shape, 7 + n as u64, 0.0, 1.0), "f32 0..1");
        // a large offset: the shift keeps the variance from being swamped
        check_ranges(
            &k,
            &random_f32(shape, 70 + n as u64, 1.0e4, 3.0),
            "f32 1e4+",
        );
    }
}

#[test]
fn nan_in_every_frame_gives_nan_and_a_zero_sum() {
    let Some(g) = gpu("nan_in_every_frame_gives_nan_and_a_zero_sum") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    let s = stack_of(
        Shape::new(3, 1, 2, 1),
        vec![1.0f32, f32::NAN, f32::NAN, f32::NAN, 3.0, f32::NAN],
    );
    let r = |op| k.reduce(&s, op, FrameRange::all(3)).unwrap().data;
    assert_eq!(r(ReduceOp::Mean)[0], 2.0);
    assert_eq!(r(ReduceOp::Max)[0], 3.0);
    assert_eq!(r(ReduceOp::Min)[0], 1.0);
    assert_eq!(r(ReduceOp::Std)[0], 1.0);
    assert_eq!(r(ReduceOp::Sum)[0], 4.0);
    // [1, NaN, 3]: the median of the two numbers
    assert_eq!(r(ReduceOp::Median)[0], 2.0);
    let ops = [
        ReduceOp::Mean,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Std,
        ReduceOp::Median,
    ];
    for op in ops {
        assert!(r(op)[1].is_nan(), "{op:?} of all-NaN");
    }
    assert_eq!(r(ReduceOp::Sum)[1], 0.0);
}

#[test]
fn chunked_upload_crosses_frame_chunk_borders() {
    let Some(g) = gpu("chunked_upload_crosses_frame_chunk_borders") else {
        return;
    };
    for (t, h, w, c) in [(11, 3, 5, 1), (13, 1, 65, 1), (10, 2, 3, 3), (7, 1, 1, 1)] {
        let shape = Shape::new(t, h, w, c);
        let stacks = [
            random_u8(shape, 5),
            random_u16(shape, 6),
            random_f32(shape, 7, 10.0, 5.0),
        ];
        for s in &stacks {
            let frame_bytes = (shape.frame_len() * s.dtype().size()) as u64;
            // 2 frames and a few bytes per chunk: chunks of 2 frames, odd byte counts
            let g = g.clone().with_chunk_limit(2 * frame_bytes + 3);
            assert!(
                g.chunk_bytes() < s.bytes(),
                "the stack must need several chunks"
            );
            let k = GpuReduce::new(&g).unwrap();
            check_ranges(&k, s, &format!("chunked {} {shape}", s.dtype()));
        }
    }
}

#[test]
fn chunk_limit_below_one_frame_is_an_error() {
    let Some(g) = gpu("chunk_limit_below_one_frame_is_an_error") else {
        return;
    };
    let g = g.with_chunk_limit(7);
    let s = random_u8(Shape::new(2, 2, 4, 1), 1);
    let e = GpuReduce::new(&g)
        .unwrap()
        .reduce(&s, ReduceOp::Mean, FrameRange::all(2));
    assert!(matches!(e, Err(GpuError::FrameTooLarge { .. })), "{e:?}");
}

#[test]
fn u16_sums_beyond_u32_stay_exact_and_std_of_large_values_is_exact() {
    let Some(g) = gpu("u16_sums_beyond_u32_stay_exact_and_std_of_large_values_is_exact") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    // 70 000 frames of two pixels: the sum passes 2^32 (the u64 carry and the rounding of
    // a sum above 2^24 to f32); the std of values near 65 000 with a spread of 3
    let t = 70_000;
    let r = make(
        Kind::U8,
        Shape::new(t, 1, 1, 1),
        &[99],
        Values::default().levels(4),
    );
    let v: Vec<u16> = r
        .as_slice::<u8>()
        .unwrap()
        .iter()
        .flat_map(|&x| [65_535u16, 65_000 + x as u16])
        .collect();
    let s = stack_of(Shape::new(t, 1, 2, 1), v);
    for op in GPU_OPS {
        check(&k, &s, op, FrameRange::all(t), "u16 long");
    }
    let sum = k.reduce(&s, ReduceOp::Sum, FrameRange::all(t)).unwrap();
    assert_eq!(sum.data[0], (65_535u64 * t as u64) as f32);
    assert_eq!(
        k.reduce(&s, ReduceOp::Std, FrameRange::all(t))
            .unwrap()
            .data[0],
        0.0
    );
}

/// Median of `what` on the GPU against the CPU, value for value (sign of zero included).
fn check_median(kernel: &GpuReduce, stack: &Stack, what: &str) {
    let t = stack.shape().frames;
    let mut ranges = vec![FrameRange::all(t)];
    if t >= 2 {
        // one frame fewer: the other parity
        ranges.extend([FrameRange::new(1, t - 1), FrameRange::new(0, t - 2)]);
    }
    for r in ranges {
        check(kernel, stack, ReduceOp::Median, r, what);
    }
}

#[test]
fn median_of_many_ties_picks_the_same_middle_values() {
    let Some(g) = gpu("median_of_many_ties_picks_the_same_middle_values") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    // three distinct values over 8 and 9 frames: the middle pair is often one value
    // repeated, sometimes two neighbours (the pass for the next larger key)
    for t in [8, 9] {
        let shape = Shape::new(t, 3, 7, 1);
        let three = |seed: u32| make(Kind::U8, shape, &[seed], Values::default().levels(3));
        let v8: Vec<u8> = three(t as u32)
            .as_slice::<u8>()
            .unwrap()
            .iter()
            .map(|&x| 100 + x)
            .collect();
        check_median(&k, &stack_of(shape, v8), "u8 ties");
        let v16: Vec<u16> = three(t as u32 + 50)
            .as_slice::<u8>()
            .unwrap()
            .iter()
            .map(|&x| 60_000 + x as u16)
            .collect();
        check_median(&k, &stack_of(shape, v16), "u16 ties");
    }
    // hand-worked: [7, 7, 9, 9] -> 8; [7, 9, 9, 9] -> 9; [2, 2, 2, 9] -> 2
    let s = stack_of(
        Shape::new(4, 1, 3, 1),
        vec![7u16, 9, 2, 9, 9, 2, 7, 9, 9, 9, 7, 2],
    );
    let m = k.reduce(&s, ReduceOp::Median, FrameRange::all(4)).unwrap();
    assert_eq!(m.data, vec![8.0, 9.0, 2.0]);
}

#[test]
fn f32_median_orders_negatives_zeros_and_infinities_as_the_cpu() {
    let Some(g) = gpu("f32_median_orders_negatives_zeros_and_infinities_as_the_cpu") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    // per pixel over 4 frames
    let pixels: [[f32; 4]; 8] = [
        [-3.5, 2.0, -1.0, 8.0],        // (-1 + 2) / 2 = 0.5
        [-0.0, 0.0, nan, -0.0],        // odd count of 3 zeros: -0.0
        [-0.0, 0.0, 1.0, -1.0],        // (-0 + 0) / 2 = +0
        [inf, -inf, 1.0, 2.0],         // 1.5
        [inf, inf, 1.0, nan],          // inf
        [-inf, inf, nan, nan],         // -inf + inf: NaN
        [3.0e38, 3.2e38, 1.0, 3.1e38], // (3.0e38 + 3.1e38) / 2 without overflow
        [-7.25, -7.5, -7.0, -1.0e-3],  // (-7.25 - 7.0) / 2
    ];
    let mut v = Vec::new();
    for t in 0..4 {
        v.extend(pixels.iter().map(|p| p[t]));
    }
    let s = stack_of(Shape::new(4, 1, pixels.len(), 1), v);
    let m = k.reduce(&s, ReduceOp::Median, FrameRange::all(4)).unwrap();
    assert_eq!(m.data[0], 0.5);
    assert_eq!(m.data[1].to_bits(), (-0.0f32).to_bits());
    assert_eq!(m.data[2].to_bits(), 0.0f32.to_bits());
    assert_eq!(m.data[3], 1.5);
    assert_eq!(m.data[4], inf);
    assert!(m.data[5].is_nan());
    assert_eq!(
        m.data[6],
        ((3.0e38f32 as f64 + 3.1e38f32 as f64) / 2.0) as f32
    );
    assert_eq!(m.data[7], -7.125);
    check_median(&k, &s, "f32 special values");
    // wide-ranged random values, negatives and NaN, odd and even frame counts
    for t in [1, 2, 5, 6] {
        let shape = Shape::new(t, 3, 5, 1);
        check_median(
            &k,
            &random_f32(shape, 40 + t as u64, -1.0e6, 2.0e6),
            "f32 wide",
        );
    }
}

#[test]
fn median_streams_across_chunks_with_each_digit_width() {
    let Some(g) = gpu("median_streams_across_chunks_with_each_digit_width") else {
        return;
    };
    // the digit counters take one chunk's budget: 16 words per sample need 64 bytes,
    // 4 words 16, 2 words fewer. Chunks of 4, 16 and 64 u8 frames give digits of 1, 2
    // and 4 bits; T = 150 and 149 cross several chunk borders in every case.
    let shape = |t| Shape::new(t, 3, 5, 1);
    for t in [150, 149] {
        let u8s = random_u8(shape(t), 21 + t as u64);
        let u16s = random_u16(shape(t), 23 + t as u64);
        let f32s = random_f32(shape(t), 25 + t as u64, -5.0, 10.0);
        let n = shape(t).frame_len() as u64;
        for frames in [4, 16, 64] {
            let g = g.clone().with_chunk_limit(frames * n);
            let k = GpuReduce::new(&g).unwrap();
            for s in [&u8s, &u16s, &f32s] {
                assert!(g.chunk_bytes() < s.bytes(), "several chunks");
                check_median(&k, s, &format!("median {} chunks of {frames}", s.dtype()));
            }
        }
    }
}

#[test]
fn bad_range_is_an_error_on_gpu() {
    let Some(g) = gpu("bad_range_is_an_error_on_gpu") else {
        return;
    };
    let s = random_u8(Shape::new(2, 1, 3, 1), 3);
    let e = blitz::gpu::reduce::reduce(&g, &s, ReduceOp::Mean, FrameRange::new(1, 2));
    assert!(matches!(e, Err(GpuError::Op(_))), "{e:?}");
}

#[test]
fn frames_beyond_one_dispatch_row_use_the_second_dimension() {
    let Some(g) = gpu("frames_beyond_one_dispatch_row_use_the_second_dimension") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    // more samples than 65535 workgroups of 256 hold in one dispatch row
    let per_row = g.limits().max_compute_workgroups_per_dimension as usize * 256;
    let s = random_u8(Shape::new(2, 1, per_row + 1001, 1), 17);
    for op in [ReduceOp::Sum, ReduceOp::Max] {
        check(&k, &s, op, FrameRange::all(2), "wide u8");
    }
}

#[test]
fn resident_stacks_reduce_any_range_across_buffers() {
    let Some(g) = gpu("resident_stacks_reduce_any_range_across_buffers") else {
        return;
    };
    for (t, h, w, c) in [(11, 3, 5, 1), (10, 2, 3, 3), (7, 1, 1, 1)] {
        let shape = Shape::new(t, h, w, c);
        for s in [
            random_u8(shape, 15),
            random_u16(shape, 16),
            random_f32(shape, 17, 10.0, 5.0),
        ] {
            let frame_bytes = (shape.frame_len() * s.dtype().size()) as u64;
            // three frames and a few bytes per buffer: several buffers, ranges that start
            // and end inside them
            let g = g.clone().with_chunk_limit(3 * frame_bytes + 3);
            let k = GpuReduce::new(&g).unwrap();
            let resident = k.upload(&s).unwrap();
            assert_eq!(resident.bytes(), s.bytes());
            for r in [
                FrameRange::all(t),
                FrameRange::new(1, t - 2),
                FrameRange::new(4, 5),
                FrameRange::new(t - 1, t - 1),
            ] {
                for op in GPU_OPS {
                    let what = format!("resident {} {shape}", s.dtype());
                    let got = k
                        .reduce_resident(&resident, op, r)
                        .unwrap_or_else(|e| panic!("{what} {op:?} {r:?}: {e}"));
                    compare(got, &s, op, r, &what);
                }
            }
        }
    }
}

#[test]
fn infinities_in_f32_give_what_the_cpu_gives() {
    let Some(g) = gpu("infinities_in_f32_give_what_the_cpu_gives") else {
        return;
    };
    let k = GpuReduce::new(&g).unwrap();
    let inf = f32::INFINITY;
    // per pixel over 4 frames: finite then +inf; +inf then finite; +inf and -inf;
    // -inf only with NaN; all finite
    let px: [[f32; 4]; 5] = [
        [1.0, 2.0, inf, 3.0],
        [inf, 5.0, 6.0, 7.0],
        [1.0, inf, -inf, 2.0],
        [f32::NAN, -inf, f32::NAN, -inf],
        [1.5, 2.5, 3.5, 4.5],
    ];
    let mut v = Vec::new();
    for t in 0..4 {
        for p in &px {
            v.push(p[t]);
        }
    }
    let s = Stack::from_vec(Shape::new(4, 1, 5, 1), v).unwrap();
    for op in [
        ReduceOp::Mean,
        ReduceOp::Sum,
        ReduceOp::Std,
        ReduceOp::Max,
        ReduceOp::Min,
    ] {
        let want = reduce(&s, op, FrameRange::all(4)).unwrap();
        let got = k.reduce(&s, op, FrameRange::all(4)).unwrap();
        for (i, (a, b)) in got.data.iter().zip(&want.data).enumerate() {
            let same = a == b || close_rel(*a as f64, *b as f64, REDUCE_REL);
            assert!(same, "{op} pixel {i}: gpu {a} cpu {b}");
        }
    }
}

#[test]
fn timestamp_queries_time_the_compute_passes() {
    let Some(g) = gpu("timestamp_queries_time_the_compute_passes") else {
        return;
    };
    let Some(timed) = g.clone().with_timer() else {
        eprintln!("note: this adapter has no timestamp queries; benchmarks use wall clock");
        assert!(!g.has_timestamps());
        return;
    };
    let k = GpuReduce::new(&timed).unwrap();
    let s = random(Kind::U8, Shape::new(8, 64, 64, 1), 1);
    let wall = std::time::Instant::now();
    let img = k.reduce(&s, ReduceOp::Mean, FrameRange::all(8)).unwrap();
    let wall = wall.elapsed().as_secs_f64();
    assert_eq!(img, reduce(&s, ReduceOp::Mean, FrameRange::all(8)).unwrap());
    let secs = timed.gpu_seconds().unwrap().expect("passes were timed");
    assert!(secs > 0.0 && secs <= wall, "gpu {secs} s, wall {wall} s");
    // counting starts again: nothing ran since
    assert_eq!(timed.gpu_seconds().unwrap(), None);
}
