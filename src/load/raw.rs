//! Raw camera and instrument stacks: frames of one fixed layout at known places in one
//! file (Phantom `.cine`, Photron `.mraw`, Princeton `.spe`, FITS). A format module reads
//! its header into a [`RawLayout`]; this module plans the load (memory guard, mapping)
//! and decodes the frames in parallel, each straight into its slot of the final buffer.
//!
//! Every place a frame is read from was checked against the file length when planning
//! and is checked again when read, so a header that lies can only produce an error.

use std::path::Path;
use std::sync::Arc;

use crate::stack::{Dtype, FileMap, Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::{OutBuf, Slot, mapped_stack};
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard,
};

/// How one sample is stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    U8,
    U16 {
        be: bool,
    },
    /// Signed 16-bit with an offset of 32768: FITS's convention for unsigned data.
    I16Offset {
        be: bool,
    },
    /// 10-bit samples packed four into five bytes, most significant bit first.
    Packed10,
    /// 12-bit samples packed two into three bytes, most significant bit first.
    Packed12,
    I16 {
        be: bool,
    },
    I32 {
        be: bool,
    },
    U32 {
        be: bool,
    },
    F32 {
        be: bool,
    },
    F64 {
        be: bool,
    },
}

impl Sample {
    /// Bits one sample takes in the file.
    pub fn bits(self) -> usize {
        match self {
            Sample::U8 => 8,
            Sample::Packed10 => 10,
            Sample::Packed12 => 12,
            Sample::U16 { .. } | Sample::I16Offset { .. } | Sample::I16 { .. } => 16,
            Sample::I32 { .. } | Sample::U32 { .. } | Sample::F32 { .. } => 32,
            Sample::F64 { .. } => 64,
        }
    }

    /// The source type the frame pipeline sees.
    fn src(self) -> SrcDtype {
        match self {
            Sample::U8 => SrcDtype::U8,
            Sample::U16 { .. } | Sample::I16Offset { .. } | Sample::Packed10 | Sample::Packed12 => {
                SrcDtype::U16
            }
            Sample::I16 { .. } => SrcDtype::I16,
            Sample::I32 { .. } => SrcDtype::I32,
            Sample::U32 { .. } => SrcDtype::U32,
            Sample::F32 { .. } => SrcDtype::F32,
            Sample::F64 { .. } => SrcDtype::F64,
        }
    }

    /// True when the file's bytes are already the decoded samples on this machine.
    fn native(self) -> bool {
        cfg!(target_endian = "little")
            && matches!(
                self,
                Sample::U8 | Sample::U16 { be: false } | Sample::F32 { be: false }
            )
    }
}

/// Where the frames lie in the file.
#[derive(Clone, Debug)]
pub enum FramePlaces {
    /// Frame k starts at `offset + k * stride`.
    Strided { offset: u64, stride: u64 },
    /// Phantom cine: frame k's annotation starts at `starts[k]`; the u32 there is the
    /// annotation's size, and the image follows it.
    Annotated(Arc<Vec<u64>>),
}

/// Everything a format header says about its frames.
#[derive(Clone, Debug)]
pub struct RawLayout {
    pub kind: SourceKind,
    pub h: usize,
    pub w: usize,
    /// 1 (gray) or 3 (colour, interleaved)
    pub c: usize,
    pub sample: Sample,
    /// Colour stored B, G, R.
    pub bgr: bool,
    /// Rows stored last row first (bitmap order).
    pub bottom_up: bool,
    /// Bytes from one stored row to the next (at least the row's samples).
    pub row_stride: usize,
    pub places: FramePlaces,
    /// Whole frames in the file (after any truncation).
    pub frames: usize,
    /// `value * scale + offset` for formats that scale their integers (FITS BSCALE/BZERO).
    pub scale: Option<(f64, f64)>,
    pub fps: Option<f64>,
    /// Time of every whole frame in seconds, or empty.
    pub times: Vec<f64>,
    /// What the header says (bit depth, rate, truncation, ...).
    pub notes: Vec<String>,
    /// Why this format cannot be mapped even without options, if so.
    pub copy_reason: Option<String>,
}

