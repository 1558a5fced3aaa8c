//! Phantom `.cine`: files written here from the published layout (CINEFILEHEADER,
//! BITMAPINFOHEADER, SETUP, tagged time block, image offsets, an annotation before each
//! image), read back exactly: 8 and 16-bit, packed 10/12-bit, colour, row order, frame
//! rate and trigger-relative times, selections, truncated and lying files.

mod common;

use std::path::{Path, PathBuf};

use blitz::load::{
    LoadError, LoadOptions, NoProgress, SourceKind, Storage, StorageChoice, load, plan,
};
use common::{load_ok, ram_opts, values_u16};

/// How a test cine is stored.
#[derive(Clone)]
struct Cine {
    w: usize,
    h: usize,
    /// bitmap bit count: 8, 16, 24 (BGR) or 48 (BGR)
    bits: u16,
    /// biCompression: 0, 256 (packed 10-bit) or 1024 (packed 12-bit)
    packed: u32,
    /// frames top-down, `w * h * channels` values each
    frames: Vec<Vec<u16>>,
    fps: u32,
    real_bpp: u32,
    first_image_no: i32,
    /// trigger TIME64 as (seconds, fraction / 2^32)
    trigger: (u32, u32),
    /// TIME64 of every image, written as a 1002 tagged block
    times: Option<Vec<(u32, u32)>>,
    annotation: u32,
    /// negative biHeight: rows stored top-down
    top_down: bool,
}

impl Cine {
    fn new(w: usize, h: usize, bits: u16, frames: Vec<Vec<u16>>) -> Cine {
        Cine {
            w,
            h,
            bits,
            packed: 0,
            frames,
            fps: 1000,
            real_bpp: bits as u32,
            first_image_no: 0,
            trigger: (1_000_000, 0),
            times: None,
            annotation: 8,
            top_down: false,
        }
    }

    fn channels(&self) -> usize {
        if self.bits == 24 || self.bits == 48 {
            3
        } else {
            1
        }
    }

