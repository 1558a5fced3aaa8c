//! Video through FFmpeg (ffmpeg-next): every container and codec FFmpeg reads.
//!
//! Decoding is sequential with FFmpeg's own frame threads. Frames keep the source's
//! fidelity ([`Native`]): gray sources one channel, u16 above 8 bits (the decoded samples
//! copied, not rescaled); colour above 8 bits u16 RGB (RGB48 through swscale); 8-bit
//! sources and `--8bit` GRAY8 or RGB24 through swscale, area-scaled to the output size and
//! written row by row into their slot of the preallocated stack. For large steps the loader seeks to the keyframe before the
//! next wanted frame instead of decoding everything in between (see [`VideoSeek`]).

use std::path::Path;
use std::sync::Once;

use ff::format::Pixel;
use ff::software::scaling;
use ffmpeg_next as ff;

use crate::stack::{Dtype, Shape, SourceInfo, Stack};

use super::frame::{FramePipeline, RawData, RawFrame};
use super::guard::Budget;
use super::output::{OutBuf, Slot};
use super::{
    Detail, LoadError, LoadOptions, Plan, Progress, Selection, SourceKind, SrcDtype, guard,
};

/// How to reach the frames of a stepped selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VideoSeek {
    /// Seek when the step is longer than the keyframe interval seen while decoding.
    #[default]
    Auto,
    /// Always decode every frame in between.
    Never,
    /// Seek before every wanted frame whenever the step is above 1.
    Always,
}

/// How decoded frames become stored samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    /// swscale to GRAY8 or RGB24: 8-bit sources, and any source under `--8bit`.
    Eight,
    /// Plane 0 (gray, or the luma of a planar YUV format) copied as u16 samples, exactly as
    /// decoded: 9 to 16-bit gray sources, and `--gray` on 9 to 16-bit YUV.
    Luma16 { big_endian: bool },
    /// swscale to RGB48 (u16 per channel), then brought back to the source's own depth
    /// (right shift by `shift` = 16 - depth): colour sources above 8 bits, so a
    /// 10-bit recording keeps values 0..=1023 as the gray and luma paths do.
    Rgb48 { shift: u32 },
}

/// What a decoder's pixel format holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PixelInfo {
    /// One channel (gray, gray with alpha).
    gray: bool,
    /// Bits of the deepest component.
    depth: u32,
    /// Component 0 is the luma or gray plane 0 of 2-byte samples in their low bits.
    luma_plane_u16: bool,
    big_endian: bool,
}

const FLAG_BE: u64 = 1 << 0;
const FLAG_PAL: u64 = 1 << 1;
const FLAG_BITSTREAM: u64 = 1 << 2;
const FLAG_RGB: u64 = 1 << 5;
const FLAG_FLOAT: u64 = 1 << 9;

fn pixel_info(fmt: Pixel) -> Option<PixelInfo> {
    let d = fmt.descriptor()?;
    // SAFETY: FFmpeg's descriptors are static tables; the pointer is valid for the process.
    let d = unsafe { &*d.as_ptr() };
    let flags = d.flags;
    let n = (d.nb_components as usize).min(4);
    let depth = d.comp[..n].iter().map(|c| c.depth.max(0) as u32).max()?;
    let c0 = d.comp[0];
    let gray = n <= 2 && flags & (FLAG_RGB | FLAG_PAL) == 0;
    let luma_plane_u16 = flags & (FLAG_RGB | FLAG_PAL | FLAG_BITSTREAM | FLAG_FLOAT) == 0
        && c0.plane == 0
        && c0.step == 2
        && c0.shift == 0
        && c0.offset == 0
        && (9..=16).contains(&(c0.depth as u32));
    Some(PixelInfo {
        gray,
        depth,
        luma_plane_u16,
        big_endian: flags & FLAG_BE != 0,
    })
}

/// The stored form of frames of `info` under `opts`: (how, source dtype, source channels).
fn native(info: PixelInfo, opts: &LoadOptions) -> (Native, SrcDtype, usize) {
    let channels = if info.gray { 1 } else { 3 };
    if info.depth <= 8 {
        return (Native::Eight, SrcDtype::U8, channels);
    }
    let how = if opts.to_8bit {
        Native::Eight
    } else if (info.gray || opts.grayscale) && info.luma_plane_u16 {
        Native::Luma16 {
            big_endian: info.big_endian,
        }
    } else {
        Native::Rgb48 {
            shift: 16u32.saturating_sub(info.depth),
        }
    };
    (how, SrcDtype::U16, channels)
}

