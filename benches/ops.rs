//! CPU and GPU engines per operation on a random u8 stack (64 x 1024 x 1024): the same
//! pairs as `blitz bench`, under criterion. GPU reduces are timed on the stack resident
//! on the GPU (the one-frame result read back) and streamed from RAM (upload included);
//! without any adapter the GPU group is skipped with a loud note.

use blitz::bench::random_stack;
use blitz::gpu::GpuDevice;
use blitz::gpu::normalize::GpuNormalize;
use blitz::gpu::reduce::GpuReduce;
use blitz::ops::normalize::Normalize;
use blitz::ops::reduce::{ReduceOp, reduce_into};
use blitz::ops::{FrameRange, Image};
use blitz::{Shape, Stack};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let shape = Shape::new(64, 1024, 1024, 1);
    let stack = random_stack::<u8>(shape).expect("stack");
    bench_cpu(c, &stack);
    bench_gpu(c, &stack);
}

fn sliding_mean(w: usize) -> Normalize {
    Normalize::subtract_sliding(ReduceOp::Mean, w, 0)
}

fn bench_cpu(c: &mut Criterion, stack: &Stack) {
    let shape = stack.shape();
    let all = FrameRange::all(shape.frames);
    let mut g = c.benchmark_group("cpu_u8_64x1024x1024");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(stack.bytes()));
    let mut img = Image::zeros(shape.height, shape.width, 1);
    for op in ReduceOp::ALL {
        g.bench_function(op.name(), |b| {
            b.iter(|| reduce_into(stack, op, all, &mut img).expect("reduce"))
        });
    }
    for w in [10, 50] {
        let n = sliding_mean(w);
        let mut out = vec![0f32; n.output_frames(shape.frames) * shape.frame_len()];
        g.bench_function(format!("sliding_mean_w{w}"), |b| {
            b.iter(|| n.apply_into(stack, &mut out).expect("normalize"))
        });
    }
    g.finish();
}

fn bench_gpu(c: &mut Criterion, stack: &Stack) {
    let gpu = match GpuDevice::new() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("\n*** SKIPPED: GPU benches did not run: {e} ***\n");
            return;
        }
    };
    let name = gpu.info().name;
    eprintln!("GPU benches on {name:?}");
    let (reduce, normalize) = match (GpuReduce::new(&gpu), GpuNormalize::new(&gpu)) {
        (Ok(r), Ok(n)) => (r, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("\n*** SKIPPED: GPU kernels did not compile on {name:?}: {e} ***\n");
            return;
        }
    };
    let resident = match reduce.upload(stack) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("\n*** SKIPPED: the stack did not fit the GPU ({name:?}): {e} ***\n");
            return;
        }
    };
    let shape = stack.shape();
    let all = FrameRange::all(shape.frames);
    let mut g = c.benchmark_group("gpu_u8_64x1024x1024");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(stack.bytes()));
    for op in ReduceOp::ALL {
        g.bench_function(format!("{}_resident", op.name()), |b| {
            b.iter(|| {
                reduce
                    .reduce_resident(&resident, op, all)
                    .expect("gpu reduce")
            })
        });
        g.bench_function(format!("{}_streamed", op.name()), |b| {
            b.iter(|| reduce.reduce(stack, op, all).expect("gpu reduce"))
        });
    }
    // upload, compute and the readback of the whole f32 result, where the adapter can
    // hold it
    let n = sliding_mean(10);
    if let Err(e) = normalize.apply(&n, stack, &reduce) {
        eprintln!("\n*** SKIPPED: GPU sliding_mean_w10 on {name:?}: {e} ***\n");
    } else {
        g.bench_function("sliding_mean_w10_streamed", |b| {
            b.iter(|| normalize.apply(&n, stack, &reduce).expect("gpu normalize"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