    /// One image's bytes as the camera stores it.
    fn image(&self, f: &[u16]) -> Vec<u8> {
        let row = self.w * self.channels();
        match self.packed {
            256 => f
                .chunks(4)
                .flat_map(|p| {
                    let v: u64 = p.iter().fold(0, |a, &s| (a << 10) | s as u64);
                    (0..5).rev().map(move |i| (v >> (8 * i)) as u8)
                })
                .collect(),
            1024 => f
                .chunks(2)
                .flat_map(|p| {
                    let v: u32 = ((p[0] as u32) << 12) | p[1] as u32;
                    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
                })
                .collect(),
            _ => {
                let mut out = Vec::new();
                let rows: Vec<usize> = if self.top_down {
                    (0..self.h).collect()
                } else {
                    (0..self.h).rev().collect()
                };
                for y in rows {
                    for px in f[y * row..(y + 1) * row].chunks(self.channels()) {
                        // colour is stored B, G, R
                        for &s in px.iter().rev() {
                            if self.bits == 8 || self.bits == 24 {
                                out.push(s as u8);
                            } else {
                                out.extend((s).to_le_bytes());
                            }
                        }
                    }
                }
                out
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let n = self.frames.len();
        let setup_len = 1000usize;
        let (off_bitmap, off_setup) = (44u32, 84u32);
        let tags = match &self.times {
            Some(t) => {
                let mut b = Vec::new();
                b.extend((8 + 8 * t.len() as u32).to_le_bytes());
                b.extend(1002u16.to_le_bytes());
                b.extend(0u16.to_le_bytes());
                for &(s, f) in t {
                    b.extend(f.to_le_bytes());
                    b.extend(s.to_le_bytes());
                }
                b
            }
            None => Vec::new(),
        };
        let off_offsets = off_setup as usize + setup_len + tags.len();
        let images: Vec<Vec<u8>> = self.frames.iter().map(|f| self.image(f)).collect();
        let mut b = Vec::new();
        // CINEFILEHEADER
        b.extend(b"CI");
        b.extend(44u16.to_le_bytes());
        b.extend(0u16.to_le_bytes()); // compression: CC_RGB
        b.extend(1u16.to_le_bytes());
        b.extend(self.first_image_no.to_le_bytes());
        b.extend((n as u32).to_le_bytes());
        b.extend(self.first_image_no.to_le_bytes());
        b.extend((n as u32).to_le_bytes());
        b.extend(off_bitmap.to_le_bytes());
        b.extend(off_setup.to_le_bytes());
        b.extend((off_offsets as u32).to_le_bytes());
        b.extend(self.trigger.1.to_le_bytes());
        b.extend(self.trigger.0.to_le_bytes());
        assert_eq!(b.len(), 44);
        // BITMAPINFOHEADER
        let height = if self.top_down {
            -(self.h as i32)
        } else {
            self.h as i32
        };
        b.extend(40u32.to_le_bytes());
        b.extend((self.w as i32).to_le_bytes());
        b.extend(height.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(self.bits.to_le_bytes());
        b.extend(self.packed.to_le_bytes());
        b.extend((images[0].len() as u32).to_le_bytes());
        b.extend([0u8; 8]);
        b.extend(0u32.to_le_bytes());
        b.extend((1u32 << self.real_bpp.min(16)).to_le_bytes());
        assert_eq!(b.len(), 84);
        // SETUP: FrameRate16, mark, length, FrameRate, RealBPP
        let mut s = vec![0u8; setup_len];
        s[0..2].copy_from_slice(&(self.fps as u16).to_le_bytes());
        s[140..142].copy_from_slice(b"ST");
        s[142..144].copy_from_slice(&(setup_len as u16).to_le_bytes());
        s[768..772].copy_from_slice(&self.fps.to_le_bytes());
        s[896..900].copy_from_slice(&self.real_bpp.to_le_bytes());
        b.extend(s);
        b.extend(tags);
        assert_eq!(b.len(), off_offsets);
        let mut at = (off_offsets + 8 * n) as u64;
        for img in &images {
            b.extend(at.to_le_bytes());
            at += self.annotation as u64 + img.len() as u64;
        }
        for img in &images {
            b.extend(self.annotation.to_le_bytes());
            b.extend(vec![0u8; self.annotation as usize - 8]);
            b.extend((img.len() as u32).to_le_bytes());
            b.extend(img);
        }
        b
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, self.bytes()).unwrap();
        p
    }
}

/// Frame t of w x h x c values: a ramp that differs in every row, column and frame.
fn ramp(t: usize, w: usize, h: usize, c: usize, max: u16) -> Vec<u16> {
    (0..w * h * c)
        .map(|i| ((i * 7 + t * 131 + i / (w * c) * 1000) % (max as usize + 1)) as u16)
        .collect()
}

fn frames(n: usize, w: usize, h: usize, c: usize, max: u16) -> Vec<Vec<u16>> {
    (0..n).map(|t| ramp(t, w, h, c, max)).collect()
}

#[test]
fn sixteen_bit_frames_read_top_down_with_rate_and_trigger_times() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Cine::new(6, 5, 16, frames(4, 6, 5, 1, 4095));
    c.fps = 2000;
    c.real_bpp = 12;
    c.first_image_no = -2;
    c.trigger = (1_000_000, 1 << 31);
    // frames at trigger - 1 ms, -0.5 ms, 0, +0.5 ms (fractions of 2^32 per second)
    let frac = |s: f64| (s * 4_294_967_296.0).round() as u32;
    c.times = Some(vec![
        (1_000_000, frac(0.499)),
        (1_000_000, frac(0.4995)),
        (1_000_000, 1 << 31),
        (1_000_000, frac(0.5005)),
    ]);
    let p = c.write(d.path(), "a.cine");
    let pl = plan(&p, &ram_opts()).unwrap();
    assert_eq!(pl.kind, SourceKind::Cine);
    assert_eq!(
        (pl.shape.frames, pl.shape.height, pl.shape.width),
        (4, 5, 6)
    );
    assert!(!pl.mapped);
    let notes = pl.notes.join("\n");
    assert!(
        notes.contains("12-bit") && notes.contains("2000 frames/s"),
        "{notes}"
    );
    assert!(notes.contains("not memory-mapped"), "{notes}");
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.dtype(), blitz::Dtype::U16);
    let want: Vec<u16> = c.frames.concat();
    assert_eq!(values_u16(&s), want);
    // row 0 of the stack is the top row: the last row stored
    assert_eq!(s.value(1, 0, 3, 0), c.frames[1][3] as f32);
    assert_eq!(s.source.fps, Some(2000.0));
    let t = &s.source.frame_time;
    assert_eq!(t.len(), 4);
    for (got, want) in t.iter().zip([-0.001, -0.0005, 0.0, 0.0005]) {
        assert!((got - want).abs() < 1e-8, "{t:?}");
    }
    assert_eq!(s.source.frame_index, vec![0, 1, 2, 3]);
}