/// The byte length of `n` samples, when whole.
pub fn packed_len(n: usize, sample: Sample) -> Option<usize> {
    let bits = n.checked_mul(sample.bits())?;
    bits.is_multiple_of(8).then_some(bits / 8)
}

impl RawLayout {
    /// Bytes of one frame's rows in the file.
    pub fn frame_bytes(&self) -> u64 {
        self.row_stride as u64 * self.h as u64
    }

    fn row_len(&self) -> usize {
        self.w * self.c
    }

    /// Refuses layouts no frame can be decoded from (a header that lies).
    fn check(&self, path: &Path) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::decode(path, m));
        if self.h == 0 || self.w == 0 || !(self.c == 1 || self.c == 3) {
            return bad(format!(
                "frames of {} x {} pixels with {} channels cannot be read",
                self.w, self.h, self.c
            ));
        }
        let row = self
            .w
            .checked_mul(self.c)
            .and_then(|n| packed_len(n, self.sample));
        match row {
            Some(r) if r <= self.row_stride => Ok(()),
            Some(r) => bad(format!(
                "rows of {r} bytes do not fit a row stride of {} bytes",
                self.row_stride
            )),
            None => bad(format!(
                "rows of {} {}-bit samples do not end on a byte boundary",
                self.w * self.c,
                self.sample.bits()
            )),
        }
    }

    /// The source type the frame pipeline sees: scaled integers become floats.
    fn src(&self) -> SrcDtype {
        match self.scale {
            Some(_) => SrcDtype::F32,
            None => self.sample.src(),
        }
    }

    /// The dtype a decoded frame has before the pipeline.
    fn decoded(&self) -> Dtype {
        match self.src() {
            SrcDtype::U8 => Dtype::U8,
            SrcDtype::U16 => Dtype::U16,
            _ => Dtype::F32,
        }
    }
}

/// What the loader needs after planning.
#[derive(Clone, Debug)]
pub struct RawPlan {
    layout: RawLayout,
    pipeline: FramePipeline,
}

