//! Damaged JPEGs: a file cut short is a skipped file with a reason (never a frame with a
//! filler for its missing part), and a header whose size does not fit the memory budget is
//! refused before anything is decoded.

mod common;

use std::path::Path;

use blitz::load::{self, LoadOptions};
use common::{jpeg_bytes, ram_opts};

/// Position of the size fields (height, width) of the first SOF0 segment.
fn sof_size_at(b: &[u8]) -> usize {
    b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap() + 5
}

fn write(p: &Path, b: &[u8]) {
    std::fs::write(p, b).unwrap();
}

#[test]
fn a_truncated_jpeg_in_a_folder_is_skipped_with_a_reason() {
    let d = tempfile::tempdir().unwrap();
    let whole = jpeg_bytes(40, 30);
    write(&d.path().join("0.jpg"), &whole);
    write(&d.path().join("1.jpg"), &whole[..whole.len() / 2]);
    write(&d.path().join("2.jpg"), &whole);
    let s = common::load_ok(d.path(), &ram_opts());
    assert_eq!(s.shape().frames, 2);
    assert_eq!(s.source.frame_index, vec![0, 2]);
    assert_eq!(s.source.skipped.len(), 1, "{:?}", s.source.skipped);
    let (file, why) = &s.source.skipped[0];
    assert!(file.ends_with("1.jpg"), "{file}");
    assert!(why.contains("truncated"), "{why}");
}

#[test]
fn a_single_truncated_jpeg_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let whole = jpeg_bytes(40, 30);
    let p = d.path().join("half.jpg");
    write(&p, &whole[..whole.len() / 2]);
    let e = load::load(&p, &ram_opts(), &load::NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("half.jpg") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn a_short_file_claiming_40000_by_40000_is_refused_before_decoding() {
    let d = tempfile::tempdir().unwrap();
    let mut b = jpeg_bytes(16, 16);
    let at = sof_size_at(&b);
    b[at..at + 2].copy_from_slice(&40000u16.to_be_bytes());
    b[at + 2..at + 4].copy_from_slice(&40000u16.to_be_bytes());
    b.truncate(928.min(b.len() - 2));
    let p = d.path().join("huge.jpg");
    write(&p, &b);
    // every storage: the disk cache must not be where the 4.8 GB go either
    for storage in [
        load::StorageChoice::Ram,
        load::StorageChoice::Auto,
        load::StorageChoice::Disk,
    ] {
        let o = LoadOptions {
            storage,
            cache_dir: Some(d.path().join("cache")),
            ..ram_opts()
        };
        let e = load::plan(&p, &o).unwrap_err().to_string();
        assert!(e.contains("huge.jpg"), "{e}");
    }
}

#[test]
fn a_whole_jpeg_whose_header_is_over_the_budget_is_refused_before_decoding() {
    let d = tempfile::tempdir().unwrap();
    let mut b = jpeg_bytes(16, 16);
    let at = sof_size_at(&b);
    b[at..at + 2].copy_from_slice(&40000u16.to_be_bytes());
    b[at + 2..at + 4].copy_from_slice(&40000u16.to_be_bytes());
    let p = d.path().join("big.jpg");
    write(&p, &b);
    for storage in [load::StorageChoice::Auto, load::StorageChoice::Disk] {
        let o = LoadOptions {
            storage,
            max_ram_gib: Some(0.5),
            cache_dir: Some(d.path().join("cache")),
            ..Default::default()
        };
        let e = load::plan(&p, &o).unwrap_err().to_string();
        assert!(e.contains("big.jpg") && e.contains("memory budget"), "{e}");
    }
    assert!(
        !d.path().join("cache").exists()
            || std::fs::read_dir(d.path().join("cache"))
                .unwrap()
                .next()
                .is_none()
    );
}