impl std::str::FromStr for VideoSeek {
    type Err = String;
    /// `auto`, `never` or `always`, as `--seek` takes them.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(VideoSeek::Auto),
            "never" => Ok(VideoSeek::Never),
            "always" => Ok(VideoSeek::Always),
            _ => Err(format!("unknown seek '{s}' (auto, never, always)")),
        }
    }
}

/// What the video loader needs after planning.
#[derive(Clone, Debug)]
pub struct VideoPlan {
    pipeline: FramePipeline,
    how: Native,
    /// The last frame the user asked for; None reads to the end of the stream, whatever
    /// the container announced (its count is only an estimate).
    last: Option<usize>,
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Fatal);
    });
}

fn verr(path: &Path, msg: impl std::fmt::Display) -> LoadError {
    LoadError::Video {
        path: path.to_path_buf(),
        msg: msg.to_string(),
    }
}

fn rate(r: ff::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0)
        .then(|| r.numerator() as f64 / r.denominator() as f64)
}

struct Opened {
    input: ff::format::context::Input,
    stream: usize,
    decoder: ff::decoder::Video,
    time_base: f64,
    start_pts: i64,
    fps: f64,
    frames_est: usize,
    frames_exact: bool,
    /// The container has a seek index (MP4/MOV, Matroska/WebM) and the stream a constant
    /// frame rate: timestamps after a seek give frame numbers. Others (MPEG-PS/TS, AVI,
    /// variable rate) are decoded through.
    indexed: bool,
}

