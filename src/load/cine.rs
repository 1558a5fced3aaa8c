//! Phantom `.cine` recordings (Vision Research), read from the published layout: the
//! file header (CINEFILEHEADER), the bitmap header (BITMAPINFOHEADER), the camera setup
//! (SETUP: frame rate, real bit depth), the tagged blocks after it (time of every image),
//! the table of image offsets and, before every image, its annotation block.
//!
//! Values stay as the camera recorded them: 8-bit mono as u8, 16-bit and the packed
//! 10/12-bit forms as u16, 24/48-bit colour as RGB. Uncompressed images are stored last
//! row first (bitmap order) and are flipped to top-down; packed images are stored top-down.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::guard::Budget;
use super::raw::{self, FramePlaces, RawLayout, Sample};
use super::{LoadError, LoadOptions, Plan, SourceKind};

/// Bytes of the file header.
const HEADER_LEN: usize = 44;
/// Bytes of the bitmap header.
const BITMAP_LEN: usize = 40;
/// Offsets inside SETUP (bytes from its start) of the fields read here.
const SETUP_FRAME_RATE16: usize = 0;
const SETUP_MARK: usize = 140;
const SETUP_LENGTH: usize = 142;
const SETUP_FRAME_RATE: usize = 768;
const SETUP_CFA: usize = 808;
const SETUP_REAL_BPP: usize = 896;
/// Tagged block holding one TIME64 per image.
const TAG_TIME_ONLY: u16 = 1002;
/// Older tagged block with the same TIME64 per image.
const TAG_TIME_TOTAL: u16 = 1001;
/// biCompression of the packed forms.
const BI_PACKED10: u32 = 256;
const BI_PACKED12: u32 = 1024;

fn err(path: &Path, msg: impl std::fmt::Display) -> LoadError {
    LoadError::decode(path, format!("Phantom cine: {msg}"))
}

/// Reads `len` bytes at `at`, or fewer when the file ends first.
fn read_upto(
    f: &File,
    path: &Path,
    at: u64,
    len: usize,
    file_len: u64,
) -> Result<Vec<u8>, LoadError> {
    let n = (file_len.saturating_sub(at)).min(len as u64) as usize;
    let mut b = vec![0u8; n];
    f.read_exact_at(&mut b, at)
        .map_err(|e| LoadError::io(path, e))?;
    Ok(b)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}

/// A TIME64 (fraction of a second in 1/2^32, then seconds) as (seconds, fraction).
fn time64(b: &[u8], at: usize) -> Option<(u32, u32)> {
    Some((u32_at(b, at + 4)?, u32_at(b, at)?))
}

/// Seconds from `t0` to `t`.
fn seconds_between(t: (u32, u32), t0: (u32, u32)) -> f64 {
    (t.0 as i64 - t0.0 as i64) as f64 + (t.1 as i64 - t0.1 as i64) as f64 / 4_294_967_296.0
}

/// The facts of the file header.
struct FileHeader {
    compression: u16,
    first_image_no: i32,
    image_count: usize,
    off_bitmap: u64,
    off_setup: u64,
    off_offsets: u64,
    trigger: (u32, u32),
}

fn file_header(path: &Path, b: &[u8]) -> Result<FileHeader, LoadError> {
    if b.len() < HEADER_LEN || &b[..2] != b"CI" {
        return Err(err(path, "not a cine file (no 'CI' header)"));
    }
    let get = |at| u32_at(b, at).unwrap_or(0);
    let h = FileHeader {
        compression: u16_at(b, 4).unwrap_or(0),
        first_image_no: i32_at(b, 16).unwrap_or(0),
        image_count: get(20) as usize,
        off_bitmap: get(24) as u64,
        off_setup: get(28) as u64,
        off_offsets: get(32) as u64,
        trigger: time64(b, 36).unwrap_or((0, 0)),
    };
    if h.image_count == 0 {
        return Err(err(path, "the file header announces no image"));
    }
    Ok(h)
}

/// What the setup says, where it says it.
#[derive(Default)]
struct Setup {
    fps: Option<f64>,
    real_bpp: Option<u32>,
    cfa: u32,
    /// Byte where the tagged blocks begin.
    tags_at: Option<u64>,
}

fn setup(b: &[u8], off_setup: u64) -> Setup {
    let marked = b.get(SETUP_MARK..SETUP_MARK + 2) == Some(b"ST");
    // fields past the end of a (shorter, older) setup are not there
    let length = if marked {
        u16_at(b, SETUP_LENGTH).map_or(0, |l| l as usize)
    } else {
        0
    };
    let field = |at: usize| (at + 4 <= length).then(|| u32_at(b, at)).flatten();
    let fps = field(SETUP_FRAME_RATE)
        .filter(|&r| r > 0)
        .map(f64::from)
        .or_else(|| {
            u16_at(b, SETUP_FRAME_RATE16)
                .filter(|&r| r > 0)
                .map(f64::from)
        });
    Setup {
        fps,
        real_bpp: field(SETUP_REAL_BPP).filter(|b| (1..=16).contains(b)),
        cfa: field(SETUP_CFA).unwrap_or(0),
        tags_at: (length > 0).then(|| off_setup + length as u64),
    }
}