#[test]
fn without_a_time_block_times_come_from_the_first_image_number_and_the_rate() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Cine::new(4, 2, 16, frames(5, 4, 2, 1, 60000));
    c.fps = 100;
    c.first_image_no = -3;
    let p = c.write(d.path(), "a.cine");
    let o = LoadOptions {
        first: Some(1),
        step: Some(2),
        ..ram_opts()
    };
    let s = load_ok(&p, &o);
    assert_eq!(s.shape().frames, 2);
    assert_eq!(s.source.frame_index, vec![1, 3]);
    assert_eq!(
        values_u16(&s),
        [c.frames[1].clone(), c.frames[3].clone()].concat()
    );
    let t = &s.source.frame_time;
    assert!((t[0] + 0.02).abs() < 1e-12 && t[1].abs() < 1e-12, "{t:?}");
}

#[test]
fn eight_bit_frames_stay_u8() {
    let d = tempfile::tempdir().unwrap();
    let c = Cine::new(5, 3, 8, frames(3, 5, 3, 1, 255));
    let p = c.write(d.path(), "a.cine");
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.dtype(), blitz::Dtype::U8);
    assert_eq!(values_u16(&s), c.frames.concat());
}

#[test]
fn packed_ten_and_twelve_bit_frames_unpack_to_their_values() {
    let d = tempfile::tempdir().unwrap();
    for (packed, max) in [(256u32, 1023u16), (1024, 4095)] {
        let mut c = Cine::new(8, 3, 16, frames(3, 8, 3, 1, max));
        c.packed = packed;
        // extremes in the first pixels of frame 0
        c.frames[0][0] = max;
        c.frames[0][1] = 0;
        c.frames[0][2] = 1;
        let p = c.write(d.path(), &format!("p{packed}.cine"));
        let s = load_ok(&p, &ram_opts());
        assert_eq!(s.dtype(), blitz::Dtype::U16);
        assert_eq!(values_u16(&s), c.frames.concat(), "biCompression {packed}");
        let notes = s.source.notes.join("\n");
        assert!(notes.contains("packed"), "{notes}");
    }
}

#[test]
fn colour_frames_become_rgb_and_top_down_files_stay_in_order() {
    let d = tempfile::tempdir().unwrap();
    for bits in [24u16, 48] {
        let max = if bits == 24 { 255 } else { 65535 };
        let mut c = Cine::new(3, 4, bits, frames(2, 3, 4, 3, max));
        c.frames[0][0..3].copy_from_slice(&[10, 20, 30]);
        let p = c.write(d.path(), &format!("c{bits}.cine"));
        let s = load_ok(&p, &ram_opts());
        assert_eq!(s.shape().channels, 3);
        assert_eq!(values_u16(&s), c.frames.concat(), "{bits}-bit");
        assert_eq!((s.value(0, 0, 0, 0), s.value(0, 0, 0, 2)), (10.0, 30.0));
    }
    let mut c = Cine::new(4, 3, 16, frames(2, 4, 3, 1, 9999));
    c.top_down = true;
    let p = c.write(d.path(), "td.cine");
    assert_eq!(values_u16(&load_ok(&p, &ram_opts())), c.frames.concat());
}

#[test]
fn load_options_and_disk_storage_apply_to_cine() {
    let d = tempfile::tempdir().unwrap();
    let c = Cine::new(4, 2, 16, frames(3, 4, 2, 1, 65535));
    let p = c.write(d.path(), "a.cine");
    let s = load_ok(
        &p,
        &LoadOptions {
            to_8bit: true,
            ..ram_opts()
        },
    );
    let want: Vec<u16> = c
        .frames
        .concat()
        .iter()
        .map(|&v| (v as f32 / 65535.0 * 255.0) as u16)
        .collect();
    assert_eq!(values_u16(&s), want);
    let disk = LoadOptions {
        storage: StorageChoice::Disk,
        cache_dir: Some(d.path().join("cache")),
        ..ram_opts()
    };
    assert_eq!(plan(&p, &disk).unwrap().storage, Storage::Disk);
    let s = load_ok(&p, &disk);
    assert!(s.is_mapped());
    assert_eq!(values_u16(&s), c.frames.concat());
    assert_eq!(s.source.fps, Some(1000.0));
}