fn open(path: &Path) -> Result<Opened, LoadError> {
    init();
    if !path.exists() {
        return Err(LoadError::NotFound(path.to_path_buf()));
    }
    let input = ff::format::input(path).map_err(|e| LoadError::Unsupported {
        path: path.to_path_buf(),
        hint: format!(" (neither an image, .npy nor a video FFmpeg can open: {e})"),
    })?;
    let st = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| verr(path, "no video stream in the file"))?;
    let stream = st.index();
    let mut ctx = ff::codec::context::Context::from_parameters(st.parameters())
        .map_err(|e| verr(path, format!("codec parameters: {e}")))?;
    ctx.set_threading(ff::threading::Config {
        kind: ff::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let decoder = ctx
        .decoder()
        .video()
        .map_err(|e| verr(path, format!("no decoder for this codec: {e}")))?;
    let tb = st.time_base();
    let time_base = tb.numerator() as f64 / tb.denominator().max(1) as f64;
    let fps = rate(st.avg_frame_rate())
        .or_else(|| rate(st.rate()))
        .unwrap_or(25.0);
    let start_pts = if st.start_time() == ff::ffi::AV_NOPTS_VALUE {
        0
    } else {
        st.start_time()
    };
    let (frames_est, exact) = if st.frames() > 0 {
        (st.frames() as usize, false)
    } else if st.duration() > 0 {
        (
            (st.duration() as f64 * time_base * fps).round() as usize,
            false,
        )
    } else if input.duration() > 0 {
        (
            (input.duration() as f64 / ff::ffi::AV_TIME_BASE as f64 * fps).round() as usize,
            false,
        )
    } else {
        (0, false)
    };
    let format = input.format().name().to_string();
    // a constant frame rate (average = base rate) maps timestamps to frame numbers;
    // variable-rate streams are decoded through
    let cfr = st.avg_frame_rate() == st.rate();
    let indexed = (format.contains("mp4") || format.contains("matroska")) && cfr;
    let mut o = Opened {
        indexed,
        input,
        stream,
        decoder,
        time_base,
        start_pts,
        fps,
        frames_est,
        frames_exact: exact,
    };
    if o.frames_est == 0 {
        // no count in the container: count the stream's packets (no decoding)
        let n = o
            .input
            .packets()
            .filter(|(s, _)| s.index() == stream)
            .count();
        o.frames_est = n;
        o.frames_exact = true;
        o.input
            .seek(0, ..)
            .map_err(|e| verr(path, format!("cannot rewind after counting: {e}")))?;
    }
    Ok(o)
}

/// Reads the container's header: size, frame-count estimate, rate.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    let o = open(path)?;
    let (h, w) = (o.decoder.height() as usize, o.decoder.width() as usize);
    if h == 0 || w == 0 {
        return Err(verr(path, "the video stream has no frame size"));
    }
    if o.frames_est == 0 {
        return Err(verr(path, "the video holds no frame"));
    }
    let info = pixel_info(o.decoder.format()).ok_or_else(|| {
        verr(
            path,
            format!("unknown pixel format {:?}", o.decoder.format()),
        )
    })?;
    let (how, src, channels) = native(info, opts);
    // 8-bit conversions hand the pipeline u8 samples whatever the source depth
    let pipe_src = if how == Native::Eight {
        SrcDtype::U8
    } else {
        src
    };
    let pipeline = FramePipeline::new(pipe_src, h, w, channels, opts)?;
    // an estimated count must not refuse a first frame the stream may still hold
    let n = if o.frames_exact {
        o.frames_est
    } else {
        o.frames_est.max(opts.first.unwrap_or(0) + 1)
    };
    let sel = Selection::resolve(n, opts)?;
    let frame_bytes = (pipeline.frame_len() * pipeline.out.size()) as u64;
    let (sel, report) = guard::apply(path, sel, frame_bytes, budget)?;
    let mut notes = vec![
        format!("{:.3} frames/s", o.fps),
        format!(
            "pixel format {} ({} bit{})",
            o.decoder.format().descriptor().map_or("?", |d| d.name()),
            info.depth,
            match how {
                Native::Eight if info.depth > 8 => ", converted to 8 bits".to_string(),
                Native::Rgb48 { .. } => format!(", converted to RGB of {} bits", info.depth),
                _ => String::new(),
            }
        ),
    ];
    if !o.frames_exact {
        notes.push("frame count from the container header (an estimate until decoded)".into());
    }
    Ok(Plan {
        path: path.to_path_buf(),
        kind: SourceKind::Video,
        source_frames: o.frames_est,
        frames_exact: o.frames_exact,
        source_height: h,
        source_width: w,
        source_channels: channels,
        source_dtype: src,
        selection: sel,
        shape: Shape::new(sel.count(), pipeline.out_h, pipeline.out_w, pipeline.out_c),
        dtype: pipeline.out,
        mapped: false,
        storage: super::Storage::Ram,
        cache: None,
        guard: report,
        notes,
        fps: Some(o.fps),
        // times of the planned frames; the decode may end earlier
        time_range: sel
            .indices()
            .last()
            .map(|last| (sel.first as f64 / o.fps, last as f64 / o.fps)),
        detail: Detail::Video(VideoPlan {
            pipeline,
            how,
            last: opts.last,
        }),
    })
}

/// Decoder state while walking the stream.
struct Walk<'a> {
    o: Opened,
    path: &'a Path,
    scaler: Option<scaling::Context>,
    /// Index of the next frame when decoding sequentially.
    next_index: usize,
    /// True after a seek: the index comes from the frame's timestamp.
    from_pts: bool,
    eof_sent: bool,
    last_key: Option<usize>,
    /// Sum and count of the distances between consecutive keyframes seen: encoders add
    /// keyframes at scene cuts, so one distance says little, their mean says more.
    key_gaps: (usize, usize),
}