/// The TIME64 of every image from the tagged blocks between the setup and the offset
/// table, when a time block there holds one for each image.
fn image_times(
    f: &File,
    path: &Path,
    from: u64,
    until: u64,
    count: usize,
    file_len: u64,
) -> Result<Option<Vec<(u32, u32)>>, LoadError> {
    let until = until.min(file_len);
    let mut at = from;
    for _ in 0..64 {
        if at + 8 > until {
            break;
        }
        let head = read_upto(f, path, at, 8, file_len)?;
        let (size, kind) = (
            u32_at(&head, 0).unwrap_or(0) as u64,
            u16_at(&head, 4).unwrap_or(0),
        );
        if size < 8 || at + size > until {
            break;
        }
        if (kind == TAG_TIME_ONLY || kind == TAG_TIME_TOTAL) && (size - 8) / 8 >= count as u64 {
            let b = read_upto(f, path, at + 8, count * 8, file_len)?;
            let times: Option<Vec<_>> = (0..count).map(|i| time64(&b, i * 8)).collect();
            return Ok(times);
        }
        at += size;
    }
    Ok(None)
}

/// Reads the headers of a cine file into the layout of its images.
pub fn layout(path: &Path) -> Result<RawLayout, LoadError> {
    let f = File::open(path).map_err(|e| LoadError::io(path, e))?;
    let len = f.metadata().map_err(|e| LoadError::io(path, e))?.len();
    let head = read_upto(&f, path, 0, HEADER_LEN, len)?;
    let fh = file_header(path, &head)?;
    if fh.compression == 1 {
        return Err(LoadError::Unsupported {
            path: path.to_path_buf(),
            hint: " (a JPEG-compressed Phantom cine; only uncompressed and packed cines are read)"
                .into(),
        });
    }
    let bm = read_upto(&f, path, fh.off_bitmap, BITMAP_LEN, len)?;
    if bm.len() < BITMAP_LEN {
        return Err(err(
            path,
            format!(
                "the bitmap header at byte {} is past the end of the file ({len} bytes)",
                fh.off_bitmap
            ),
        ));
    }
    let width = i32_at(&bm, 4).unwrap_or(0);
    let height = i32_at(&bm, 8).unwrap_or(0);
    let bit_count = u16_at(&bm, 14).unwrap_or(0);
    let bi_compression = u32_at(&bm, 16).unwrap_or(0);
    let size_image = u32_at(&bm, 20).unwrap_or(0) as u64;
    let clr_important = u32_at(&bm, 36).unwrap_or(0);
    if width <= 0 || height == 0 {
        return Err(err(
            path,
            format!("image size {width} x {height} in the bitmap header"),
        ));
    }
    let (w, h) = (width as usize, height.unsigned_abs() as usize);
    let setup_bytes = read_upto(&f, path, fh.off_setup, 1 << 16, len)?;
    let st = setup(&setup_bytes, fh.off_setup);
    let (sample, c) = match (bi_compression, bit_count) {
        (BI_PACKED10, _) => (Sample::Packed10, 1),
        (BI_PACKED12, _) => (Sample::Packed12, 1),
        (0, 8) => (Sample::U8, 1),
        // some writers leave biCompression at 0 for packed images: the size tells
        (0, 16) if size_image as u128 * 8 == w as u128 * h as u128 * 10 => (Sample::Packed10, 1),
        (0, 16) if size_image as u128 * 8 == w as u128 * h as u128 * 12 => (Sample::Packed12, 1),
        (0, 16) => (Sample::U16 { be: false }, 1),
        (0, 24) => (Sample::U8, 3),
        (0, 48) => (Sample::U16 { be: false }, 3),
        (comp, bits) => {
            return Err(LoadError::Unsupported {
                path: path.to_path_buf(),
                hint: format!(
                    " (a Phantom cine with {bits}-bit images of compression {comp}; read are 8, 16, 24 and 48-bit and packed 10/12-bit)"
                ),
            });
        }
    };
    let packed = matches!(sample, Sample::Packed10 | Sample::Packed12);
    let row = w
        .checked_mul(c)
        .and_then(|n| raw::packed_len(n, sample))
        .ok_or_else(|| {
            err(
                path,
                format!(
                    "{w} packed {}-bit samples per row do not end on a byte",
                    sample.bits()
                ),
            )
        })?;
    // bitmap rows may be padded to 4 bytes; the image size says whether they are
    let padded = row.div_ceil(4) * 4;
    let row_stride = if !packed && padded != row && size_image as u128 == padded as u128 * h as u128
    {
        padded
    } else {
        row
    };
    let frame_bytes = (row_stride as u64)
        .checked_mul(h as u64)
        .filter(|&b| b <= len)
        .ok_or_else(|| {
            err(
                path,
                format!(
                    "images of {w} x {h} x {bit_count} bits are larger than the file ({len} bytes)"
                ),
            )
        })?;

    // the offset table must lie inside the file before any image is looked at
    let total = fh.image_count;
    let table_end = (total as u64)
        .checked_mul(8)
        .and_then(|b| b.checked_add(fh.off_offsets))
        .filter(|&e| e <= len)
        .ok_or_else(|| {
            err(path, format!(
                "the header announces {total} images, but their offset table at byte {} would end past the file ({len} bytes)",
                fh.off_offsets
            ))
        })?;
    let table = read_upto(&f, path, fh.off_offsets, total * 8, len)?;
    let starts: Vec<u64> = table
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    if let Some((i, s)) = starts.iter().enumerate().find(|(_, s)| **s < table_end) {
        return Err(err(
            path,
            format!(
                "image {i} is said to start at byte {s}, inside the headers (they end at byte {table_end})"
            ),
        ));
    }
    // the first annotation gives the size all images are checked with here; each image's
    // own is checked again when it is read
    let a0 = read_upto(&f, path, starts[0], 4, len)?;
    let annotation = u32_at(&a0, 0).map(u64::from).ok_or_else(|| {
        err(
            path,
            format!(
                "image 0 at byte {} is past the end of the file ({len} bytes): not one whole image",
                starts[0]
            ),
        )
    })?;
    if annotation < 8 || annotation > len {
        return Err(err(
            path,
            format!("image 0 has an annotation of {annotation} bytes"),
        ));
    }
    let whole = starts
        .iter()
        .take_while(|&&s| {
            s.checked_add(annotation + frame_bytes)
                .is_some_and(|e| e <= len)
        })
        .count();
    if whole == 0 {
        return Err(err(
            path,
            format!(
                "image 0 needs bytes {}..{} but the file holds {len}: not one whole image",
                starts[0],
                starts[0] + annotation + frame_bytes
            ),
        ));
    }

    let times = match st.tags_at {
        Some(from) => image_times(&f, path, from, fh.off_offsets, total, len)?,
        None => None,
    };
    let times: Vec<f64> = match (times, st.fps) {
        (Some(t), _) => t
            .iter()
            .take(whole)
            .map(|&t| seconds_between(t, fh.trigger))
            .collect(),
        (None, Some(fps)) => (0..whole)
            .map(|i| (fh.first_image_no as f64 + i as f64) / fps)
            .collect(),
        (None, None) => Vec::new(),
    };

    let bits = st.real_bpp.map(|b| b as usize).or_else(|| {
        (clr_important.is_power_of_two() && (256..=65536).contains(&clr_important))
            .then(|| clr_important.trailing_zeros() as usize)
    });
    let bits = bits
        .filter(|&b| b <= sample.bits())
        .unwrap_or(sample.bits());
    let mut notes = vec![format!(
        "Phantom cine: {}{}-bit {} samples{}{}, first image {} relative to the trigger",
        if packed { "packed " } else { "" },
        bits,
        if c == 3 { "RGB" } else { "mono" },
        if packed {
            format!(" ({}-bit packed in the file)", sample.bits())
        } else if bits < sample.bits() {
            format!(" in {}-bit words", sample.bits())
        } else {
            String::new()
        },
        st.fps
            .map(|r| format!(", {r} frames/s"))
            .unwrap_or_default(),
        fh.first_image_no,
    )];
    if fh.compression == 2 || (c == 1 && st.cfa != 0) {
        notes.push(
            "colour sensor data: the samples are the raw colour-filter mosaic, not demosaiced"
                .into(),
        );
    }
    if whole < total {
        notes.push(raw::truncated_note(total, whole, len));
    }
    let mut starts = starts;
    starts.truncate(whole);
    Ok(RawLayout {
        kind: SourceKind::Cine,
        h,
        w,
        c,
        sample,
        bgr: c == 3,
        // a negative height means top-down rows; packed images are stored top-down
        bottom_up: height > 0 && !packed,
        row_stride,
        places: FramePlaces::Annotated(Arc::new(starts)),
        frames: whole,
        scale: None,
        fps: st.fps,
        times,
        notes,
        copy_reason: Some(
            "a cine stores every image after its own annotation block, and uncompressed images bottom row first, so no single mapping shows the frames"
                .into(),
        ),
    })
}

/// Plans the load of a cine file.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    raw::plan(path, layout(path)?, opts, budget)
}

/// Checks a file's first bytes for a cine header.
pub fn sniff(head: &[u8]) -> bool {
    head.len() >= 4 && &head[..2] == b"CI" && u16_at(head, 2) == Some(HEADER_LEN as u16)
}
