//! What every fuzz target does with its input, shared with `tests/fuzz_corpus.rs`, which
//! replays the seed corpus and every crash ever found through the same function: the
//! bytes become a file of the target's kind, which `blitz::load::load` plans and loads
//! under a small RAM budget. Any outcome but a panic or an abort is fine here; the
//! replay test also wants every error to name the file.

use std::path::{Path, PathBuf};

/// The fuzz targets: name, file extension of the input.
pub const TARGETS: &[(&str, &str)] = &[
    ("npy", "npy"),
    ("tiff", "tif"),
    ("ascii", "asc"),
    ("cine", "cine"),
    ("mraw", "cihx"),
    ("spe", "spe"),
    ("fits", "fits"),
];

/// How one input ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Loaded,
    Error(String),
}

/// A folder of this process's own for the inputs (one per thread: tests run in parallel).
fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "blitz-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn write(p: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(p, bytes) {
        panic!("fuzz harness: cannot write {}: {e}", p.display());
    }
}

/// Loads `bytes` as an input of `target`, with 64 MiB of RAM and no disk storage.
pub fn exercise(target: &str, bytes: &[u8]) -> Outcome {
    let Some(&(_, ext)) = TARGETS.iter().find(|(t, _)| *t == target) else {
        panic!("unknown fuzz target {target}");
    };
    let dir = scratch();
    let path = dir.join(format!("input.{ext}"));
    write(&path, bytes);
    let data = dir.join("input.mraw");
    if target == "mraw" && !data.exists() {
        // the header is fuzzed; its data file is fixed: two frames of the seed's 80 x 1024
        // u16 samples (320 KiB)
        let samples: Vec<u8> = (0..2 * 80 * 1024 * 2u32)
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        write(&data, &samples);
    }
    let opts = blitz::LoadOptions {
        max_ram_gib: Some(1.0 / 16.0),
        storage: blitz::load::StorageChoice::Ram,
        cache_dir: Some(dir.join("cache")),
        ..Default::default()
    };
    match blitz::load::load(&path, &opts, &blitz::NoProgress) {
        Ok(_) => Outcome::Loaded,
        Err(e) => Outcome::Error(blitz::report::report(&e)),
    }
}
