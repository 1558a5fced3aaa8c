//! Stacks bigger than RAM at small scale: the reduce and the normalization streamed in
//! frame order under a small chunk budget (against a naive oracle), a mapped `.npy`
//! streamed with page-cache hints, `blitz normalize` writing a result over the RAM budget
//! frame by frame, and disk storage: decode once into the cache, map it again at once, a
//! changed source or other options decoded again, bad cache directories, two loads at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use blitz::export::write_npy;
use blitz::load::{LoadOptions, NoProgress, Storage, StorageChoice, load, plan};
use blitz::ops::normalize::{Normalize, Source, Step};
use blitz::ops::reduce::{ReduceOp, reduce_chunked};
use blitz::ops::{FrameRange, Image, OpError};
use blitz::{Shape, Stack};
use common::naive::{column, reduce, reduce_values};
use common::{Kind, NORMALIZE_REL, REDUCE_REL, Values, assert_all_close, close, make, nan_where};

const KINDS: [Kind; 3] = [Kind::U8, Kind::U16, Kind::F32];

fn check_against_naive(s: &Stack, range: FrameRange, chunk_frames: usize) {
    let sh = s.shape();
    let chunk = chunk_frames * sh.frame_len() * s.dtype().size();
    for op in ReduceOp::ALL {
        let img = reduce_chunked(s, op, range, chunk).unwrap();
        let what = format!("{} {op} chunk {chunk_frames}", s.dtype());
        assert_all_close(&img.data, &reduce(s, op, range), REDUCE_REL, &what);
    }
}

/// 7 frames of 90 x 101 (9 090 samples: two blocks of the CPU engine), random values.
fn stack_of(kind: Kind) -> Stack {
    hashed(kind, Shape::new(7, 90, 101, 1))
}

/// A stack of `shape` with random values (integers of the whole dtype, floats in
/// -5000..11777); f32 stacks hold NaN at sample 5 of every frame and elsewhere now and
/// then (sample j of frame t when t + j is a multiple of 11).
fn hashed(kind: Kind, shape: Shape) -> Stack {
    let p = shape.frame_len();
    let s = make(kind, shape, &[7], Values::floats(-5000.0, 11777.215));
    nan_where(s, |i| match i % p {
        5 => true,
        j => (i / p + j).is_multiple_of(11),
    })
}

#[test]
fn streamed_reduce_over_many_blocks_matches_the_naive_reduce() {
    for kind in KINDS {
        let s = stack_of(kind);
        // odd and even counts, chunks of one frame and of several
        check_against_naive(&s, FrameRange::new(0, 6), 1);
        check_against_naive(&s, FrameRange::new(1, 6), 2);
        check_against_naive(&s, FrameRange::new(2, 4), 3);
    }
}

#[test]
fn streamed_median_finds_the_upper_middle_value_outside_the_last_bucket() {
    // per sample: [15, 16] -> 15.5 (different high digits), [0, 255] -> 127.5,
    // [15, 15, 16, 200] -> 15.5, [1, 17, 17, 250] -> 17
    let cols: [&[u8]; 4] = [&[15, 16], &[0, 255], &[15, 15, 16, 200], &[1, 17, 17, 250]];
    let want = [15.5f32, 127.5, 15.5, 17.0];
    for (col, want) in cols.iter().zip(want) {
        let s = Stack::from_vec(Shape::new(col.len(), 1, 1, 1), col.to_vec()).unwrap();
        let m = reduce_chunked(&s, ReduceOp::Median, FrameRange::all(col.len()), 1).unwrap();
        assert_eq!(m.data[0], want, "{col:?}");
    }
    let f = Stack::from_vec(
        Shape::new(4, 1, 2, 1),
        vec![
            -1.5f32,
            f32::NAN,
            2.0,
            3.0,
            f32::NAN,
            f32::NAN,
            f32::NAN,
            5.0,
        ],
    )
    .unwrap();
    let m = reduce_chunked(&f, ReduceOp::Median, FrameRange::all(4), 1).unwrap();
    assert_eq!(m.data, vec![0.25, 4.0]);
}

