//! `blitz normalize` keeps its output under the RAM budget (issue 16, item 3): a result
//! that does not fit beside the loaded stack is streamed to its `.npy` or `.tif` frame
//! run by frame run. Peak memory is the child's own high-water mark (`wait4`'s
//! `ru_maxrss`), compared with that of `blitz info` on the same input, which loads
//! nothing but the binary itself.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs blitz; returns (success, stdout + stderr, peak resident set in bytes).
// the child is reaped by wait4, which std does not know about
#[allow(clippy::zombie_processes)]
fn run_measured(args: &[&str]) -> (bool, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we hold
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // ru_maxrss is in KiB on Linux
    (ok, text, usage.ru_maxrss as u64 * 1024)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const BUDGET_GIB: f64 = 0.03;

/// The extra peak memory of `normalize INPUT -o out` over `info INPUT`, with the output
/// checked against the same normalization held in RAM (a budget of 1 GiB).
fn extra_peak(input: &Path, out_name: &str) -> u64 {
    let d = input.parent().unwrap();
    let (ok, text, base) = run_measured(&["info", s(input)]);
    assert!(ok, "{text}");
    let out = d.join(out_name);
    let budget = BUDGET_GIB.to_string();
    let norm = |out: &Path, ram: &str| {
        run_measured(&[
            "normalize",
            s(input),
            "--subtract",
            "range:mean:0:7",
            "--engine",
            "cpu",
            "--max-ram",
            ram,
            "-o",
            s(out),
        ])
    };
    let (ok, text, peak) = norm(&out, &budget);
    assert!(ok, "{text}");
    assert!(text.contains("streamed to disk"), "{text}");
    let reference = d.join(format!("ref-{out_name}"));
    let (ok, text, _) = norm(&reference, "1");
    assert!(ok, "{text}");
    assert!(!text.contains("streamed"), "{text}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&reference).unwrap(),
        "the streamed file differs from the one written from RAM"
    );
    peak.saturating_sub(base)
}

/// 64 frames of 512 x 512 u8 (16 MiB; the f32 result is 64 MiB, twice the budget).
fn input(dir: &Path, ext: &str) -> std::path::PathBuf {
    let p = dir.join(format!("in.{ext}"));
    let o = Command::new(env!("CARGO_BIN_EXE_blitz"))
        .args(["convert", "demo", "--last", "63", "-o", s(&p)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p
}

#[test]
fn normalize_to_tif_streams_a_result_over_the_budget() {
    let d = tempfile::tempdir().unwrap();
    let extra = extra_peak(&input(d.path(), "npy"), "out.tif");
    let budget = (BUDGET_GIB * (1u64 << 30) as f64) as u64;
    assert!(
        extra <= budget,
        "peak {extra} bytes over the binary's own, budget {budget}"
    );
}

#[test]
fn a_stack_in_ram_counts_against_the_budget_of_the_result() {
    // a TIFF loads into RAM (16 MiB); with a budget of 72 MiB the 64 MiB result alone
    // would fit, the two together do not
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path(), "tif");
    let (ok, text, base) = run_measured(&["info", s(&src)]);
    assert!(ok, "{text}");
    let out = d.path().join("out.npy");
    let (ok, text, peak) = run_measured(&[
        "normalize",
        s(&src),
        "--subtract",
        "range:mean:0:7",
        "--engine",
        "cpu",
        "--max-ram",
        "0.0703125",
        "-o",
        s(&out),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("streamed to disk"), "{text}");
    let budget = 72u64 << 20;
    let extra = peak.saturating_sub(base);
    assert!(
        extra <= budget,
        "peak {extra} bytes over the binary's own, budget {budget}"
    );
}