/// Plans the load of a file whose header gave `layout`.
pub fn plan(
    path: &Path,
    layout: RawLayout,
    opts: &LoadOptions,
    budget: &Budget,
) -> Result<Plan, LoadError> {
    let l = &layout;
    l.check(path)?;
    let pipeline = FramePipeline::new(l.src(), l.h, l.w, l.c, opts)?;
    let sel = Selection::resolve(l.frames, opts)?;
    let out_bytes = (pipeline.frame_len() * pipeline.out.size()) as u64;
    let identity = pipeline.is_identity(l.h, l.w, l.c, l.decoded());
    let contiguous = match l.places {
        FramePlaces::Strided { offset, stride } => {
            stride == l.frame_bytes()
                && l.row_stride == l.row_len() * l.sample.bits() / 8
                && offset.is_multiple_of(l.sample.bits() as u64 / 8)
        }
        FramePlaces::Annotated(_) => false,
    };
    let layout_ok = contiguous && l.sample.native() && !l.bottom_up && !l.bgr;
    let mapped = layout_ok && identity && sel.step == 1;
    let (sel, report) = if mapped {
        (sel, guard::not_applied(sel, out_bytes, budget))
    } else {
        guard::apply(path, sel, out_bytes, budget)?
    };
    let mut notes = layout.notes.clone();
    if let (Some(a), Some(b)) = (l.times.first(), l.times.last()) {
        notes.push(format!(
            "frame times {a:.6} s .. {b:.6} s{}",
            if l.kind == SourceKind::Cine || l.kind == SourceKind::Mraw {
                " from the trigger"
            } else {
                ""
            }
        ));
    }
    if !mapped {
        let why = if let Some(r) = &l.copy_reason {
            r.clone()
        } else if !layout_ok {
            "its samples need unpacking or reordering".to_string()
        } else {
            "the load options (--gray, --8bit, --normalize, --size-ratio, --step) change the frames"
                .to_string()
        };
        notes.push(format!("decoded, not memory-mapped: {why}"));
    }
    Ok(Plan {
        path: path.to_path_buf(),
        kind: l.kind,
        source_frames: l.frames,
        frames_exact: true,
        source_height: l.h,
        source_width: l.w,
        source_channels: l.c,
        source_dtype: l.src(),
        selection: sel,
        shape: Shape::new(sel.count(), pipeline.out_h, pipeline.out_w, pipeline.out_c),
        dtype: pipeline.out,
        mapped,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes,
        fps: l.fps,
        time_range: (l.times.len() >= l.frames && sel.count() > 0).then(|| {
            let last = sel.indices().last().unwrap_or(sel.first);
            (l.times[sel.first], l.times[last])
        }),
        detail: Detail::Raw(Box::new(RawPlan { layout, pipeline })),
    })
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The bytes of frame `k` (its rows, padding included), checked against the file.
fn frame_bytes<'a>(l: &RawLayout, data: &'a [u8], k: usize) -> Result<&'a [u8], String> {
    let len = l.frame_bytes();
    let start = match &l.places {
        FramePlaces::Strided { offset, stride } => (k as u64)
            .checked_mul(*stride)
            .and_then(|o| o.checked_add(*offset)),
        FramePlaces::Annotated(starts) => {
            let s = *starts.get(k).ok_or("no such image")?;
            let a = u32_at(data, s)
                .ok_or_else(|| format!("image {k}: its offset {s} is past the end of the file"))?;
            if a < 8 {
                return Err(format!("image {k}: annotation size {a} is below 8 bytes"));
            }
            s.checked_add(a as u64)
        }
    }
    .ok_or_else(|| format!("frame {k}: its offset overflows"))?;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data.len() as u64)
        .ok_or_else(|| {
            format!(
                "frame {k}: bytes {start}..{} are past the end of the file ({} bytes)",
                start.saturating_add(len),
                data.len()
            )
        })?;
    Ok(&data[start as usize..end as usize])
}

/// Decodes one stored row of `src` into u16 samples.
fn row_u16(sample: Sample, src: &[u8], dst: &mut [u16]) {
    match sample {
        Sample::U16 { be } => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                let v = [b[0], b[1]];
                *d = if be {
                    u16::from_be_bytes(v)
                } else {
                    u16::from_le_bytes(v)
                };
            }
        }
        Sample::I16Offset { be } => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                let v = [b[0], b[1]];
                let v = if be {
                    u16::from_be_bytes(v)
                } else {
                    u16::from_le_bytes(v)
                };
                *d = v ^ 0x8000;
            }
        }
        Sample::Packed10 => {
            for (d, b) in dst.chunks_mut(4).zip(src.chunks_exact(5)) {
                let (b0, b1, b2, b3, b4) = (
                    b[0] as u16,
                    b[1] as u16,
                    b[2] as u16,
                    b[3] as u16,
                    b[4] as u16,
                );
                let v = [
                    (b0 << 2) | (b1 >> 6),
                    ((b1 & 0x3f) << 4) | (b2 >> 4),
                    ((b2 & 0x0f) << 6) | (b3 >> 2),
                    ((b3 & 0x03) << 8) | b4,
                ];
                d.copy_from_slice(&v[..d.len()]);
            }
        }
        Sample::Packed12 => {
            for (d, b) in dst.chunks_mut(2).zip(src.chunks_exact(3)) {
                let (b0, b1, b2) = (b[0] as u16, b[1] as u16, b[2] as u16);
                let v = [(b0 << 4) | (b1 >> 4), ((b1 & 0x0f) << 8) | b2];
                d.copy_from_slice(&v[..d.len()]);
            }
        }
        _ => unreachable!("row_u16 is only called for 16-bit output samples"),
    }
}

