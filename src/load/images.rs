//! Image folders and single image files: PNG (8/16-bit), JPEG, BMP, TIFF, PNM, WebP.
//! Headers of every selected file are read first (size check, memory guard); then the
//! frames decode in parallel, each straight into its slot of the final buffer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use image::{ColorType, ImageDecoder, ImageReader};
use rayon::prelude::*;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::stack::{Dtype, Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::{OutBuf, Slot};
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, ext_of_path,
    guard, mixed,
};

/// Extensions read as single images (lower case).
pub const IMAGE_EXTS: &[&str] = &[
    "jpg", "jpeg", "png", "bmp", "tif", "tiff", "pnm", "pgm", "ppm", "pbm", "webp",
];

/// Extensions read as video (through FFmpeg), alone or as the only kind in a folder.
pub(crate) const VIDEO_EXTS: &[&str] = &[
    "mp4", "avi", "mov", "mkv", "mpeg", "mpg", "webm", "m4v", "wmv", "flv", "ts", "ogv", "gif",
    "y4m", "nut", "mxf", "m2ts", "mts", "3gp", "asf", "vob", "dv", "ivf", "m2v",
];

/// Single-file stacks (camera recordings, `.npy`) a folder without images may hold.
const STACK_EXTS: &[&str] = &["npy", "cine", "cih", "cihx", "spe", "fits", "fit"];

/// What the folder loader needs after planning.
#[derive(Clone, Debug)]
pub struct FolderPlan {
    /// Selected files, in frame order, with their index in the sorted list.
    files: Vec<(usize, PathBuf)>,
    /// Sample type of each selected file (a folder may mix them).
    srcs: Vec<SrcDtype>,
    /// Largest frame a decoder may allocate (the RAM budget).
    frame_limit: u64,
    pipeline: FramePipeline,
    /// Files whose header could not be read.
    skipped: Vec<(String, String)>,
}

/// Header facts of one image file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    h: usize,
    w: usize,
    /// channels including alpha
    c: usize,
    dtype: SrcDtype,
}

impl Header {
    /// Bytes of the decoded source frame.
    fn bytes(&self) -> u64 {
        (self.h as u64) * (self.w as u64) * (self.c as u64) * self.dtype.size() as u64
    }
}

/// Extension family: jpeg counts as jpg, tiff as tif.
fn family(ext: &str) -> &str {
    match ext {
        "jpeg" => "jpg",
        "tiff" => "tif",
        e => e,
    }
}

/// Natural order: digit runs compare as numbers (`2.png` before `10.png`).
pub fn natural_sort(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| natord::compare(&a.to_string_lossy(), &b.to_string_lossy()));
}

/// Plans a folder: the most frequent image kind wins; a folder with no image but one
/// video or `.npy` file loads that file.
pub fn plan_folder(dir: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let mut groups: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))? {
        let entry = entry.map_err(|e| LoadError::io(dir, e))?;
        let p = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden || p.is_dir() {
            continue;
        }
        groups
            .entry(family(&ext_of_path(&p)).to_string())
            .or_default()
            .push(p);
    }
    let best = groups
        .iter()
        .filter(|(e, _)| IMAGE_EXTS.contains(&e.as_str()))
        .max_by_key(|(e, v)| (v.len(), std::cmp::Reverse(e.to_string())))
        .map(|(e, _)| e.clone());
    let Some(best) = best else {
        if let Some(grids) = super::ascii::folder_files(&groups) {
            return super::ascii::plan_files(
                dir.to_path_buf(),
                grids,
                SourceKind::AsciiFolder,
                vec![],
                opts,
                budget,
            );
        }
        let mut others: Vec<PathBuf> = groups
            .iter()
            .filter(|(e, _)| VIDEO_EXTS.contains(&e.as_str()) || STACK_EXTS.contains(&e.as_str()))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        natural_sort(&mut others);
        return match others.first() {
            Some(first) => {
                let mut p = super::plan(first, opts)?;
                if others.len() > 1 {
                    p.notes.push(format!(
                        "{} holds {} video/stack files; loaded the first, {}",
                        dir.display(),
                        others.len(),
                        first.display()
                    ));
                }
                Ok(p)
            }
            None => Err(LoadError::EmptyFolder(dir.to_path_buf())),
        };
    };
    let mut files = groups.remove(&best).unwrap_or_default();
    natural_sort(&mut files);
    let notes: Vec<String> = groups
        .iter()
        .map(|(e, v)| {
            let e = if e.is_empty() { "(none)" } else { e };
            format!("ignored {} file(s) of extension {e}", v.len())
        })
        .collect();
    plan_files(
        dir.to_path_buf(),
        files,
        SourceKind::ImageFolder,
        notes,
        opts,
        budget,
    )
}

