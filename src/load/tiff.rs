//! Multi-page TIFF as a stack (8/16-bit integer and float pages). Pages are split into
//! one contiguous run per worker; each worker opens its own decoder and decodes its run
//! straight into the preallocated buffer.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffResult};

use crate::stack::{Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::OutBuf;
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard, mixed,
    tiff_raw,
};

/// A decoder whose buffers may hold one frame of up to `frame_limit` bytes (the RAM
/// budget: a bigger frame is refused when the load is planned) and no more. The tiff
/// crate sizes a tag's value list by the same limit, so it must stay finite: unlimited,
/// a tag claiming 2^31 values in any page was an allocation that aborted the process.
pub fn decoder<R: Read + Seek>(r: R, frame_limit: u64) -> TiffResult<Decoder<R>> {
    let limit = usize::try_from(frame_limit).unwrap_or(usize::MAX);
    let mut limits = Limits::default();
    limits.decoding_buffer_size = limit;
    limits.intermediate_buffer_size = limit;
    Ok(Decoder::new(r)?.with_limits(limits))
}

/// Height, width, channels (alpha counted) and sample type of the current page.
pub fn page_header<R: Read + Seek>(
    d: &mut Decoder<R>,
) -> Result<(usize, usize, usize, SrcDtype), String> {
    let e = |e: tiff::TiffError| e.to_string();
    let (w, h) = d.dimensions().map_err(e)?;
    let format = d
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(e)?
        .and_then(|v| v.first().copied())
        .unwrap_or(1);
    let (c, bits) = match d.colortype().map_err(e)? {
        ColorType::Gray(b) => (1, b),
        ColorType::GrayA(b) => (2, b),
        ColorType::RGB(b) => (3, b),
        ColorType::RGBA(b) => (4, b),
        other => return Err(format!("unsupported TIFF colour type {other:?}")),
    };
    let dtype = match (format, bits) {
        (1, 8) => SrcDtype::U8,
        (1, 16) => SrcDtype::U16,
        (2, 16) => SrcDtype::I16,
        (1, 32) => SrcDtype::U32,
        (2, 32) => SrcDtype::I32,
        (3, 32) => SrcDtype::F32,
        (3, 64) => SrcDtype::F64,
        _ => {
            return Err(format!(
                "unsupported TIFF sample format {format} with {bits} bits"
            ));
        }
    };
    Ok((h as usize, w as usize, c, dtype))
}

/// Decodes the current page, all planes of a planar page (PlanarConfiguration 2)
/// interleaved into pixels.
pub fn read_page<R: Read + Seek>(d: &mut Decoder<R>) -> Result<RawFrame, String> {
    let (h, w, c, _) = page_header(d)?;
    let mut result = DecodingResult::U8(Vec::new());
    let layout = d
        .read_image_to_buffer(&mut result)
        .map_err(|e| e.to_string())?;
    let planes = layout.planes.max(1);
    if planes > 1 && result.as_buffer(0).as_bytes().len() < layout.complete_len {
        return Err(format!(
            "planar page: only the first of its {planes} planes fits the decoder's limits"
        ));
    }
    let widen = |v: Vec<f32>| RawData::F32(interleave(v, planes));
    let data = match result {
        DecodingResult::U8(v) => RawData::U8(interleave(v, planes)),
        DecodingResult::U16(v) => RawData::U16(interleave(v, planes)),
        DecodingResult::F32(v) => widen(v),
        DecodingResult::F64(v) => widen(v.into_iter().map(|x| x as f32).collect()),
        DecodingResult::I16(v) => widen(v.into_iter().map(|x| x as f32).collect()),
        DecodingResult::I32(v) => widen(v.into_iter().map(|x| x as f32).collect()),
        DecodingResult::U32(v) => widen(v.into_iter().map(|x| x as f32).collect()),
        _ => return Err("unsupported TIFF sample type".into()),
    };
    Ok(RawFrame { h, w, c, data })
}

/// Pixel-interleaved samples from `planes` planes stored one after the other
/// (`RRR.. GGG.. BBB..` -> `RGBRGB..`); one plane is returned as it is.
fn interleave<T: Copy>(v: Vec<T>, planes: usize) -> Vec<T> {
    if planes <= 1 {
        return v;
    }
    let n = v.len() / planes;
    let mut out = Vec::with_capacity(n * planes);
    for i in 0..n {
        out.extend((0..planes).map(|p| v[p * n + i]));
    }
    out
}

fn open(path: &Path, frame_limit: u64) -> Result<Decoder<BufReader<std::fs::File>>, LoadError> {
    let f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    decoder(BufReader::new(f), frame_limit)
        .map_err(|e| LoadError::decode(path, format!("not a readable TIFF: {e}")))
}

