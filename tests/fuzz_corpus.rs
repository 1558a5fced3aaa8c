//! The fuzz corpus as a regression test (issue 16): every seed in `fuzz/seeds/<target>/`
//! and every input a fuzz run ever crashed on, kept in `tests/fuzz_crashes/<target>/`,
//! goes through the fuzz targets' own function (`fuzz/harness.rs`): no panic, an error
//! that names the file, and every seed loads.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::{Outcome, TARGETS, exercise};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs every file of `root/<target>/`; returns (file, outcome) and the panics.
fn replay(root: &Path) -> (Vec<(PathBuf, Outcome)>, Vec<String>) {
    let mut done = Vec::new();
    let mut panics = Vec::new();
    for (target, _) in TARGETS {
        for f in files(&root.join(target)) {
            let bytes = std::fs::read(&f).unwrap();
            match std::panic::catch_unwind(|| exercise(target, &bytes)) {
                Ok(o) => done.push((f, o)),
                Err(_) => panics.push(format!("{target}: {}", f.display())),
            }
        }
    }
    (done, panics)
}

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn every_seed_loads() {
    let (done, panics) = replay(&root("fuzz/seeds"));
    assert!(panics.is_empty(), "panics: {panics:?}");
    for (target, _) in TARGETS {
        assert!(
            done.iter()
                .any(|(f, _)| f.parent().unwrap().ends_with(target)),
            "no seed for the {target} target"
        );
    }
    for (f, o) in &done {
        assert_eq!(o, &Outcome::Loaded, "{}", f.display());
    }
}

#[test]
fn every_input_a_fuzz_run_crashed_on_is_a_clean_outcome_now() {
    let (done, panics) = replay(&root("tests/fuzz_crashes"));
    assert!(panics.is_empty(), "panics: {panics:?}");
    for (f, o) in &done {
        if let Outcome::Error(msg) = o {
            assert!(
                msg.contains("input."),
                "{}: error names no file: {msg}",
                f.display()
            );
        }
    }
}

/// The inputs a fuzz run kept (`fuzz/corpus/`, not committed), replayed for the counts
/// of docs/reliability.md: `cargo test --test fuzz_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "needs fuzz/corpus/ from a run of scripts/fuzz.sh"]
fn the_last_fuzz_runs_corpus_ends_cleanly() {
    let dir = root("fuzz/corpus");
    assert!(
        dir.is_dir(),
        "no {}: run scripts/fuzz.sh first",
        dir.display()
    );
    let (done, panics) = replay(&dir);
    let errors: Vec<&String> = done
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Error(m) => Some(m),
            Outcome::Loaded => None,
        })
        .collect();
    let unnamed: Vec<&&String> = errors.iter().filter(|m| !m.contains("input.")).collect();
    for (target, _) in TARGETS {
        let mine = |f: &PathBuf| f.parent().is_some_and(|p| p.ends_with(target));
        let n = done.iter().filter(|(f, _)| mine(f)).count();
        let loaded = done
            .iter()
            .filter(|(f, o)| mine(f) && *o == Outcome::Loaded)
            .count();
        eprintln!(
            "{target}: {n} inputs, {loaded} loaded, {} clean errors",
            n - loaded
        );
    }
    eprintln!(
        "corpus: {} inputs, {} loaded, {} clean errors ({} naming no file), {} panics",
        done.len() + panics.len(),
        done.len() - errors.len(),
        errors.len(),
        unnamed.len(),
        panics.len()
    );
    assert!(panics.is_empty(), "panics: {panics:?}");
    assert!(unnamed.is_empty(), "errors naming no file: {unnamed:?}");
}