#[test]
fn a_mapped_npy_streams_in_chunks_with_the_same_results() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(40, 64, 64, 1);
    let data: Vec<u8> = (0..shape.len()).map(|i| ((i * 7919) >> 3) as u8).collect();
    let ram = Stack::from_vec(shape, data.clone()).unwrap();
    let p = d.path().join("s.npy");
    write_npy(&p, &ram).unwrap();
    let mapped = load(&p, &LoadOptions::default(), &NoProgress).unwrap();
    assert!(mapped.is_mapped());
    let all = FrameRange::all(40);
    for op in ReduceOp::ALL {
        let a = reduce_chunked(&mapped, op, all, 3 * 4096).unwrap();
        let col = |i: usize| {
            (0..40)
                .map(|t| data[t * 4096 + i] as f64)
                .collect::<Vec<_>>()
        };
        for i in (0..4096).step_by(97) {
            let want = reduce_values(op, &col(i));
            assert!(close(a.data[i] as f64, want, REDUCE_REL), "{op} {i}");
        }
    }
}

/// A folder of `n` gray PNGs of 16 x 20, frame t filled from t and `salt`.
fn png_folder(dir: &Path, n: usize, salt: u8) -> PathBuf {
    let f = dir.join("frames");
    std::fs::create_dir_all(&f).unwrap();
    for t in 0..n {
        let img = image::GrayImage::from_fn(20, 16, |x, y| {
            image::Luma([(t as u32 * 31 + y * 20 + x) as u8 ^ salt])
        });
        img.save(f.join(format!("f{t:03}.png"))).unwrap();
    }
    f
}

fn disk(cache: &Path) -> LoadOptions {
    LoadOptions {
        storage: StorageChoice::Disk,
        cache_dir: Some(cache.to_path_buf()),
        ..Default::default()
    }
}

/// (cache files, sidecars, temporary files) in `dir`.
fn cache_files(dir: &Path) -> (usize, usize, usize) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let count = |f: &dyn Fn(&str) -> bool| names.iter().filter(|n| f(n)).count();
    (
        count(&|n| n.ends_with(".npy") && !n.starts_with('.')),
        count(&|n| n.ends_with(".json") && !n.starts_with('.')),
        count(&|n| n.contains(".part-")),
    )
}

fn samples(s: &Stack) -> Vec<u8> {
    s.samples().as_bytes().to_vec()
}

#[test]
fn disk_storage_decodes_once_then_maps_the_cache() {
    let d = tempfile::tempdir().unwrap();
    let src = png_folder(d.path(), 6, 0);
    let cache = d.path().join("cache");
    let ram = load(&src, &LoadOptions::default(), &NoProgress).unwrap();
    assert!(!ram.is_mapped());

    let p = plan(&src, &disk(&cache)).unwrap();
    assert_eq!(p.storage, Storage::Disk);
    let entry = p.cache.clone().unwrap();
    assert!(entry.path.starts_with(&cache) && !entry.path.exists());

    let first = load(&src, &disk(&cache), &NoProgress).unwrap();
    assert!(first.is_mapped());
    assert_eq!(first.shape(), ram.shape());
    assert_eq!(samples(&first), samples(&ram));
    assert_eq!(first.source.frame_index, ram.source.frame_index);
    assert_eq!(cache_files(&cache), (1, 1, 0));
    assert!(entry.path.exists());

    let again = load(&src, &disk(&cache), &NoProgress).unwrap();
    assert!(
        again
            .source
            .notes
            .iter()
            .any(|n| n.contains("opened from the cache")),
        "{:?}",
        again.source.notes
    );
    assert_eq!(samples(&again), samples(&ram));
    assert_eq!(again.source.frame_index, ram.source.frame_index);
    assert_eq!(again.source.path, ram.source.path);
    assert_eq!(cache_files(&cache), (1, 1, 0));

    // other options: a file of their own, holding what they ask for
    let stepped = LoadOptions {
        step: Some(2),
        ..disk(&cache)
    };
    let s2 = load(&src, &stepped, &NoProgress).unwrap();
    assert_eq!(s2.shape().frames, 3);
    assert_eq!(s2.source.frame_index, vec![0, 2, 4]);
    assert_eq!(samples(&s2)[320..640], samples(&ram)[640..960]);
    assert_eq!(cache_files(&cache), (2, 2, 0));
}

#[test]
fn a_changed_source_is_decoded_again_never_served_stale() {
    let d = tempfile::tempdir().unwrap();
    let src = png_folder(d.path(), 4, 0);
    let cache = d.path().join("cache");
    let before = load(&src, &disk(&cache), &NoProgress).unwrap();
    // rewrite the frames with other values and a later modification time
    png_folder(d.path(), 4, 0x55);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    for e in std::fs::read_dir(&src).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(e.unwrap().path())
            .unwrap();
        f.set_modified(later).unwrap();
    }
    let after = load(&src, &disk(&cache), &NoProgress).unwrap();
    assert!(
        !after
            .source
            .notes
            .iter()
            .any(|n| n.contains("opened from the cache"))
    );
    let fresh = load(&src, &LoadOptions::default(), &NoProgress).unwrap();
    assert_eq!(samples(&after), samples(&fresh));
    assert_ne!(samples(&after), samples(&before));
}

