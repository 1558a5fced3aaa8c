//! Outputs that are not plain files, and header parsers on malformed input: exports
//! follow symbolic links, write FIFOs and devices directly and report their write
//! errors, keep the mode of the file they replace, and leave no temporary file behind;
//! bad `.npy` headers are clean errors.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{blitz, fails, npy_bytes, ok, stderr};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small valid u8 `.npy` (2 frames of 4 x 4) to export from.
fn input(dir: &Path) -> PathBuf {
    let p = dir.join("in.npy");
    let mut b = blitz::export::npy_header("|u1", &[2, 4, 4]);
    b.extend((0..32u8).collect::<Vec<_>>());
    std::fs::write(&p, b).unwrap();
    p
}

fn no_partials(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn export_through_a_symlink_writes_its_target() {
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path());
    let real = d.path().join("real.npy");
    std::fs::write(&real, b"old").unwrap();
    let link = d.path().join("link.npy");
    std::os::unix::fs::symlink("real.npy", &link).unwrap();
    ok(&["convert", s(&src), "-o", s(&link)]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&real).unwrap(), std::fs::read(&src).unwrap());
    no_partials(d.path());
}

#[test]
fn export_keeps_the_mode_of_the_file_it_replaces() {
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path());
    let out = d.path().join("out.npy");
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&["convert", s(&src), "-o", s(&out)]);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&src).unwrap());
}

#[test]
fn export_to_dev_full_is_an_error_and_dev_full_stays_a_device() {
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path());
    let err = fails(&["convert", s(&src), "-o", "/dev/full"]);
    assert!(err.contains("/dev/full"), "{err}");
    assert!(
        std::fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn export_to_a_fifo_writes_into_it() {
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path());
    let fifo = d.path().join("pipe.npy");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    ok(&["convert", s(&src), "-o", s(&fifo)]);
    let got = reader.join().unwrap();
    assert_eq!(got, std::fs::read(&src).unwrap());
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    no_partials(d.path());
}

#[test]
fn stale_partials_of_dead_processes_are_swept() {
    let d = tempfile::tempdir().unwrap();
    let src = input(d.path());
    // a process id above the kernel's maximum cannot be running
    let stale = d.path().join(".out.npy.part-99999999");
    std::fs::write(&stale, b"partial").unwrap();
    let mine = d.path().join(".other.npy.part-1");
    std::fs::write(&mine, b"init's").unwrap();
    ok(&["convert", s(&src), "-o", s(&d.path().join("out.npy"))]);
    assert!(!stale.exists());
    assert!(mine.exists(), "a live process's file is kept");
}

fn raw_npy(dir: &Path, dict: &str) -> PathBuf {
    let p = dir.join("bad.npy");
    std::fs::write(&p, npy_bytes(dict, &[0u8; 64])).unwrap();
    p
}

#[test]
fn npy_descr_with_a_multibyte_first_character_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = raw_npy(
        d.path(),
        "{'descr': '\u{e9}u2', 'fortran_order': False, 'shape': (4, 4), }",
    );
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("unsupported dtype"), "{err}");
}

#[test]
fn npy_duplicate_keys_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = raw_npy(
        d.path(),
        "{'descr': '|u1', 'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }",
    );
    let err = fails(&["info", s(&p)]);
    assert!(err.contains("'descr' 2 times"), "{err}");
    let o = blitz(&["info", s(&p)]);
    assert!(!stderr(&o).contains("panicked"));
}