/// Plans a load of image `files` (already in frame order).
pub fn plan_files(
    path: PathBuf,
    files: Vec<PathBuf>,
    kind: SourceKind,
    notes: Vec<String>,
    opts: &LoadOptions,
    budget: &Budget,
) -> Result<Plan, LoadError> {
    let sel = Selection::resolve(files.len(), opts)?;
    let range: Vec<(usize, &PathBuf)> = (sel.first..=sel.last).map(|i| (i, &files[i])).collect();
    let headers: Vec<Result<Header, String>> = range
        .par_iter()
        .map(|(_, p)| read_header(p, budget.ram))
        .collect();
    let mut skipped = Vec::new();
    let mut good: Vec<(usize, &PathBuf, Header)> = Vec::new();
    for ((i, p), h) in range.iter().zip(headers) {
        match h {
            // decoding holds a whole source frame in RAM, whatever the storage
            Ok(h) if h.bytes() > budget.ram => {
                return Err(LoadError::TooLarge {
                    path: p.to_path_buf(),
                    frame_bytes: h.bytes(),
                    budget: budget.ram,
                });
            }
            Ok(h) => good.push((*i, p, h)),
            Err(e) => skipped.push((p.display().to_string(), e)),
        }
    }
    if kind == SourceKind::Image
        && let Some((f, e)) = skipped.first()
    {
        return Err(LoadError::decode(Path::new(f), e));
    }
    let Some(&(_, first_path, first)) = good.first() else {
        return Err(LoadError::NothingReadable { path, skipped });
    };
    let common = good.iter().fold((first.h, first.w), |(h, w), (_, _, g)| {
        (h.min(g.h), w.min(g.w))
    });
    if !opts.crop_to_common
        && let Some((_, other_path, other)) = good
            .iter()
            .find(|(_, _, g)| (g.h, g.w) != (first.h, first.w))
    {
        return Err(LoadError::MixedSizes {
            path: other_path.to_path_buf(),
            first_path: first_path.clone(),
            first: (first.h, first.w),
            other: (other.h, other.w),
            common,
        });
    }
    let kinds = mixed::common(
        good.iter()
            .map(|(_, p, g)| (p.display().to_string(), g.c, g.dtype)),
        opts,
    )
    .ok_or_else(|| LoadError::NothingReadable {
        path: path.clone(),
        skipped: skipped.clone(),
    })?;
    let mut pipeline = FramePipeline::new(kinds.dtype, common.0, common.1, kinds.channels, opts)?;
    pipeline.crop = common;
    let mut notes = notes;
    notes.extend(kinds.notes);
    if common != (first.h, first.w) {
        notes.push(format!(
            "mixed frame sizes: all frames cut to the common {}x{} (top-left)",
            common.1, common.0
        ));
    }
    let frame_bytes = (pipeline.frame_len() * pipeline.out.size()) as u64;
    // the guard steps over the readable files; unreadable ones are reported, not counted
    let readable = Selection {
        first: 0,
        last: good.len() - 1,
        step: sel.step,
    };
    let (kept, report) = guard::apply(&path, readable, frame_bytes, budget)?;
    let selected: Vec<(usize, PathBuf)> = kept
        .indices()
        .map(|k| (good[k].0, good[k].1.clone()))
        .collect();
    let srcs: Vec<SrcDtype> = kept.indices().map(|k| good[k].2.dtype).collect();
    let shape = Shape::new(
        selected.len(),
        pipeline.out_h,
        pipeline.out_w,
        pipeline.out_c,
    );
    Ok(Plan {
        path,
        kind,
        source_frames: files.len(),
        frames_exact: true,
        source_height: first.h,
        source_width: first.w,
        source_channels: if kinds.channels <= 2 { 1 } else { 3 },
        source_dtype: kinds.dtype,
        selection: Selection {
            step: kept.step,
            ..sel
        },
        shape,
        dtype: pipeline.out,
        mapped: false,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes,
        fps: None,
        time_range: None,
        detail: Detail::Folder(FolderPlan {
            files: selected,
            srcs,
            frame_limit: budget.ram,
            pipeline,
            skipped,
        }),
    })
}