/// Decodes one stored row of `src` into f32 samples, scaled when the format says so.
fn row_f32(sample: Sample, scale: Option<(f64, f64)>, src: &[u8], dst: &mut [f32]) {
    macro_rules! conv {
        ($ty:ty, $n:expr, $be:expr) => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact($n)) {
                let mut a = [0u8; $n];
                a.copy_from_slice(b);
                let v = if $be {
                    <$ty>::from_be_bytes(a)
                } else {
                    <$ty>::from_le_bytes(a)
                };
                *d = match scale {
                    Some((s, o)) => (v as f64 * s + o) as f32,
                    None => v as f32,
                };
            }
        };
    }
    match sample {
        Sample::U8 => conv!(u8, 1, false),
        Sample::U16 { be } => conv!(u16, 2, be),
        Sample::I16 { be } => conv!(i16, 2, be),
        Sample::I32 { be } => conv!(i32, 4, be),
        Sample::U32 { be } => conv!(u32, 4, be),
        Sample::F32 { be } => conv!(f32, 4, be),
        Sample::F64 { be } => conv!(f64, 8, be),
        Sample::I16Offset { .. } | Sample::Packed10 | Sample::Packed12 => {
            let mut tmp = vec![0u16; dst.len()];
            row_u16(sample, src, &mut tmp);
            for (d, v) in dst.iter_mut().zip(tmp) {
                *d = match scale {
                    Some((s, o)) => (v as f64 * s + o) as f32,
                    None => v as f32,
                };
            }
        }
    }
}

/// Swaps the first and third channel of every pixel (BGR <-> RGB).
fn swap_rb<T>(row: &mut [T]) {
    row.chunks_exact_mut(3).for_each(|p| p.swap(0, 2));
}

/// Decodes frame `bytes` into `slot`, top row first: samples of the decoded dtype.
fn decode_into(l: &RawLayout, bytes: &[u8], slot: Slot<'_>) {
    let n = l.row_len();
    let row_src = |y: usize| {
        let fy = if l.bottom_up { l.h - 1 - y } else { y };
        &bytes[fy * l.row_stride..fy * l.row_stride + l.row_stride]
    };
    match slot {
        Slot::U8(s) => {
            for (y, dst) in s.chunks_exact_mut(n).enumerate() {
                dst.copy_from_slice(&row_src(y)[..n]);
                if l.bgr {
                    swap_rb(dst);
                }
            }
        }
        Slot::U16(s) => {
            for (y, dst) in s.chunks_exact_mut(n).enumerate() {
                row_u16(l.sample, row_src(y), dst);
                if l.bgr {
                    swap_rb(dst);
                }
            }
        }
        Slot::F32(s) => {
            for (y, dst) in s.chunks_exact_mut(n).enumerate() {
                row_f32(l.sample, l.scale, row_src(y), dst);
                if l.bgr {
                    swap_rb(dst);
                }
            }
        }
    }
}

/// Decodes frame `bytes` as a raw frame for the pipeline.
fn decode_raw(l: &RawLayout, bytes: &[u8]) -> RawFrame {
    let len = l.h * l.row_len();
    let data = match l.decoded() {
        Dtype::U8 => {
            let mut v = vec![0u8; len];
            decode_into(l, bytes, Slot::U8(&mut v));
            RawData::U8(v)
        }
        Dtype::U16 => {
            let mut v = vec![0u16; len];
            decode_into(l, bytes, Slot::U16(&mut v));
            RawData::U16(v)
        }
        Dtype::F32 => {
            let mut v = vec![0f32; len];
            decode_into(l, bytes, Slot::F32(&mut v));
            RawData::F32(v)
        }
    };
    RawFrame {
        h: l.h,
        w: l.w,
        c: l.c,
        data,
    }
}