#[test]
fn auto_storage_keeps_every_frame_on_disk_when_over_the_ram_budget() {
    let d = tempfile::tempdir().unwrap();
    let src = png_folder(d.path(), 8, 0);
    let cache = d.path().join("cache");
    // a budget of about 1 kB: two frames of 320 bytes
    let tiny = 1000.0 / (1u64 << 30) as f64;
    let auto = LoadOptions {
        max_ram_gib: Some(tiny),
        storage: StorageChoice::Auto,
        cache_dir: Some(cache.clone()),
        ..Default::default()
    };
    let p = plan(&src, &auto).unwrap();
    assert_eq!((p.storage, p.shape.frames), (Storage::Disk, 8));
    let s = load(&src, &auto, &NoProgress).unwrap();
    assert_eq!(s.shape().frames, 8);
    assert!(s.is_mapped());
    // --storage ram: the memory guard subsamples, as before
    let ram = LoadOptions {
        storage: StorageChoice::Ram,
        ..auto.clone()
    };
    let p = plan(&src, &ram).unwrap();
    assert_eq!(p.storage, Storage::Ram);
    assert!(p.shape.frames < 8);
    // within the budget, auto stays in RAM and writes nothing
    let fits = LoadOptions {
        max_ram_gib: Some(1.0),
        cache_dir: Some(d.path().join("unused")),
        ..auto
    };
    assert_eq!(plan(&src, &fits).unwrap().storage, Storage::Ram);
    assert!(!d.path().join("unused").exists());
}

#[test]
fn an_unusable_cache_directory_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let src = png_folder(d.path(), 3, 0);
    let blocker = d.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let bad = blocker.join("cache");
    let e = load(&src, &disk(&bad), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&bad.display().to_string()), "{e}");
    assert!(e.contains("--cache-dir"), "{e}");
}

#[test]
fn two_loads_caching_one_source_at_once_leave_one_complete_file() {
    let d = tempfile::tempdir().unwrap();
    let src = png_folder(d.path(), 12, 3);
    let cache = d.path().join("cache");
    let want = samples(&load(&src, &LoadOptions::default(), &NoProgress).unwrap());
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..3)
            .map(|_| sc.spawn(|| samples(&load(&src, &disk(&cache), &NoProgress).unwrap())))
            .collect();
        for h in hs {
            assert_eq!(h.join().unwrap(), want);
        }
    });
    assert_eq!(cache_files(&cache), (1, 1, 0));
    let reopened = load(&src, &disk(&cache), &NoProgress).unwrap();
    assert_eq!(samples(&reopened), want);
}

#[test]
fn a_video_decodes_to_disk_with_every_frame() {
    let d = tempfile::tempdir().unwrap();
    let v = d.path().join("v.mkv");
    let st = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10",
            "-frames:v",
            "12",
        ])
        .args(["-c:v", "ffv1", "-pix_fmt", "gray"])
        .arg(&v)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success());
    let cache = d.path().join("cache");
    let ram = load(&v, &LoadOptions::default(), &NoProgress).unwrap();
    let on_disk = load(&v, &disk(&cache), &NoProgress).unwrap();
    assert!(on_disk.is_mapped());
    assert_eq!(on_disk.shape(), ram.shape());
    assert_eq!(on_disk.shape().frames, 12);
    assert_eq!(samples(&on_disk), samples(&ram));
    assert_eq!(on_disk.source.frame_index, ram.source.frame_index);
}

fn blitz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blitz"))
}

#[test]
fn a_cache_that_fills_up_mid_write_leaves_no_file_and_names_the_directory() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    // files may grow to 64 kB; the demo stack of 20 x 64 x 64 u8 needs 80 kB
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f 64; exec '{}' info demo:20,64,64 --full --storage disk --cache-dir '{}'",
            env!("CARGO_BIN_EXE_blitz"),
            cache.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a write past the limit must fail");
    assert!(err.contains(&cache.display().to_string()), "{err}");
    assert_eq!(cache_files(&cache), (0, 0, 0), "{err}");
}