/// Counts the pages and reads the first page's header.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let err = |e| LoadError::decode(path, e);
    let mut d = open(path, budget.ram)?;
    let (h, w, c, dtype) = page_header(&mut d).map_err(err)?;
    let mut pages = 1;
    let (mut ch, mut cw) = (h, w);
    let mut mixed = None;
    let mut kinds = vec![(c, dtype)];
    // each page's run of raw samples while every page has one (see tiff_raw)
    let mut extents = tiff_raw::page_extent(&mut d).map(|e| vec![e]);
    while d.more_images() {
        d.next_image().map_err(|e| err(e.to_string()))?;
        let (ph, pw, pc, pt) = page_header(&mut d).map_err(err)?;
        if (ph, pw) != (h, w) && mixed.is_none() {
            mixed = Some((pages, ph, pw));
        }
        ch = ch.min(ph);
        cw = cw.min(pw);
        kinds.push((pc, pt));
        pages += 1;
        if let Some(v) = &mut extents {
            match tiff_raw::page_extent(&mut d) {
                Some(e) if (pc, pt) == (c, dtype) => v.push(e),
                _ => extents = None,
            }
        }
    }
    if let Some(v) = &extents
        && mixed.is_none()
    {
        let big_endian = d.byte_order() == tiff::tags::ByteOrder::BigEndian;
        let file_len = std::fs::metadata(path)
            .map_err(|e| LoadError::io(path, e))?
            .len();
        if let Some(l) = tiff_raw::layout(v, (h, w, c), dtype, big_endian, file_len) {
            return super::raw::plan(path, l, opts, budget);
        }
    }
    if let Some((page, ph, pw)) = mixed
        && !opts.crop_to_common
    {
        return Err(LoadError::MixedSizes {
            path: path.join(format!("page {page}")),
            first_path: path.join("page 0"),
            first: (h, w),
            other: (ph, pw),
            common: (ch, cw),
        });
    }
    let named = kinds
        .iter()
        .enumerate()
        .map(|(i, &(c, t))| (format!("page {i}"), c, t));
    let common = mixed::common(named, opts).ok_or_else(|| err("no page".into()))?;
    let mut pipeline = FramePipeline::new(common.dtype, ch, cw, common.channels, opts)?;
    pipeline.crop = (ch, cw);
    let sel = Selection::resolve(pages, opts)?;
    let frame_bytes = (pipeline.frame_len() * pipeline.out.size()) as u64;
    let (sel, report) = guard::apply(path, sel, frame_bytes, budget)?;
    Ok(Plan {
        path: path.to_path_buf(),
        kind: SourceKind::TiffStack,
        source_frames: pages,
        frames_exact: true,
        source_height: h,
        source_width: w,
        source_channels: if common.channels <= 2 { 1 } else { 3 },
        source_dtype: common.dtype,
        selection: sel,
        shape: Shape::new(sel.count(), pipeline.out_h, pipeline.out_w, pipeline.out_c),
        dtype: pipeline.out,
        mapped: false,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes: common.notes,
        fps: None,
        time_range: None,
        detail: Detail::Tiff(pipeline),
    })
}

/// Decodes the selected pages, one contiguous run of pages per worker.
pub fn load(
    plan: &Plan,
    pipe: &FramePipeline,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    let path = &plan.path;
    let n = pipe.frame_len();
    let sel = plan.selection;
    let count = sel.count();
    let mut buf = OutBuf::for_plan(plan, count)?;
    progress.start("decoding TIFF pages", count as u64);
    let per_worker = count.div_ceil(rayon::current_num_threads().max(1)).max(1);
    buf.par_fill(
        count,
        n,
        per_worker,
        || open(path, plan.guard.budget_bytes),
        |d, k, slot| {
            if progress.is_cancelled() {
                return Err(LoadError::Cancelled(path.clone()));
            }
            let page = sel.index(k);
            d.seek_to_image(page)
                .map_err(|e| LoadError::decode(path, format!("page {page}: {e}")))?;
            let bad = |e| LoadError::decode(path, format!("page {page}: {e}"));
            let (_, _, _, src) = page_header(d).map_err(bad)?;
            let raw = read_page(d).map_err(bad)?;
            pipe.for_source(src).run(path, raw, slot)?;
            progress.advance(1);
            Ok(())
        },
    )?
    .into_iter()
    .collect::<Result<(), LoadError>>()?;
    let source = SourceInfo {
        frame_index: sel.indices().collect(),
        ..Default::default()
    };
    buf.into_stack(plan.shape, source)
}
