//! `.npy` files (no pickle): u8, u16, i16, u32, i32, f32, f64; 2-D, 3-D or 4-D; C or
//! Fortran order; either byte order. A file that needs no conversion is memory-mapped
//! and nothing is read until used; any other is converted frame by frame in parallel.

use std::path::Path;
use std::sync::Arc;

use crate::stack::{Dtype, FileMap, Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::{OutBuf, mapped_stack};
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard,
};

/// A parsed `.npy` header, with the array read as (T, H, W, C).
#[derive(Clone, Debug, PartialEq)]
pub struct NpyHeader {
    pub dtype: SrcDtype,
    pub big_endian: bool,
    pub fortran_order: bool,
    /// Shape as stored in the file.
    pub shape: Vec<usize>,
    /// Byte offset of the data.
    pub data_offset: usize,
    /// The array read as (T, H, W, C); C may be 4 (alpha dropped on load).
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

fn npy_err(path: &Path, msg: impl Into<String>) -> LoadError {
    LoadError::Npy {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

/// Value of `'key':` in the header dict, up to the next top-level comma or brace.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k = header.find(&format!("'{key}'"))?;
    let rest = header[k + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    if let Some(r) = rest.strip_prefix('(') {
        return r.find(')').map(|e| &r[..e]);
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// Parses the header at the start of `bytes`; `file_len` checks the data fits.
pub fn parse_header(path: &Path, bytes: &[u8], file_len: u64) -> Result<NpyHeader, LoadError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(npy_err(path, "not a .npy file (bad magic)"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(npy_err(path, "truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(npy_err(path, format!("unsupported .npy version {v}"))),
    };
    let end = start + hlen;
    if bytes.len() < end {
        return Err(npy_err(path, "truncated header"));
    }
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| npy_err(path, "header is not text"))?;
    for key in ["descr", "fortran_order", "shape"] {
        let n = header.matches(&format!("'{key}'")).count()
            + header.matches(&format!("\"{key}\"")).count();
        if n > 1 {
            // numpy would silently keep the last one; an ambiguous header is refused
            return Err(npy_err(
                path,
                format!("header has the key '{key}' {n} times"),
            ));
        }
    }
    let descr = dict_value(header, "descr")
        .ok_or_else(|| npy_err(path, "header has no 'descr'"))?
        .trim_matches(['\'', '"']);
    let fortran_order = match dict_value(header, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(npy_err(path, "header has no valid 'fortran_order'")),
    };
    let shape_txt =
        dict_value(header, "shape").ok_or_else(|| npy_err(path, "header has no 'shape'"))?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| npy_err(path, format!("bad shape ({shape_txt})")))?;
    // the byte-order mark is one character, which need not be one byte in a bad header
    let split = descr.chars().next().map_or(0, char::len_utf8);
    let (order, code) = descr.split_at(split);
    let big_endian = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return Err(npy_err(path, format!("unsupported dtype '{descr}'"))),
    };
    let dtype = match code {
        "u1" => SrcDtype::U8,
        "u2" => SrcDtype::U16,
        "i2" => SrcDtype::I16,
        "u4" => SrcDtype::U32,
        "i4" => SrcDtype::I32,
        "f4" => SrcDtype::F32,
        "f8" => SrcDtype::F64,
        _ => {
            return Err(npy_err(
                path,
                format!(
                    "unsupported dtype '{descr}' (supported: u1, u2, i2, u4, i4, f4, f8; no objects)"
                ),
            ));
        }
    };
    let (frames, height, width, channels) = match shape.as_slice() {
        [h, w] => (1, *h, *w, 1),
        [h, w, 3] => (1, *h, *w, 3),
        [t, h, w] => (*t, *h, *w, 1),
        [t, h, w, c @ (1 | 3 | 4)] => (*t, *h, *w, *c),
        [_, _, _, c] => {
            return Err(npy_err(
                path,
                format!("4-D array with {c} channels (supported: 1, 3, 4)"),
            ));
        }
        s => {
            return Err(npy_err(
                path,
                format!("{}-D array (supported: 2-D, 3-D, 4-D)", s.len()),
            ));
        }
    };
    let elems = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| npy_err(path, "shape overflows"))?;
    let need = (elems as u64)
        .checked_mul(dtype.size() as u64)
        .and_then(|b| b.checked_add(end as u64))
        .ok_or_else(|| npy_err(path, format!("shape {shape:?} is too large")))?;
    if need > file_len {
        return Err(npy_err(
            path,
            format!(
                "header claims {} bytes of data, the file holds {} (truncated?)",
                need - end as u64,
                file_len.saturating_sub(end as u64)
            ),
        ));
    }
    if elems == 0 {
        return Err(npy_err(path, "the array is empty"));
    }
    Ok(NpyHeader {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_offset: end,
        frames,
        height,
        width,
        channels,
    })
}

fn map(path: &Path) -> Result<Arc<FileMap>, LoadError> {
    FileMap::open(path)
        .map(Arc::new)
        .map_err(|e| LoadError::io(path, e))
}

/// The `.npy` type string of a stored dtype.
pub fn npy_descr(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::U8 => "|u1",
        Dtype::U16 => "<u2",
        Dtype::F32 => "<f4",
    }
}

/// `.npy` header (version 1.0) for a little-endian C-order array of `dims`, padded with
/// spaces to a multiple of 64 bytes and to at least `min_len` bytes (a cache file
/// reserves a fixed header so that its frames can be written before their count is
/// known).
pub fn npy_header(descr: &str, dims: &[usize], min_len: usize) -> Vec<u8> {
    let shape = match dims {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}").into_bytes();
    // magic (6) + version (2) + length (2) + dict + newline
    while !(10 + dict.len() + 1).is_multiple_of(64) || 10 + dict.len() + 1 < min_len {
        dict.push(b' ');
    }
    dict.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict);
    out
}

/// Reads the header only (a few kB), never the data.
pub fn read_header(path: &Path) -> Result<NpyHeader, LoadError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let len = f.metadata().map_err(|e| LoadError::io(path, e))?.len();
    let mut head = vec![0u8; 1 << 16];
    let mut got = 0;
    while got < head.len() {
        let n = f
            .read(&mut head[got..])
            .map_err(|e| LoadError::io(path, e))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    head.truncate(got);
    parse_header(path, &head, len)
}

pub(crate) fn stored_dtype(h: &NpyHeader) -> Option<Dtype> {
    match h.dtype {
        SrcDtype::U8 => Some(Dtype::U8),
        SrcDtype::U16 => Some(Dtype::U16),
        SrcDtype::F32 => Some(Dtype::F32),
        _ => None,
    }
}

/// True for the one shape read two ways: (A, B, 3), by default one colour image.
fn colour_or_frames(h: &NpyHeader) -> bool {
    matches!(h.shape.as_slice(), [_, _, 3])
}

/// The header read as the options ask: with `as_frames`, (A, B, 3) is A frames of B x 3.
fn as_asked(mut h: NpyHeader, opts: &LoadOptions) -> NpyHeader {
    if opts.as_frames && colour_or_frames(&h) {
        (h.frames, h.height, h.width, h.channels) = (h.shape[0], h.shape[1], h.shape[2], 1);
    }
    h
}

pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let h = as_asked(read_header(path)?, opts);
    let pipeline = FramePipeline::new(h.dtype, h.height, h.width, h.channels, opts)?;
    let sel = Selection::resolve(h.frames, opts)?;
    let frame_bytes = (pipeline.frame_len() * pipeline.out.size()) as u64;
    let mappable = !h.big_endian
        && !h.fortran_order
        && sel.step == 1
        && stored_dtype(&h).is_some_and(|d| pipeline.is_identity(h.height, h.width, h.channels, d))
        && h.data_offset.is_multiple_of(h.dtype.size());
    let (sel, report) = if mappable {
        (sel, guard::not_applied(sel, frame_bytes, budget))
    } else {
        guard::apply(path, sel, frame_bytes, budget)?
    };
    let mut notes = Vec::new();
    if colour_or_frames(&h) {
        let [a, b, c] = [h.shape[0], h.shape[1], h.shape[2]];
        notes.push(if opts.as_frames {
            format!("3-D array {a}x{b}x{c} read as {a} gray frames of {c}x{b} (as frames)")
        } else {
            format!(
                "3-D array {a}x{b}x{c} read as one {b}x{a} colour image; load it as frames \
                 (--as-frames) for {a} gray frames of {c}x{b}"
            )
        });
    }
    if !mappable {
        notes.push(format!(
            "converted on load ({}{}{})",
            h.dtype.name(),
            if h.fortran_order {
                ", Fortran order"
            } else {
                ""
            },
            if h.big_endian { ", big-endian" } else { "" }
        ));
    }
    Ok(Plan {
        path: path.to_path_buf(),
        kind: SourceKind::Npy,
        source_frames: h.frames,
        frames_exact: true,
        source_height: h.height,
        source_width: h.width,
        source_channels: if h.channels == 4 { 3 } else { h.channels },
        source_dtype: h.dtype,
        selection: sel,
        shape: Shape::new(sel.count(), pipeline.out_h, pipeline.out_w, pipeline.out_c),
        dtype: pipeline.out,
        mapped: mappable,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes,
        fps: None,
        time_range: None,
        detail: Detail::Npy(h),
    })
}