#[test]
fn cli_info_says_the_storage_and_cache_list_and_clear_reclaim_it() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    let c = cache.display().to_string();
    let info = |args: &[&str]| {
        let o = blitz()
            .args(["info", "demo:6,32,32", "--cache-dir", &c])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let ram = info(&[]);
    assert!(ram.contains("storage   ram"), "{ram}");
    let planned = info(&["--storage", "disk"]);
    assert!(
        planned.contains("storage   disk") && planned.contains("decoded on first open"),
        "{planned}"
    );
    info(&["--storage", "disk", "--full"]);
    let cached = info(&["--storage", "disk"]);
    assert!(cached.contains("cached: opens at once"), "{cached}");

    let list = blitz()
        .args(["cache", "list", "--cache-dir", &c])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.contains("1 file(s)") && list.contains("demo"),
        "{list}"
    );
    let clear = blitz()
        .args(["cache", "clear", "--cache-dir", &c])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&clear.stdout).contains("removed 1 file(s)"));
    assert_eq!(cache_files(&cache), (0, 0, 0));
}

/// The naive normalization of sample `i` of output frame `t` (design.md's formula, in
/// f64).
struct Naive {
    want: f64,
    /// Numerator and denominator (1 without a division).
    y: f64,
    den: f64,
    /// Magnitude of the numerator's terms: f32 rounding of `x - a r` scales with it.
    terms: f64,
}

fn naive_normalized(s: &Stack, n: &Normalize, t: usize, i: usize) -> Naive {
    let reference = |src: &Source| match src {
        Source::File(img) => img.data[i] as f64,
        Source::Range { op, range } => reduce_values(*op, &column(s, i, *range)),
        Source::Sliding { op, window, lag } => reduce_values(
            *op,
            &column(s, i, FrameRange::new(t + lag, t + lag + window - 1)),
        ),
    };
    let x = s.frame(t).get_f32(i) as f64;
    let (y, terms) = match &n.subtract {
        Some(st) => {
            let r = st.amount as f64 * reference(&st.source);
            (x - r, x.abs().max(r.abs()))
        }
        None => (x, x.abs()),
    };
    let (want, den) = match &n.divide {
        None => (y, 1.0),
        Some(st) => {
            let a = st.amount as f64;
            let den = a * reference(&st.source) + (1.0 - a);
            let q = if den == 0.0 { 0.0 } else { y / den };
            (if q.is_finite() { q } else { 0.0 }, den)
        }
    };
    Naive {
        want,
        y,
        den,
        terms,
    }
}

/// Whether `got` is the naive result within the design's 1e-4 after normalization,
/// relative to the terms of the numerator (a difference of close values keeps their
/// absolute rounding); near-zero denominators amplify the f32 rounding of the
/// reference, so there the numerator relation is compared instead.
fn agrees(got: f32, n: &Naive) -> bool {
    let got = got as f64;
    if n.want.is_nan() {
        return got.is_nan();
    }
    if n.den.abs() < 1e-3 {
        return got == 0.0 || (got * n.den - n.y).abs() <= 1e-3 * n.terms.max(1.0);
    }
    (got - n.want).abs() <= NORMALIZE_REL * n.want.abs().max(n.terms / n.den.abs()).max(1.0)
}

fn step(source: Source, amount: f32) -> Option<Step> {
    Some(Step { source, amount })
}

fn slide(op: ReduceOp, window: usize, lag: usize) -> Source {
    Source::Sliding { op, window, lag }
}