fn is_jpeg(p: &Path) -> bool {
    family(&ext_of_path(p)) == "jpg"
}

fn is_tiff(p: &Path) -> bool {
    family(&ext_of_path(p)) == "tif"
}

fn jpeg_options(out: ColorSpace) -> DecoderOptions {
    DecoderOptions::default()
        .set_max_width(1 << 16)
        .set_max_height(1 << 16)
        .jpeg_set_out_colorspace(out)
}

fn read_header(p: &Path, frame_limit: u64) -> Result<Header, String> {
    if is_jpeg(p) {
        let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
        if let Some(why) = super::jpeg::truncation(&bytes) {
            return Err(why);
        }
        let mut d =
            JpegDecoder::new_with_options(ZCursor::new(&bytes[..]), jpeg_options(ColorSpace::RGB));
        d.decode_headers()
            .map_err(|e| format!("not a readable JPEG: {e:?}"))?;
        let info = d.info().ok_or("JPEG without header")?;
        let c = if info.components == 1 { 1 } else { 3 };
        return Ok(Header {
            h: info.height as usize,
            w: info.width as usize,
            c,
            dtype: SrcDtype::U8,
        });
    }
    if is_tiff(p) {
        let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
        let mut d = super::tiff::decoder(std::io::BufReader::new(f), frame_limit)
            .map_err(|e| e.to_string())?;
        let (h, w, c, dtype) = super::tiff::page_header(&mut d).map_err(|e| e.to_string())?;
        return Ok(Header { h, w, c, dtype });
    }
    let d = open_image(p)?;
    let (w, h) = d.dimensions();
    let (c, dtype) = color_of(d.color_type())?;
    Ok(Header {
        h: h as usize,
        w: w as usize,
        c,
        dtype,
    })
}

fn open_image(p: &Path) -> Result<impl ImageDecoder, String> {
    let r = ImageReader::open(p)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut r = r;
    r.no_limits();
    r.into_decoder().map_err(|e| e.to_string())
}

fn color_of(ct: ColorType) -> Result<(usize, SrcDtype), String> {
    Ok(match ct {
        ColorType::L8 => (1, SrcDtype::U8),
        ColorType::La8 => (2, SrcDtype::U8),
        ColorType::Rgb8 => (3, SrcDtype::U8),
        ColorType::Rgba8 => (4, SrcDtype::U8),
        ColorType::L16 => (1, SrcDtype::U16),
        ColorType::La16 => (2, SrcDtype::U16),
        ColorType::Rgb16 => (3, SrcDtype::U16),
        ColorType::Rgba16 => (4, SrcDtype::U16),
        ColorType::Rgb32F => (3, SrcDtype::F32),
        ColorType::Rgba32F => (4, SrcDtype::F32),
        other => return Err(format!("unsupported pixel type {other:?}")),
    })
}

