//! Princeton Instruments / Roper `.spe` files (WinView/WinSpec 2.x and LightField 3.0):
//! the 4100-byte binary header (x size at byte 42, y size at 656, frame count at 1446,
//! data type at 108) and frames back to back after it, little-endian. A 3.0 file's XML
//! footer may give a frame stride (per-frame metadata after each frame); files with more
//! than one region of interest are refused. u8, u16 and f32 frames are memory-mapped.

use std::os::unix::fs::FileExt;
use std::path::Path;

use super::guard::Budget;
use super::raw::{self, FramePlaces, RawLayout, Sample};
use super::{LoadError, LoadOptions, Plan, SourceKind};

const HEADER_LEN: usize = 4100;

fn unsupported(path: &Path, why: impl std::fmt::Display) -> LoadError {
    LoadError::Unsupported {
        path: path.to_path_buf(),
        hint: format!(" (Princeton SPE {why})"),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// The value of attribute `name` in the XML tag starting at `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let end = tag.find('>')?;
    let t = &tag[..end];
    let k = t.find(&format!(" {name}=\""))? + name.len() + 3;
    let v = &t[k..];
    Some(&v[..v.find('"')?])
}

/// The frame stride a 3.0 footer gives, and the number of regions it describes.
fn footer_stride(
    path: &Path,
    f: &std::fs::File,
    at: u64,
    len: u64,
) -> Result<(Option<u64>, usize), LoadError> {
    if at < HEADER_LEN as u64 || at >= len {
        return Ok((None, 1));
    }
    let n = (len - at).min(1 << 20) as usize;
    let mut buf = vec![0u8; n];
    f.read_exact_at(&mut buf, at)
        .map_err(|e| LoadError::io(path, e))?;
    let text = String::from_utf8_lossy(&buf);
    let stride = text
        .find("<DataBlock type=\"Frame\"")
        .and_then(|i| attr(&text[i..], "stride"))
        .and_then(|v| v.parse().ok());
    let regions = text.matches("<DataBlock type=\"Region\"").count().max(1);
    Ok((stride, regions))
}

/// Reads the header into the layout of the frames.
pub fn layout(path: &Path) -> Result<RawLayout, LoadError> {
    let f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let len = f.metadata().map_err(|e| LoadError::io(path, e))?.len();
    if len < HEADER_LEN as u64 {
        return Err(LoadError::decode(
            path,
            format!("Princeton SPE: {len} bytes, shorter than the 4100-byte header"),
        ));
    }
    let mut b = vec![0u8; HEADER_LEN];
    f.read_exact_at(&mut b, 0)
        .map_err(|e| LoadError::io(path, e))?;
    if u16_at(&b, 4098) != 0x5555 {
        return Err(LoadError::decode(
            path,
            "Princeton SPE: no 0x5555 mark at byte 4098: not an SPE file",
        ));
    }
    let (w, h) = (u16_at(&b, 42) as usize, u16_at(&b, 656) as usize);
    let frames = i32::from_le_bytes([b[1446], b[1447], b[1448], b[1449]]);
    let dtype = i16::from_le_bytes([b[108], b[109]]);
    let version = f32::from_le_bytes([b[1992], b[1993], b[1994], b[1995]]);
    if w == 0 || h == 0 || frames <= 0 {
        return Err(LoadError::decode(
            path,
            format!("Princeton SPE: {w} x {h} pixels, {frames} frames"),
        ));
    }
    let sample = match dtype {
        0 => Sample::F32 { be: false },
        1 => Sample::I32 { be: false },
        2 => Sample::I16 { be: false },
        3 => Sample::U16 { be: false },
        5 => Sample::F64 { be: false },
        6 => Sample::U8,
        8 => Sample::U32 { be: false },
        d => return Err(unsupported(path, format!("data type {d}"))),
    };
    let row = w * sample.bits() / 8;
    let frame_bytes = (row * h) as u64;
    let (stride, regions) = if version >= 3.0 {
        let at = u64::from_le_bytes(b[678..686].try_into().unwrap_or([0; 8]));
        footer_stride(path, &f, at, len)?
    } else {
        (None, 1)
    };
    if regions > 1 {
        return Err(unsupported(
            path,
            format!("3.0 file with {regions} regions of interest"),
        ));
    }
    let stride = stride.filter(|&s| s >= frame_bytes).unwrap_or(frame_bytes);
    // the last frame needs its own bytes only, not a whole stride
    let room = len.saturating_sub(HEADER_LEN as u64);
    let whole = if room < frame_bytes {
        0
    } else {
        ((room - frame_bytes) / stride + 1).min(frames as u64) as usize
    };
    if whole == 0 {
        raw::whole_frames(
            path,
            frames as usize,
            HEADER_LEN as u64,
            frame_bytes,
            len,
            "the SPE header",
        )?;
    }
    let mut notes = vec![format!(
        "Princeton SPE {version}: data type {dtype} ({} bits)",
        sample.bits()
    )];
    if whole < frames as usize {
        notes.push(raw::truncated_note(frames as usize, whole, len));
    }
    Ok(RawLayout {
        kind: SourceKind::Spe,
        h,
        w,
        c: 1,
        sample,
        bgr: false,
        bottom_up: false,
        row_stride: row,
        places: FramePlaces::Strided {
            offset: HEADER_LEN as u64,
            stride,
        },
        frames: whole,
        scale: None,
        fps: None,
        times: Vec::new(),
        notes,
        copy_reason: (stride != frame_bytes)
            .then(|| "per-frame metadata follows every frame".to_string()),
    })
}

/// Plans the load of an SPE file.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    raw::plan(path, layout(path)?, opts, budget)
}