#[test]
fn streamed_normalization_over_many_blocks_matches_the_naive_one() {
    let d = tempfile::tempdir().unwrap();
    // 17 030 samples per frame: more than one block of the normalization (16 384) and of
    // the reduce (8 192)
    let shape = Shape::new(10, 130, 131, 1);
    let p = shape.frame_len();
    let file = Image {
        height: 130,
        width: 131,
        channels: 1,
        data: (0..p).map(|i| (i % 13) as f32 - 4.0).collect(),
    };
    let range = FrameRange::new(1, 5);
    let cases = [
        // running sums in both steps
        Normalize {
            subtract: step(slide(ReduceOp::Mean, 3, 1), 1.0),
            divide: step(slide(ReduceOp::Std, 3, 1), 0.5),
        },
        // a window reduced again for every frame, and a range reference
        Normalize {
            subtract: step(slide(ReduceOp::Max, 2, 2), 0.7),
            divide: step(
                Source::Range {
                    op: ReduceOp::Mean,
                    range,
                },
                1.0,
            ),
        },
        Normalize {
            subtract: step(Source::File(file), 1.0),
            divide: step(slide(ReduceOp::Median, 4, 0), 0.3),
        },
        Normalize {
            subtract: step(slide(ReduceOp::Sum, 5, 0), 0.2),
            divide: None,
        },
    ];
    for kind in KINDS {
        let ram = hashed(kind, shape);
        let dtype = ram.dtype();
        let path = d.path().join(format!("{dtype}.npy"));
        write_npy(&path, &ram).unwrap();
        let mapped = load(&path, &LoadOptions::default(), &NoProgress).unwrap();
        assert!(mapped.is_mapped());
        let frame = p * dtype.size();
        for (c, n) in cases.iter().enumerate() {
            let n_out = n.output_frames(shape.frames);
            let whole = n.apply(&ram).unwrap();
            let whole = whole.as_slice::<f32>().unwrap();
            assert_eq!(whole.len(), n_out * p);
            for t in 0..n_out {
                for i in 0..p {
                    let want = naive_normalized(&ram, n, t, i);
                    assert!(
                        agrees(whole[t * p + i], &want),
                        "{dtype} case {c} t {t} i {i}: got {}, want {}",
                        whole[t * p + i],
                        want.want
                    );
                }
            }
            // the mapped file in frame order under budgets of one frame and more: runs of
            // whole output frames, in order, with the same bits
            for chunk in [1, frame, 3 * frame, 7 * frame + 5] {
                let mut got: Vec<f32> = Vec::new();
                let mut runs = 0;
                n.apply_chunked(&mapped, chunk, |t0, f: &[f32]| {
                    assert_eq!(t0 * p, got.len(), "in order");
                    assert_eq!(f.len() % p, 0, "whole frames");
                    got.extend_from_slice(f);
                    runs += 1;
                    Ok::<(), OpError>(())
                })
                .unwrap();
                assert!(runs > 1, "{dtype} case {c} chunk {chunk}: {runs} run(s)");
                assert_eq!(got.len(), whole.len());
                for (j, (a, b)) in got.iter().zip(whole).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{dtype} case {c} chunk {chunk} sample {j}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_failing_sink_stops_the_pass_with_its_error() {
    let s = hashed(Kind::U8, Shape::new(6, 4, 5, 1));
    let n = Normalize::subtract_sliding(ReduceOp::Mean, 2, 0);
    let mut calls = 0;
    let r = n.apply_chunked(&s, 20, |t0, _| {
        calls += 1;
        if t0 >= 2 {
            Err(OpError::Invalid("disk full".into()))
        } else {
            Ok(())
        }
    });
    assert_eq!(r.unwrap_err().to_string(), "disk full");
    assert_eq!(calls, 3, "one frame per run, stopped at frame 2");
}

/// The header text and f32 samples of a `.npy`, parsed here.
fn read_f32_npy(path: &Path) -> (String, Vec<f32>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = String::from_utf8(b[10..10 + len].to_vec()).unwrap();
    let data = b[10 + len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (header, data)
}

#[test]
fn cli_normalize_streams_a_result_over_the_ram_budget_into_the_npy() {
    let d = tempfile::tempdir().unwrap();
    let shape = Shape::new(9, 20, 30, 1);
    let s = hashed(Kind::U16, shape);
    let src = d.path().join("in.npy");
    write_npy(&src, &s).unwrap();
    let out = d.path().join("out.npy");
    // a budget of about 1 kB: the 14 kB result cannot be held, one frame is 2.4 kB
    let run = |out: &Path| {
        blitz()
            .arg("normalize")
            .arg(&src)
            .args([
                "--subtract",
                "sliding:mean:3:1",
                "--divide",
                "range:max:0:8",
            ])
            .args([
                "--amount-div",
                "0.5",
                "--max-ram",
                "0.000001",
                "--engine",
                "cpu",
            ])
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    let o = run(&out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("streamed to disk"), "{stdout}");
    let (header, got) = read_f32_npy(&out);
    assert!(header.contains("'descr': '<f4'"), "{header}");
    assert!(header.contains("'shape': (6, 20, 30)"), "{header}");
    let n = Normalize {
        subtract: step(slide(ReduceOp::Mean, 3, 1), 1.0),
        divide: step(
            Source::Range {
                op: ReduceOp::Max,
                range: FrameRange::new(0, 8),
            },
            0.5,
        ),
    };
    let p = shape.frame_len();
    assert_eq!(got.len(), 6 * p);
    for t in 0..6 {
        for i in 0..p {
            let want = naive_normalized(&s, &n, t, i);
            assert!(
                agrees(got[t * p + i], &want),
                "t {t} i {i}: got {}, want {}",
                got[t * p + i],
                want.want
            );
        }
    }
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // an output that cannot be created: an error naming it, no panic
    let bad = d.path().join("missing").join("out.npy");
    let o = run(&bad);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