impl Walk<'_> {
    /// Mean keyframe interval seen so far.
    fn gop(&self) -> Option<usize> {
        let (sum, n) = self.key_gaps;
        (n > 0).then(|| sum / n)
    }

    /// The next decoded frame and its index, None at the end of the stream.
    fn next_frame(&mut self, frame: &mut ff::frame::Video) -> Result<Option<usize>, String> {
        loop {
            if self.o.decoder.receive_frame(frame).is_ok() {
                let idx = if self.from_pts {
                    let pts = frame
                        .timestamp()
                        .or(frame.pts())
                        .unwrap_or(self.o.start_pts);
                    let t = (pts - self.o.start_pts) as f64 * self.o.time_base;
                    (t * self.o.fps).round().max(0.0) as usize
                } else {
                    self.next_index
                };
                self.from_pts = false;
                self.next_index = idx + 1;
                return Ok(Some(idx));
            }
            if self.eof_sent {
                return Ok(None);
            }
            match self.o.input.packets().next() {
                Some((s, p)) => {
                    if s.index() != self.o.stream {
                        continue;
                    }
                    if p.is_key() {
                        let at = self.next_index;
                        if let Some(k) = self.last_key
                            && at > k
                        {
                            self.key_gaps.0 += at - k;
                            self.key_gaps.1 += 1;
                        }
                        self.last_key = Some(at);
                    }
                    if let Err(e) = self.o.decoder.send_packet(&p) {
                        return Err(format!("corrupt data after frame {}: {e}", self.next_index));
                    }
                }
                None => {
                    self.eof_sent = true;
                    let _ = self.o.decoder.send_eof();
                }
            }
        }
    }

    /// Reopens the file and decodes from its first frame again.
    fn restart(&mut self) -> Result<(), LoadError> {
        self.o = open(self.path)?;
        self.next_index = 0;
        self.from_pts = false;
        self.eof_sent = false;
        self.last_key = None;
        Ok(())
    }

    /// Jumps to the keyframe at or before frame `target`.
    fn seek(&mut self, target: usize) -> Result<(), String> {
        let secs = target as f64 / self.o.fps + self.o.start_pts as f64 * self.o.time_base;
        let ts = (secs * ff::ffi::AV_TIME_BASE as f64) as i64;
        self.o
            .input
            .seek(ts, ..ts)
            .map_err(|e| format!("seek to frame {target} failed: {e}"))?;
        self.o.decoder.flush();
        self.from_pts = true;
        self.eof_sent = false;
        self.last_key = None;
        Ok(())
    }

    /// Converts a decoded frame to the output pixel format and size, and stores it.
    fn store(
        &mut self,
        frame: &ff::frame::Video,
        pipe: &FramePipeline,
        how: Native,
        slot: Slot<'_>,
    ) -> Result<(), LoadError> {
        if let Native::Luma16 { big_endian } = how {
            return self.store_luma16(frame, pipe, big_endian, slot);
        }
        // swscale output: GRAY8 / RGB24 (8-bit) or RGB48 in native byte order
        let (fmt, c, bytes) = match how {
            Native::Rgb48 { .. } if cfg!(target_endian = "big") => (Pixel::RGB48BE, 3, 2),
            Native::Rgb48 { .. } => (Pixel::RGB48LE, 3, 2),
            _ if pipe.out_c == 1 => (Pixel::GRAY8, 1, 1),
            _ => (Pixel::RGB24, 3, 1),
        };
        let dtype = if bytes == 2 { Dtype::U16 } else { Dtype::U8 };
        // swscale gives the resized frame; a load crop is cut from it by the pipeline
        let (rh, rw) = pipe.resized;
        let (ow, oh) = (rw as u32, rh as u32);
        if self.scaler.is_none() {
            let flags = if (ow, oh) == (frame.width(), frame.height()) {
                scaling::Flags::POINT
            } else {
                scaling::Flags::AREA
            };
            let s = scaling::Context::get(
                frame.format(),
                frame.width(),
                frame.height(),
                fmt,
                ow,
                oh,
                flags,
            )
            .map_err(|e| verr(self.path, format!("pixel conversion: {e}")))?;
            self.scaler = Some(s);
        }
        let scaler = self.scaler.as_mut().expect("created above");
        let row = rw * c * bytes;
        let identity = pipe.is_identity(rh, rw, c, dtype);
        match slot {
            Slot::U8(s) if identity && bytes == 1 => {
                scale_into(scaler, frame, s, row, rh);
                Ok(())
            }
            Slot::U16(s) if identity && bytes == 2 => {
                scale_into(scaler, frame, bytemuck::cast_slice_mut(s), row, rh);
                to_source_depth(how, s);
                Ok(())
            }
            slot => {
                // normalize, luminance of RGB48, a load crop: the pipeline works on the
                // converted, resized frame
                let len = rh * rw * c;
                let data = if bytes == 1 {
                    let mut v = vec![0u8; len];
                    scale_into(scaler, frame, &mut v, row, rh);
                    RawData::U8(v)
                } else {
                    let mut v = vec![0u16; len];
                    scale_into(scaler, frame, bytemuck::cast_slice_mut(&mut v), row, rh);
                    to_source_depth(how, &mut v);
                    RawData::U16(v)
                };
                let mut p = pipe.clone();
                p.crop = pipe.resized;
                let raw = RawFrame {
                    h: rh,
                    w: rw,
                    c,
                    data,
                };
                p.run(self.path, raw, slot)
            }
        }
    }

    /// Copies plane 0 (gray or luma) of a 9 to 16-bit frame as decoded, then through the
    /// pipeline when it resizes or normalizes.
    fn store_luma16(
        &mut self,
        frame: &ff::frame::Video,
        pipe: &FramePipeline,
        big_endian: bool,
        slot: Slot<'_>,
    ) -> Result<(), LoadError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let stride = frame.stride(0);
        let data = frame.data(0);
        if data.len() < stride * h.saturating_sub(1) + 2 * w {
            return Err(LoadError::decode(
                self.path,
                "decoder returned a short frame",
            ));
        }
        let sample = |b: &[u8]| {
            if big_endian {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        };
        let copy = |dst: &mut [u16]| {
            for (y, out) in dst.chunks_exact_mut(w).take(h).enumerate() {
                let src = &data[y * stride..y * stride + 2 * w];
                for (o, b) in out.iter_mut().zip(src.chunks_exact(2)) {
                    *o = sample(b);
                }
            }
        };
        match slot {
            Slot::U16(s) if pipe.is_identity(h, w, 1, Dtype::U16) => {
                copy(s);
                Ok(())
            }
            slot => {
                let mut v = vec![0u16; w * h];
                copy(&mut v);
                let raw = RawFrame {
                    h,
                    w,
                    c: 1,
                    data: RawData::U16(v),
                };
                pipe.run(self.path, raw, slot)
            }
        }
    }
}

