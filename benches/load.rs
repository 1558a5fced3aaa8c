//! Load throughput: an image folder (JPEG, colour and gray), a 1080p H.264 video, and a
//! `.npy` header read. Inputs are generated once into a temporary folder.
//! The full-size comparison with the Python peer is `scripts/bench_load.sh`.

use std::path::Path;
use std::process::Command;

use blitz::load::{LoadOptions, NoProgress, load, plan};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::{ImageBuffer, Rgb};

fn make_jpegs(dir: &Path, n: u32) {
    for t in 0..n {
        let img = ImageBuffer::from_fn(1280, 720, |x, y| {
            Rgb([
                ((x + t * 3) % 256) as u8,
                ((y * 2) % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        });
        let mut f = std::fs::File::create(dir.join(format!("{t:04}.jpg"))).expect("create jpeg");
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut f, 90)
            .encode_image(&img)
            .expect("encode jpeg");
    }
}

fn make_video(path: &Path, frames: u32) -> bool {
    Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=1920x1080:rate=30")
        .args([
            "-frames:v",
            &frames.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "fast",
            "-g",
            "60",
        ])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let jpg = dir.path().join("jpg");
    std::fs::create_dir(&jpg).expect("mkdir");
    make_jpegs(&jpg, 48);
    let opts = LoadOptions::default();
    let gray = LoadOptions {
        grayscale: true,
        ..Default::default()
    };

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(48));
    g.bench_function("jpeg_folder_48x720p_rgb", |b| {
        b.iter(|| load(&jpg, &opts, &NoProgress).expect("load"))
    });
    g.bench_function("jpeg_folder_48x720p_gray", |b| {
        b.iter(|| load(&jpg, &gray, &NoProgress).expect("load"))
    });

    let video = dir.path().join("v.mp4");
    if make_video(&video, 120) {
        g.throughput(Throughput::Elements(120));
        g.bench_function("h264_120x1080p_rgb", |b| {
            b.iter(|| load(&video, &opts, &NoProgress).expect("load"))
        });
        g.bench_function("h264_120x1080p_gray", |b| {
            b.iter(|| load(&video, &gray, &NoProgress).expect("load"))
        });
    } else {
        eprintln!("ffmpeg not found: video benchmarks skipped (run scripts/setup.sh)");
    }

    let npy = dir.path().join("s.npy");
    let s = blitz::Stack::from_vec(blitz::Shape::new(64, 1024, 1024, 1), vec![7u8; 64 << 20])
        .expect("stack");
    blitz::export::write_npy(&npy, &s).expect("write npy");
    g.throughput(Throughput::Elements(1));
    g.bench_function("npy_64MiB_plan_header_only", |b| {
        b.iter(|| plan(&npy, &opts).expect("plan"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