#[test]
fn a_truncated_file_keeps_its_whole_frames_and_says_how_many_were_lost() {
    let d = tempfile::tempdir().unwrap();
    let c = Cine::new(4, 4, 16, frames(5, 4, 4, 1, 999));
    let mut b = c.bytes();
    // cut frame 3 in the middle: frames 0, 1, 2 stay whole
    let frame = 8 + 4 * 4 * 2;
    b.truncate(b.len() - frame - frame / 2);
    let p = d.path().join("cut.cine");
    std::fs::write(&p, &b).unwrap();
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.shape().frames, 3);
    assert_eq!(values_u16(&s), c.frames[..3].concat());
    let notes = s.source.notes.join("\n");
    assert!(
        notes.contains("5 frames") && notes.contains("2 lost"),
        "{notes}"
    );
}

fn err_of(b: &[u8], name: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    std::fs::write(&p, b).unwrap();
    let e: LoadError = load(&p, &ram_opts(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(name), "the error names the file: {msg}");
    msg
}

#[test]
fn lying_headers_give_clear_errors() {
    let c = Cine::new(4, 4, 16, frames(2, 4, 4, 1, 999));
    let good = c.bytes();
    let set = |at: usize, v: &[u8]| {
        let mut b = good.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    // an image count whose offset table runs past the file
    let m = err_of(&set(20, &u32::MAX.to_le_bytes()), "count.cine");
    assert!(m.contains("offset table"), "{m}");
    // a bitmap far larger than the file
    let m = err_of(&set(44 + 4, &100_000i32.to_le_bytes()), "size.cine");
    assert!(m.contains("larger than the file"), "{m}");
    // an image offset inside the headers
    let table = u32::from_le_bytes(good[32..36].try_into().unwrap()) as usize;
    let m = err_of(&set(table, &10u64.to_le_bytes()), "inside.cine");
    assert!(m.contains("inside the headers"), "{m}");
    // an image offset past the end: no whole image
    let m = err_of(&set(table, &(1u64 << 40).to_le_bytes()), "past.cine");
    assert!(m.contains("past the end"), "{m}");
    // an annotation claiming gigabytes
    let first = u64::from_le_bytes(good[table..table + 8].try_into().unwrap()) as usize;
    let m = err_of(&set(first, &u32::MAX.to_le_bytes()), "annot.cine");
    assert!(m.contains("annotation"), "{m}");
    // not a cine at all
    let m = err_of(b"XX not a cine file at all, just bytes", "nope.cine");
    assert!(m.contains("not a cine"), "{m}");
    let m = err_of(&good[..30], "short.cine");
    assert!(m.contains("cine"), "{m}");
}

#[test]
fn a_cine_with_another_extension_is_found_by_its_header() {
    let d = tempfile::tempdir().unwrap();
    let c = Cine::new(4, 2, 16, frames(2, 4, 2, 1, 999));
    let p = c.write(d.path(), "recording.bin");
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.source.kind, "phantom cine");
    assert_eq!(values_u16(&s), c.frames.concat());
}

/// The real recording in ../shared/data, checked against pims when it is there; the
/// suite does not need it.
#[test]
fn the_real_recording_gives_the_reference_readers_values() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cine_legacy.cine");
    if !p.exists() {
        return;
    }
    let s = load_ok(&p, &ram_opts());
    assert_eq!(s.shape().dims(), (97, 128, 128, 1));
    let v = s.as_slice::<u16>().unwrap();
    assert_eq!(v.iter().map(|&x| x as u64).sum::<u64>(), 6_634_654_973);
    let px = |t: usize, y: usize, x: usize| s.value(t, y, x, 0);
    assert_eq!(
        (60..64).map(|x| px(0, 64, x)).collect::<Vec<_>>(),
        vec![2825.0, 2456.0, 1999.0, 1607.0]
    );
    assert_eq!(
        (100..104).map(|x| px(50, 10, x)).collect::<Vec<_>>(),
        vec![5407.0, 5297.0, 5305.0, 5246.0]
    );
    let mean96 = (0..128 * 128)
        .map(|i| s.frame(96).get_f32(i) as f64)
        .sum::<f64>()
        / 16384.0;
    assert!((mean96 - 5102.0405).abs() < 1e-3);
    assert_eq!(s.source.fps, Some(35087.0));
    // first image -7722 at 35087 frames/s: about 0.22 s before the trigger
    let t = &s.source.frame_time;
    assert!((t[0] + 7722.0 / 35087.0).abs() < 1e-4, "{}", t[0]);
    assert!(
        t.windows(2)
            .all(|w| (w[1] - w[0] - 1.0 / 35087.0).abs() < 2e-6)
    );
}