/// RGB48 samples brought back to the source's depth (see [`Native::Rgb48`]). swscale
/// widens by bit replication (v << s | v >> (depth - s)), so the plain shift gives a planar
/// RGB source's samples back exactly.
fn to_source_depth(how: Native, v: &mut [u16]) {
    let Native::Rgb48 { shift } = how else { return };
    if shift > 0 {
        v.iter_mut().for_each(|s| *s >>= shift);
    }
}

/// Converts and scales `frame` straight into `dst` (`rows` rows of `row` bytes), so no
/// intermediate frame is allocated or copied.
fn scale_into(
    scaler: &mut scaling::Context,
    frame: &ff::frame::Video,
    dst: &mut [u8],
    row: usize,
    rows: usize,
) {
    assert!(dst.len() >= row * rows, "slot smaller than a frame");
    let dst_data: [*mut u8; 4] = [
        dst.as_mut_ptr(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    ];
    let dst_stride: [i32; 4] = [row as i32, 0, 0, 0];
    // SAFETY: the context was made for this frame's size and format and for a packed
    // output of `rows` x `row` bytes; `dst` holds at least that many bytes (asserted).
    unsafe {
        let f = &*frame.as_ptr();
        ff::ffi::sws_scale(
            scaler.as_mut_ptr(),
            f.data.as_ptr() as *const *const u8,
            f.linesize.as_ptr(),
            0,
            f.height,
            dst_data.as_ptr(),
            dst_stride.as_ptr(),
        );
    }
}

/// Decodes the selected frames into one preallocated buffer.
pub fn load(
    plan: &Plan,
    vp: &VideoPlan,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Stack, LoadError> {
    let path = &plan.path;
    let pipe = &vp.pipeline;
    let sel = plan.selection;
    let n = pipe.frame_len();
    let mut buf = OutBuf::for_plan(plan, sel.count())?;
    let o = open(path)?;
    let mut walk = Walk {
        o,
        path,
        scaler: None,
        next_index: 0,
        from_pts: false,
        eof_sent: false,
        last_key: None,
        key_gaps: (0, 0),
    };
    progress.start("decoding video", sel.count() as u64);
    let mut frame = ff::frame::Video::empty();
    let mut kept: Vec<usize> = Vec::with_capacity(sel.count());
    let mut notes = Vec::new();
    let stop = vp.last.unwrap_or(usize::MAX);
    let budget_frames = if plan.guard.applies {
        (plan.guard.budget_bytes / (n * pipe.out.size()).max(1) as u64) as usize
    } else {
        usize::MAX
    };
    let mut seekable = walk.o.indexed && opts.video_seek != VideoSeek::Never;
    // seeking pays once the step is longer than half a keyframe interval: a seek decodes
    // on average half an interval (docs/benchmarks.md, video seek rule)
    let seek_pays = |gop: Option<usize>| match opts.video_seek {
        VideoSeek::Never => false,
        VideoSeek::Always => sel.step > 1,
        VideoSeek::Auto => gop.is_some_and(|g| 2 * sel.step > g),
    };
    let mut want = sel.first;
    // (target frame, frames to back off before it) of a seek still to be made / just made
    let mut pending: Option<(usize, usize)> = (want > 0 && seekable).then_some((want, 0));
    let mut landed: Option<(usize, usize)> = None;
    let mut sought_for: Option<usize> = None;
    let mut at_end = false;
    loop {
        if progress.is_cancelled() {
            return Err(LoadError::Cancelled(path.clone()));
        }
        if let Some((target, back)) = pending.take() {
            match walk.seek(target.saturating_sub(back)) {
                Ok(()) => landed = Some((target, back)),
                Err(e) => {
                    notes.push(format!("{e}; decoded through instead"));
                    walk.restart()?;
                    seekable = false;
                }
            }
        }
        let idx = match walk.next_frame(&mut frame) {
            Ok(Some(i)) => i,
            Ok(None) => {
                at_end = true;
                break;
            }
            Err(e) => {
                notes.push(format!(
                    "decode stopped: {e}; kept the {} frames decoded so far",
                    kept.len()
                ));
                break;
            }
        };
        if let Some((target, back)) = landed.take()
            && idx > target
        {
            // landed past the wanted frame: back off further, else decode through
            let fps = walk.o.fps.max(1.0) as usize;
            let back = (back * 2).max(fps);
            if back <= 8 * fps && target > 0 {
                pending = Some((target, back));
            } else {
                notes.push("seeking landed past the wanted frames; decoded through instead".into());
                walk.restart()?;
                seekable = false;
            }
            continue;
        }
        if idx < want {
            // the keyframe interval may become known while skipping
            if seekable
                && opts.video_seek == VideoSeek::Auto
                && seek_pays(walk.gop())
                && sought_for != Some(want)
                && walk.gop().is_some_and(|g| want - idx > g)
            {
                pending = Some((want, 0));
                sought_for = Some(want);
            }
            continue;
        }
        if idx > stop {
            break;
        }
        let k = kept.len();
        if k >= budget_frames {
            notes.push(format!(
                    "the video holds more frames than its container announced; stopped at the memory budget after {k} frames"
                ));
            break;
        }
        // frames past the container's count grow the buffer, by a quarter at a time and
        // never past the budget
        if k >= buf.frames(n) {
            let room = (k + (k / 4).max(1)).min(budget_frames.max(k + 1));
            if let Err(e) = buf.reserve_frames(room, n) {
                notes.push(format!(
                    "stopped after {k} frames: no memory for more ({e})"
                ));
                break;
            }
        }
        buf.fill(k, n, |slot| walk.store(&frame, pipe, vp.how, slot))??;
        kept.push(idx);
        progress.advance(1);
        want = idx + sel.step;
        if want > stop {
            break;
        }
        if seekable && seek_pays(walk.gop()) {
            pending = Some((want, 0));
            sought_for = Some(want);
        }
    }
    buf.truncate(kept.len(), n);
    if kept.is_empty() && at_end && sel.first > 0 {
        return Err(LoadError::Option {
            option: "--first",
            msg: format!(
                "frame {} is beyond the {} frames of {}",
                sel.first,
                walk.next_index,
                path.display()
            ),
        });
    }
    if at_end && kept.len() < sel.count() {
        notes.push(format!(
            "the video ended after {} frames kept (last source frame {}); its container announced {} frames",
            kept.len(),
            walk.next_index.saturating_sub(1),
            plan.source_frames
        ));
    }
    if kept.is_empty() {
        return Err(verr(
            path,
            notes
                .pop()
                .unwrap_or_else(|| "no frame could be decoded".into()),
        ));
    }
    let fps = walk.o.fps;
    let source = SourceInfo {
        notes,
        fps: Some(fps),
        frame_time: kept.iter().map(|&i| i as f64 / fps).collect(),
        frame_index: kept,
        ..Default::default()
    };
    let shape = Shape::new(0, pipe.out_h, pipe.out_w, pipe.out_c);
    buf.into_stack(shape, source)
}