/// Maps or decodes the planned frames.
pub fn load(plan: &Plan, raw: &RawPlan, progress: &dyn Progress) -> Result<Stack, LoadError> {
    let path = &plan.path;
    let l = &raw.layout;
    let pipe = &raw.pipeline;
    let sel = plan.selection;
    let m = Arc::new(FileMap::open(path).map_err(|e| LoadError::io(path, e))?);
    let source = SourceInfo {
        frame_index: sel.indices().collect(),
        fps: l.fps,
        frame_time: if l.times.len() >= l.frames {
            sel.indices().map(|i| l.times[i]).collect()
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    if plan.mapped
        && let FramePlaces::Strided { offset, stride } = l.places
    {
        let at = usize::try_from(offset + sel.first as u64 * stride)
            .map_err(|_| LoadError::decode(path, "data offset does not fit in memory"))?;
        return Ok(mapped_stack(path, plan.shape, plan.dtype, m, at)?.with_source(source));
    }
    let data = m.bytes();
    let count = sel.count();
    let frame_len = plan.shape.frame_len();
    let direct = pipe.is_identity(l.h, l.w, l.c, l.decoded());
    let mut buf = OutBuf::for_plan(plan, count)?;
    progress.start("decoding frames", count as u64);
    let per_worker = count.div_ceil(rayon::current_num_threads().max(1)).max(1);
    buf.par_fill(
        count,
        frame_len,
        per_worker.min(64),
        || Ok(()),
        |_, k, slot| {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled(path.clone()));
            }
            let bytes =
                frame_bytes(l, data, sel.index(k)).map_err(|e| LoadError::decode(path, e))?;
            if direct {
                decode_into(l, bytes, slot);
            } else {
                pipe.run(path, decode_raw(l, bytes), slot)?;
            }
            progress.advance(1);
            Ok(())
        },
    )?
    .into_iter()
    .collect::<Result<(), LoadError>>()?;
    buf.into_stack(plan.shape, source)
}

/// The count of whole frames when `total` are announced, `frame_bytes` each from
/// `offset`, in a file of `len` bytes, and a note when some are missing. Errors when not
/// even one frame is whole.
pub fn whole_frames(
    path: &Path,
    total: usize,
    offset: u64,
    frame_bytes: u64,
    len: u64,
    what: &str,
) -> Result<(usize, Option<String>), LoadError> {
    let room = len.saturating_sub(offset);
    let whole = (room / frame_bytes.max(1)).min(total as u64) as usize;
    if whole == 0 {
        return Err(LoadError::decode(
            path,
            format!(
                "{what} says frames of {frame_bytes} bytes from byte {offset}, but the file holds {len} bytes: not one whole frame"
            ),
        ));
    }
    let note = (whole < total).then(|| truncated_note(total, whole, len));
    Ok((whole, note))
}

/// The note of a file that ends before its last frames.
pub fn truncated_note(total: usize, whole: usize, len: u64) -> String {
    format!(
        "truncated file: the header announces {total} frames, the file ({len} bytes) holds {whole} whole; {} lost",
        total - whole
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_unpack_msb_first() {
        // 10-bit: 1023, 0, 512, 1 -> 11111111 11|000000 0000|1000 000000|00 00000001
        let src = [0xff, 0xc0, 0x08, 0x00, 0x01];
        let mut d = [0u16; 4];
        row_u16(Sample::Packed10, &src, &mut d);
        assert_eq!(d, [1023, 0, 512, 1]);
        // 12-bit: 0xabc, 0x123 -> ab c1 23
        let mut d = [0u16; 2];
        row_u16(Sample::Packed12, &[0xab, 0xc1, 0x23], &mut d);
        assert_eq!(d, [0xabc, 0x123]);
    }

    #[test]
    fn fits_unsigned_convention_is_an_offset_of_32768() {
        let mut d = [0u16; 2];
        row_u16(
            Sample::I16Offset { be: true },
            &[0x80, 0x00, 0x7f, 0xff],
            &mut d,
        );
        assert_eq!(d, [0, 65535]);
    }

    #[test]
    fn a_file_without_one_whole_frame_is_an_error() {
        let p = Path::new("x.mraw");
        assert_eq!(whole_frames(p, 4, 0, 10, 40, "h").unwrap(), (4, None));
        let (n, note) = whole_frames(p, 4, 0, 10, 35, "h").unwrap();
        assert_eq!(n, 3);
        assert!(note.unwrap().contains("1 lost"));
        assert!(whole_frames(p, 4, 0, 10, 9, "h").is_err());
    }
}
