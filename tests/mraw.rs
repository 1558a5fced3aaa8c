//! Photron `.mraw` with a `.cih` (text) or `.cihx` (XML after a binary preamble) header,
//! written here from the published layout: 8, 12 (packed) and 16-bit mono, 24-bit
//! colour, mapping, rate and times, the path given as header or data, missing
//! partners, truncated and lying files.

mod common;

use std::path::{Path, PathBuf};

use blitz::Dtype;
use blitz::load::{LoadOptions, NoProgress, SourceKind, Storage, load, plan};
use common::{load_ok, ram_opts, values_u16};

/// Frame t of a recording: w * h * c values below 2^bits.
fn frame(t: usize, w: usize, h: usize, c: usize, bits: u32) -> Vec<u16> {
    let max = (1u32 << bits) - 1;
    (0..w * h * c)
        .map(|i| ((i as u32 * 37 + t as u32 * 1009 + (i / w) as u32 * 7) % (max + 1)) as u16)
        .collect()
}

/// The `.mraw` bytes of `frames` at `bits` per sample (8, 12 packed, 16 little-endian).
fn mraw_bytes(frames: &[Vec<u16>], bits: u32) -> Vec<u8> {
    let all: Vec<u16> = frames.concat();
    match bits {
        8 => all.iter().map(|&v| v as u8).collect(),
        12 => all
            .chunks(2)
            .flat_map(|p| {
                let v = ((p[0] as u32) << 12) | p[1] as u32;
                [(v >> 16) as u8, (v >> 8) as u8, v as u8]
            })
            .collect(),
        _ => all.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

struct Rec {
    w: usize,
    h: usize,
    c: usize,
    /// Color Bit in the header
    bits: u32,
    frames: Vec<Vec<u16>>,
    fps: u32,
    start: i64,
}

impl Rec {
    fn mono(w: usize, h: usize, n: usize, bits: u32) -> Rec {
        let vb = if bits == 16 { 12 } else { bits };
        Rec {
            w,
            h,
            c: 1,
            bits,
            frames: (0..n).map(|t| frame(t, w, h, 1, vb)).collect(),
            fps: 50000,
            start: 0,
        }
    }

    fn cih_text(&self) -> String {
        format!(
            "#Camera Information Header\nDate : 2017/7/13\nRecord Rate(fps) : {}\nShutter Speed(s) : 1/100000\nTotal Frame : {}\nStart Frame : {}\nImage Width : {}\nImage Height : {}\nColor Type : {}\nColor Bit : {}\nFile Format : MRaw\nEffectiveBit Depth : 12\nEffectiveBit Side : Lower\n\n",
            self.fps,
            self.frames.len(),
            self.start,
            self.w,
            self.h,
            if self.c == 3 { "Color" } else { "Mono" },
            self.bits
        )
    }

    fn cihx_bytes(&self) -> Vec<u8> {
        let mut b = b"!!! This file can not be edited. !!!".to_vec();
        b.extend(vec![0u8; 300]);
        b.extend(b"CIHX\x00\x01\x02\x03");
        b.extend(format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<cih>\n<fileInfo><version>1.0</version></fileInfo>\n<imageFileInfo><fileFormat>Mraw</fileFormat><resolution><width>{w}</width><height>{h}</height></resolution></imageFileInfo>\n<imageDataInfo><resolution><width>{w}</width><height>{h}</height></resolution><colorInfo><type>{ty}</type><bit>{bits}</bit></colorInfo><effectiveBit><depth>12</depth><side>Lower</side></effectiveBit></imageDataInfo>\n<frameInfo><recordedFrame>400</recordedFrame><totalFrame>{n}</totalFrame><startFrame>{start}</startFrame></frameInfo>\n<recordInfo><recordRate>{fps}</recordRate></recordInfo>\n</cih>\n",
            w = self.w,
            h = self.h,
            ty = if self.c == 3 { "Color" } else { "Mono" },
            bits = self.bits,
            n = self.frames.len(),
            start = self.start,
            fps = self.fps,
        ).into_bytes());
        b
    }

    /// Writes `<stem>.cih` or `<stem>.cihx` and `<stem>.mraw`; returns the header's path.
    fn write(&self, dir: &Path, stem: &str, xml: bool) -> PathBuf {
        let sample_bits = if self.c == 3 {
            self.bits / 3
        } else {
            self.bits
        };
        std::fs::write(
            dir.join(format!("{stem}.mraw")),
            mraw_bytes(&self.frames, sample_bits),
        )
        .unwrap();
        let h = dir.join(format!("{stem}.{}", if xml { "cihx" } else { "cih" }));
        if xml {
            std::fs::write(&h, self.cihx_bytes()).unwrap();
        } else {
            std::fs::write(&h, self.cih_text()).unwrap();
        }
        h
    }
}

#[test]
fn sixteen_and_eight_bit_recordings_are_mapped_with_their_values() {
    let d = tempfile::tempdir().unwrap();
    for (bits, xml, dtype) in [
        (16, true, Dtype::U16),
        (16, false, Dtype::U16),
        (8, false, Dtype::U8),
        (8, true, Dtype::U8),
    ] {
        let r = Rec::mono(6, 4, 3, bits);
        let stem = format!("r{bits}{xml}");
        let h = r.write(d.path(), &stem, xml);
        let p = plan(&h, &ram_opts()).unwrap();
        assert_eq!(p.kind, SourceKind::Mraw);
        assert!(p.mapped && p.storage == Storage::Mapped, "{bits}-bit {xml}");
        assert_eq!((p.shape.frames, p.shape.height, p.shape.width), (3, 4, 6));
        let s = load_ok(&h, &ram_opts());
        assert!(s.is_mapped());
        assert_eq!(s.dtype(), dtype);
        assert_eq!(values_u16(&s), r.frames.concat(), "{bits}-bit {xml}");
        assert_eq!(s.source.fps, Some(50000.0));
        assert_eq!(s.source.frame_time, vec![0.0, 1.0 / 50000.0, 2.0 / 50000.0]);
    }
}

#[test]
fn twelve_bit_packed_frames_unpack_to_u16() {
    let d = tempfile::tempdir().unwrap();
    for xml in [false, true] {
        let mut r = Rec::mono(8, 3, 4, 12);
        r.frames[0][0] = 4095;
        r.frames[0][1] = 0;
        r.frames[0][2] = 2048;
        let h = r.write(d.path(), &format!("p{xml}"), xml);
        let p = plan(&h, &ram_opts()).unwrap();
        assert!(!p.mapped);
        assert!(p.notes.join("\n").contains("packed"), "{:?}", p.notes);
        let s = load_ok(&h, &ram_opts());
        assert_eq!(s.dtype(), Dtype::U16);
        assert_eq!(values_u16(&s), r.frames.concat());
    }
}

#[test]
fn the_data_file_finds_its_header_and_a_step_copies_the_frames() {
    let d = tempfile::tempdir().unwrap();
    let mut r = Rec::mono(5, 2, 5, 16);
    r.fps = 1000;
    r.start = -2;
    r.write(d.path(), "rec", true);
    let mraw = d.path().join("rec.mraw");
    let o = LoadOptions {
        step: Some(2),
        ..ram_opts()
    };
    let s = load_ok(&mraw, &o);
    assert!(!s.is_mapped());
    assert_eq!(s.source.frame_index, vec![0, 2, 4]);
    assert_eq!(
        values_u16(&s),
        [
            r.frames[0].clone(),
            r.frames[2].clone(),
            r.frames[4].clone()
        ]
        .concat()
    );
    // start frame -2: frames 0, 2, 4 are at -2, 0, +2 ms from the trigger
    assert_eq!(s.source.frame_time, vec![-0.002, 0.0, 0.002]);
    // --first/--last map the range they keep
    let o = LoadOptions {
        first: Some(1),
        last: Some(3),
        ..ram_opts()
    };
    let s = load_ok(&mraw, &o);
    assert!(s.is_mapped());
    assert_eq!(values_u16(&s), r.frames[1..4].concat());
}

#[test]
fn colour_recordings_are_rgb() {
    let d = tempfile::tempdir().unwrap();
    let r = Rec {
        w: 3,
        h: 2,
        c: 3,
        bits: 24,
        frames: (0..2).map(|t| frame(t, 3, 2, 3, 8)).collect(),
        fps: 25,
        start: 0,
    };
    let h = r.write(d.path(), "c", false);
    let s = load_ok(&h, &ram_opts());
    assert_eq!((s.shape().channels, s.dtype()), (3, Dtype::U8));
    assert_eq!(values_u16(&s), r.frames.concat());
}

#[test]
fn missing_partners_are_named() {
    let d = tempfile::tempdir().unwrap();
    let r = Rec::mono(4, 2, 2, 16);
    let h = r.write(d.path(), "x", false);
    std::fs::remove_file(d.path().join("x.mraw")).unwrap();
    let e = load(&h, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(e.contains("x.mraw") && e.contains("x.cih"), "{e}");
    r.write(d.path(), "y", false);
    std::fs::remove_file(d.path().join("y.cih")).unwrap();
    let e = load(&d.path().join("y.mraw"), &ram_opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.cih"), "{e}");
}

#[test]
fn a_truncated_recording_keeps_its_whole_frames_and_says_how_many_were_lost() {
    let d = tempfile::tempdir().unwrap();
    let r = Rec::mono(4, 4, 6, 16);
    let h = r.write(d.path(), "t", true);
    let m = d.path().join("t.mraw");
    let b = std::fs::read(&m).unwrap();
    // 32 bytes a frame: keep 3 whole frames and half of the fourth
    std::fs::write(&m, &b[..3 * 32 + 16]).unwrap();
    let s = load_ok(&h, &ram_opts());
    assert_eq!(s.shape().frames, 3);
    assert!(s.is_mapped());
    assert_eq!(values_u16(&s), r.frames[..3].concat());
    let notes = s.source.notes.join("\n");
    assert!(
        notes.contains("6 frames") && notes.contains("3 lost"),
        "{notes}"
    );
}

#[test]
fn lying_headers_give_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let r = Rec::mono(4, 4, 2, 16);
    r.write(d.path(), "big", false);
    let h = d.path().join("big.cih");
    // frames far larger than the file: not one whole frame, and nothing allocated for it
    let text = r
        .cih_text()
        .replace("Image Width : 4", "Image Width : 4000000");
    std::fs::write(&h, text).unwrap();
    let e = load(&h, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(
        e.contains("not one whole frame") && e.contains("big.mraw"),
        "{e}"
    );
    // a frame count of billions keeps the frames that are there
    let text = r
        .cih_text()
        .replace("Total Frame : 2", "Total Frame : 4000000000");
    std::fs::write(&h, text).unwrap();
    let s = load_ok(&h, &ram_opts());
    assert_eq!(s.shape().frames, 2);
    // no size at all
    std::fs::write(&h, "Total Frame : 2\nColor Bit : 16\n").unwrap();
    let e = load(&h, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(e.contains("Image Width") && e.contains("big.cih"), "{e}");
    // an unknown depth
    let text = r.cih_text().replace("Color Bit : 16", "Color Bit : 10");
    std::fs::write(&h, text).unwrap();
    let e = load(&h, &ram_opts(), &NoProgress).unwrap_err().to_string();
    assert!(e.contains("unsupported") && e.contains("10 bits"), "{e}");
    // a .cihx without its XML
    std::fs::write(
        d.path().join("big.cihx"),
        b"!!! This file can not be edited. !!!\0\0\0",
    )
    .unwrap();
    let e = load(&d.path().join("big.cihx"), &ram_opts(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(e.contains("<cih>") && e.contains("big.cihx"), "{e}");
}

/// The real recording in ../shared/data, checked against pyMRAW when it is there; the
/// suite does not need it.
#[test]
fn the_real_recording_gives_the_reference_readers_values() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/beam.cihx");
    if !p.exists() {
        return;
    }
    let s = load_ok(&p, &ram_opts());
    assert!(s.is_mapped());
    assert_eq!(s.shape().dims(), (4, 80, 1024, 1));
    let v = s.as_slice::<u16>().unwrap();
    assert_eq!(v.iter().map(|&x| x as u64).sum::<u64>(), 252_377_021);
    assert_eq!(s.value_range(), Some((0.0, 4095.0)));
    assert_eq!(
        (0..4).map(|x| s.value(0, 0, x, 0)).collect::<Vec<_>>(),
        vec![76.0, 83.0, 79.0, 63.0]
    );
    assert_eq!(
        (1020..1024)
            .map(|x| s.value(3, 79, x, 0))
            .collect::<Vec<_>>(),
        vec![842.0, 779.0, 885.0, 922.0]
    );
    assert_eq!(s.source.fps, Some(50000.0));
}
