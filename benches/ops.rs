//! CPU engine per operation on a random u8 stack (64 x 1024 x 1024): the same pairs as
//! `blitz bench`, under criterion. The GPU rows join these when the GPU engine exists.

use blitz::Shape;
use blitz::bench::random_stack;
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::reduce::{ReduceOp, reduce_into};
use blitz::ops::{FrameRange, Image};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let shape = Shape::new(64, 1024, 1024, 1);
    let stack = random_stack::<u8>(shape).expect("stack");
    let all = FrameRange::all(shape.frames);
    let mut g = c.benchmark_group("cpu_u8_64x1024x1024");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(stack.bytes()));
    let mut img = Image::zeros(shape.height, shape.width, 1);
    for op in ReduceOp::ALL {
        g.bench_function(op.name(), |b| {
            b.iter(|| reduce_into(&stack, op, all, &mut img).expect("reduce"))
        });
    }
    for w in [10, 50] {
        let n = Normalize {
            subtract: Some(Step {
                source: Source::Sliding {
                    op: ReduceOp::Mean,
                    window: w,
                    lag: 0,
                },
                amount: 1.0,
            }),
            divide: None,
        };
        let mut out = vec![0f32; n.output_frames(shape.frames) * shape.frame_len()];
        g.bench_function(format!("sliding_mean_w{w}"), |b| {
            b.iter(|| n.apply_into(&stack, &mut out).expect("normalize"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