/// Element strides (in elements) of the t, y, x, c axes.
fn strides(h: &NpyHeader) -> [usize; 4] {
    let s = &h.shape;
    // per stored axis stride
    let mut st = vec![0usize; s.len()];
    if h.fortran_order {
        let mut acc = 1;
        for (i, d) in s.iter().enumerate() {
            st[i] = acc;
            acc *= d;
        }
    } else {
        let mut acc = 1;
        for (i, d) in s.iter().enumerate().rev() {
            st[i] = acc;
            acc *= d;
        }
    }
    // (H, W, 3) is one RGB frame; (1, H, W) is one gray frame
    let rgb_frame = s.len() == 3 && h.frames == 1 && h.channels == 3;
    match (s.len(), rgb_frame) {
        (2, _) => [0, st[0], st[1], 0],
        (3, true) => [0, st[0], st[1], st[2]],
        (3, false) => [st[0], st[1], st[2], 0],
        _ => [st[0], st[1], st[2], st[3]],
    }
}

/// Reads frame `t` as a raw frame (converting element type and byte order).
fn read_frame(h: &NpyHeader, data: &[u8], t: usize) -> RawFrame {
    let [st, sy, sx, sc] = strides(h);
    let (hh, w, c) = (h.height, h.width, h.channels);
    let size = h.dtype.size();
    let be = h.big_endian;
    let at = |i: usize| -> &[u8] { &data[i * size..(i + 1) * size] };
    let idx = |k: usize| {
        let (y, rem) = (k / (w * c), k % (w * c));
        let (x, ch) = (rem / c, rem % c);
        t * st + y * sy + x * sx + ch * sc
    };
    let n = hh * w * c;
    macro_rules! conv {
        ($ty:ty, $n:expr) => {{
            let f = |b: &[u8]| {
                let a: [u8; $n] = b.try_into().expect("element size");
                if be {
                    <$ty>::from_be_bytes(a)
                } else {
                    <$ty>::from_le_bytes(a)
                }
            };
            (0..n).map(move |k| f(at(idx(k))))
        }};
    }
    let data = match h.dtype {
        SrcDtype::U8 => RawData::U8((0..n).map(|k| data[idx(k)]).collect()),
        SrcDtype::U16 => RawData::U16(conv!(u16, 2).collect()),
        SrcDtype::I16 => RawData::F32(conv!(i16, 2).map(|v| v as f32).collect()),
        SrcDtype::U32 => RawData::F32(conv!(u32, 4).map(|v| v as f32).collect()),
        SrcDtype::I32 => RawData::F32(conv!(i32, 4).map(|v| v as f32).collect()),
        SrcDtype::F32 => RawData::F32(conv!(f32, 4).collect()),
        SrcDtype::F64 => RawData::F32(conv!(f64, 8).map(|v| v as f32).collect()),
    };
    RawFrame { h: hh, w, c, data }
}