/// Decodes one file into `slot` through the pipeline.
fn decode_into(
    p: &Path,
    pipe: &FramePipeline,
    frame_limit: u64,
    slot: Slot<'_>,
) -> Result<(), LoadError> {
    let err = |e: String| LoadError::decode(p, e);
    if is_jpeg(p) {
        let bytes = std::fs::read(p).map_err(|e| LoadError::io(p, e))?;
        let cs = if pipe.out_c == 1 {
            ColorSpace::Luma
        } else {
            ColorSpace::RGB
        };
        let mut d = JpegDecoder::new_with_options(ZCursor::new(&bytes[..]), jpeg_options(cs));
        d.decode_headers().map_err(|e| err(format!("{e:?}")))?;
        let info = d.info().ok_or_else(|| err("JPEG without header".into()))?;
        let (h, w, c) = (
            info.height as usize,
            info.width as usize,
            cs.num_components(),
        );
        let mut slot = slot;
        if let Slot::U8(s) = &mut slot
            && pipe.is_identity(h, w, c, Dtype::U8)
            && s.len() == h * w * c
        {
            return d.decode_into(s).map_err(|e| err(format!("{e:?}")));
        }
        let mut v = vec![0u8; h * w * c];
        d.decode_into(&mut v).map_err(|e| err(format!("{e:?}")))?;
        let raw = RawFrame {
            h,
            w,
            c,
            data: RawData::U8(v),
        };
        return pipe.run(p, raw, slot);
    }
    if is_tiff(p) {
        let f = std::fs::File::open(p).map_err(|e| LoadError::io(p, e))?;
        let mut d = super::tiff::decoder(std::io::BufReader::new(f), frame_limit)
            .map_err(|e| err(e.to_string()))?;
        let raw = super::tiff::read_page(&mut d).map_err(|e| err(e.to_string()))?;
        return pipe.run(p, raw, slot);
    }
    let d = open_image(p).map_err(err)?;
    let (w, h) = d.dimensions();
    let (h, w) = (h as usize, w as usize);
    let (c, dtype) = color_of(d.color_type()).map_err(err)?;
    let n = h * w * c;
    let direct = match dtype {
        SrcDtype::U8 => Dtype::U8,
        SrcDtype::U16 => Dtype::U16,
        _ => Dtype::F32,
    };
    if pipe.is_identity(h, w, c, direct) && slot.len() == n {
        let bytes: &mut [u8] = match slot {
            Slot::U8(s) => s,
            Slot::U16(s) => bytemuck::cast_slice_mut(s),
            Slot::F32(s) => bytemuck::cast_slice_mut(s),
        };
        return d.read_image(bytes).map_err(|e| err(e.to_string()));
    }
    let data = match dtype {
        SrcDtype::U8 => {
            let mut v = vec![0u8; n];
            d.read_image(&mut v).map_err(|e| err(e.to_string()))?;
            RawData::U8(v)
        }
        SrcDtype::U16 => {
            let mut v = vec![0u16; n];
            d.read_image(bytemuck::cast_slice_mut(&mut v))
                .map_err(|e| err(e.to_string()))?;
            RawData::U16(v)
        }
        _ => {
            let mut v = vec![0f32; n];
            d.read_image(bytemuck::cast_slice_mut(&mut v))
                .map_err(|e| err(e.to_string()))?;
            RawData::F32(v)
        }
    };
    pipe.run(p, RawFrame { h, w, c, data }, slot)
}

/// Decodes the planned files in parallel into one preallocated buffer.
pub fn load(
    plan: &Plan,
    f: &FolderPlan,
    _opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    let pipe = &f.pipeline;
    let n = pipe.frame_len();
    let mut buf = OutBuf::for_plan(plan, f.files.len())?;
    progress.start("decoding images", f.files.len() as u64);
    let cancelled = AtomicBool::new(false);
    let results: Vec<Result<(), String>> = buf.par_fill(
        f.files.len(),
        n,
        1,
        || Ok(()),
        |_, k, slot| {
            if cancelled.load(Ordering::Relaxed) || progress.is_cancelled() {
                cancelled.store(true, Ordering::Relaxed);
                return Err("cancelled".to_string());
            }
            let r = decode_into(
                &f.files[k].1,
                &pipe.for_source(f.srcs[k]),
                f.frame_limit,
                slot,
            )
            .map_err(|e| match e {
                LoadError::Decode { msg, .. } => msg,
                other => other.to_string(),
            });
            progress.advance(1);
            r
        },
    )?;
    if cancelled.load(Ordering::Relaxed) {
        return Err(LoadError::Cancelled(plan.path.clone()));
    }
    let mut skipped = f.skipped.clone();
    let keep: Vec<bool> = results.iter().map(|r| r.is_ok()).collect();
    for ((_, p), r) in f.files.iter().zip(&results) {
        if let Err(e) = r {
            skipped.push((p.display().to_string(), e.clone()));
        }
    }
    if !keep.iter().any(|&k| k) {
        return Err(LoadError::NothingReadable {
            path: plan.path.clone(),
            skipped,
        });
    }
    if plan.kind == SourceKind::Image
        && let Some((file, e)) = skipped.first()
    {
        return Err(LoadError::decode(Path::new(file), e));
    }
    buf.compact(&keep, n)?;
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        notes.push(format!(
            "skipped {} unreadable file(s): {}",
            skipped.len(),
            skipped
                .iter()
                .map(|(f, e)| format!("{f} ({e})"))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let source = SourceInfo {
        notes,
        skipped,
        frame_index: f
            .files
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|((i, _), _)| *i)
            .collect(),
        ..Default::default()
    };
    buf.into_stack(plan.shape, source)
}