pub fn load(
    plan: &Plan,
    h: &NpyHeader,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    let path = &plan.path;
    let m = map(path)?;
    let sel = plan.selection;
    let source = SourceInfo {
        frame_index: sel.indices().collect(),
        ..Default::default()
    };
    let frame_len = plan.shape.frame_len();
    if plan.mapped {
        let offset = h.data_offset + sel.first * frame_len * plan.dtype.size();
        return Ok(mapped_stack(path, plan.shape, plan.dtype, m, offset)?.with_source(source));
    }
    let pipe = FramePipeline::new(h.dtype, h.height, h.width, h.channels, opts)?;
    let data = &m.bytes()[h.data_offset..];
    let count = sel.count();
    let mut buf = OutBuf::for_plan(plan, count)?;
    progress.start("converting .npy", count as u64);
    buf.par_fill(
        count,
        frame_len,
        1,
        || Ok(()),
        |_, k, slot| {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled(path.clone()));
            }
            pipe.run(path, read_frame(h, data, sel.index(k)), slot)?;
            progress.advance(1);
            Ok(())
        },
    )?
    .into_iter()
    .collect::<Result<(), LoadError>>()?;
    buf.into_stack(plan.shape, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dict: &str, data_len: u64) -> Result<NpyHeader, LoadError> {
        let mut h = dict.as_bytes().to_vec();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(b' ');
        }
        h.push(b'\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(&h);
        let len = b.len() as u64 + data_len;
        parse_header(Path::new("t.npy"), &b, len)
    }

    #[test]
    fn parses_shapes_into_thwc() {
        let h = header(
            "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4, 5), }",
            120,
        )
        .unwrap();
        assert_eq!((h.frames, h.height, h.width, h.channels), (3, 4, 5, 1));
        assert_eq!(h.dtype, SrcDtype::U16);
        assert_eq!(h.data_offset % 64, 0);
        let h = header(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 5), }",
            20,
        )
        .unwrap();
        assert_eq!((h.frames, h.height, h.width, h.channels), (1, 4, 5, 1));
        let h = header(
            "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 4, 5, 3), }",
            960,
        )
        .unwrap();
        assert!(h.big_endian && h.fortran_order);
        assert_eq!(h.channels, 3);
    }

    #[test]
    fn refuses_short_data_objects_and_bad_ndim() {
        let e = header(
            "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4, 5), }",
            119,
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("header claims 120 bytes")
        );
        assert!(
            header(
                "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }",
                100
            )
            .is_err()
        );
        assert!(
            header(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                100
            )
            .is_err()
        );
        assert!(
            header(
                "{'descr': '<c8', 'fortran_order': False, 'shape': (3, 3), }",
                100
            )
            .is_err()
        );
    }

    #[test]
    fn fortran_strides_address_the_same_pixel() {
        let h = header(
            "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }",
            24,
        )
        .unwrap();
        // F order: element (t, y, x) sits at t + 2 * (y + 3 * x)
        let data: Vec<u8> = (0..24).collect();
        let f = read_frame(&h, &data, 1);
        match f.data {
            RawData::U8(v) => {
                assert_eq!(v[0], 1); // (1, 0, 0)
                assert_eq!(v[1], 1 + 2 * 3); // (1, 0, 1)
                assert_eq!(v[4], 1 + 2); // (1, 1, 0)
            }
            _ => panic!("u8 expected"),
        }
    }
}
