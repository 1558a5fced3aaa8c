//! The per-frame pipeline of spec §2.3: decode -> channels (grayscale) -> crop to the
//! common size -> area resize -> normalize | 8-bit -> load crop (`--crop`) -> the stored
//! dtype, written into the frame's slot. Frames that need none of it are copied (or
//! decoded) straight in.

use std::path::Path;

use crate::stack::Dtype;

use super::crop::{Window, cut};
use super::output::Slot;
use super::{LoadError, LoadOptions, SrcDtype};

/// Samples of one decoded frame, before conversion.
pub enum RawData {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

/// One decoded frame: `h` x `w` pixels of `c` interleaved channels (1 to 4; 2 and 4 carry alpha).
pub struct RawFrame {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: RawData,
}

impl RawData {
    pub fn dtype(&self) -> Dtype {
        match self {
            RawData::U8(_) => Dtype::U8,
            RawData::U16(_) => Dtype::U16,
            RawData::F32(_) => Dtype::F32,
        }
    }

    fn get(&self, i: usize) -> f32 {
        match self {
            RawData::U8(v) => v[i] as f32,
            RawData::U16(v) => v[i] as f32,
            RawData::F32(v) => v[i],
        }
    }
}

/// Luminance weights of OpenCV's BGR2GRAY (spec §1.3).
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// What to do with every frame of one load.
#[derive(Clone, Debug)]
pub struct FramePipeline {
    /// Source sample type: decides rounding and the fixed 8-bit scale.
    pub src: SrcDtype,
    /// Channels stored (1 or 3).
    pub out_c: usize,
    /// Region (h, w) taken from the top-left of every frame before resizing.
    pub crop: (usize, usize),
    /// Frame size (h, w) after the size ratio, before the load crop.
    pub resized: (usize, usize),
    /// The load crop's part of the resized frame (`--crop`), when it is not all of it.
    pub window: Option<Window>,
    /// Stored frame size: the load crop's, else the resized frame's.
    pub out_h: usize,
    pub out_w: usize,
    pub normalize: bool,
    pub to_8bit: bool,
    /// Stored dtype.
    pub out: Dtype,
}

impl FramePipeline {
    /// The pipeline for frames of `h` x `w` x `c` (`c` counting alpha) of `src` samples.
    pub fn new(
        src: SrcDtype,
        h: usize,
        w: usize,
        c: usize,
        opts: &LoadOptions,
    ) -> Result<Self, LoadError> {
        let color = c >= 3;
        let out_c = if color && !opts.grayscale { 3 } else { 1 };
        let resized = opts.resized(h, w)?;
        let window = match &opts.crop {
            Some(c) => Some(c.window(resized.0, resized.1)?),
            None => None,
        }
        .filter(|win| (win.h, win.w) != resized);
        let (out_h, out_w) = window.map_or(resized, |win| (win.h, win.w));
        Ok(FramePipeline {
            src,
            out_c,
            crop: (h, w),
            resized,
            window,
            out_h,
            out_w,
            normalize: opts.normalize,
            to_8bit: opts.to_8bit,
            out: src.stored(opts),
        })
    }

    /// This pipeline for one frame whose own source type is `src` (a frame of a source
    /// with mixed types): it keeps the stored type and scales and rounds as `src` asks.
    pub fn for_source(&self, src: SrcDtype) -> FramePipeline {
        FramePipeline {
            src,
            ..self.clone()
        }
    }

    /// Samples per stored frame.
    pub fn frame_len(&self) -> usize {
        self.out_h * self.out_w * self.out_c
    }

    /// True when a decoded frame of this size, channel count and dtype is already the
    /// stored frame, so a decoder may write straight into the slot.
    pub fn is_identity(&self, h: usize, w: usize, c: usize, dtype: Dtype) -> bool {
        h == self.out_h
            && w == self.out_w
            && (h, w) == self.crop
            && self.window.is_none()
            && c == self.out_c
            && dtype == self.out
            && !self.normalize
            && (!self.to_8bit || dtype == Dtype::U8)
    }

    /// Converts `raw` and writes it into `slot`.
    pub fn run(&self, path: &Path, raw: RawFrame, slot: Slot<'_>) -> Result<(), LoadError> {
        if raw.h < self.crop.0 || raw.w < self.crop.1 {
            return Err(LoadError::decode(
                path,
                format!(
                    "frame is {}x{}, expected at least {}x{}",
                    raw.w, raw.h, self.crop.1, self.crop.0
                ),
            ));
        }
        if raw.data_len() != raw.h * raw.w * raw.c {
            return Err(LoadError::decode(path, "decoder returned a short frame"));
        }
        if self.is_identity(raw.h, raw.w, raw.c, raw.data.dtype()) {
            match (raw.data, slot) {
                (RawData::U8(v), Slot::U8(s)) => s.copy_from_slice(&v),
                (RawData::U16(v), Slot::U16(s)) => s.copy_from_slice(&v),
                (RawData::F32(v), Slot::F32(s)) => s.copy_from_slice(&v),
                _ => unreachable!("identity means equal dtypes"),
            }
            return Ok(());
        }
        let work = self.channels_and_crop(&raw);
        let work = if self.crop != self.resized {
            let mut r = resize_area(
                &work,
                self.crop.0,
                self.crop.1,
                self.out_c,
                self.resized.0,
                self.resized.1,
            );
            if !self.src.is_float() {
                r.iter_mut().for_each(|v| *v = v.round());
            }
            r
        } else {
            work
        };
        self.finish(&work, slot);
        Ok(())
    }

    /// Takes the crop region as f32 with `out_c` channels (alpha dropped, luminance or
    /// gray replicated as needed).
    fn channels_and_crop(&self, raw: &RawFrame) -> Vec<f32> {
        let (ch, cw) = self.crop;
        let mut out = Vec::with_capacity(ch * cw * self.out_c);
        let round = !self.src.is_float();
        for y in 0..ch {
            for x in 0..cw {
                let i = (y * raw.w + x) * raw.c;
                match (raw.c >= 3, self.out_c) {
                    (true, 3) => {
                        out.extend((0..3).map(|k| raw.data.get(i + k)));
                    }
                    (true, _) => {
                        let l = LUMA[0] * raw.data.get(i)
                            + LUMA[1] * raw.data.get(i + 1)
                            + LUMA[2] * raw.data.get(i + 2);
                        out.push(if round { l.round() } else { l });
                    }
                    (false, 3) => {
                        let g = raw.data.get(i);
                        out.extend([g, g, g]);
                    }
                    (false, _) => out.push(raw.data.get(i)),
                }
            }
        }
        out
    }

    /// Normalize or 8-bit scale, the load crop, then store as the output dtype. The
    /// normalization's range is the whole resized frame's (spec §2.6).
    fn finish(&self, work: &[f32], slot: Slot<'_>) {
        let range = self.normalize.then(|| {
            let (mut mn, mut mx) = (f64::INFINITY, f64::NEG_INFINITY);
            for &v in work {
                if !v.is_nan() {
                    mn = mn.min(v as f64);
                    mx = mx.max(v as f64);
                }
            }
            (mn, mx)
        });
        let kept;
        let work = match self.window {
            Some(win) => {
                kept = cut(work, self.resized.1, self.out_c, win);
                &kept[..]
            }
            None => work,
        };
        if let Some((mut mn, mx)) = range {
            if !mn.is_finite() {
                mn = 0.0;
            }
            if !mx.is_finite() || mx <= mn {
                if self.to_8bit {
                    store(slot, work.iter().map(|_| 0.0));
                } else {
                    store(slot, work.iter().copied());
                }
                return;
            }
            let scale = match self.out {
                Dtype::U8 => 255.0,
                Dtype::U16 => 65535.0,
                Dtype::F32 => 1.0,
            };
            store(
                slot,
                work.iter().map(|&v| {
                    let s = (v as f64 - mn) / (mx - mn);
                    let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
                    let r = s * scale;
                    if self.out == Dtype::F32 {
                        r as f32
                    } else {
                        r.trunc() as f32
                    }
                }),
            );
            return;
        }
        if self.to_8bit {
            let src = self.src;
            store(
                slot,
                work.iter().map(move |&v| match src {
                    SrcDtype::U8 => v,
                    SrcDtype::U16 => (v / 65535.0 * 255.0).trunc(),
                    SrcDtype::F32 | SrcDtype::F64 => {
                        if v.is_nan() {
                            0.0
                        } else {
                            (v * 255.0).clamp(0.0, 255.0).trunc()
                        }
                    }
                    _ => ((v as f64 / src.int_max() * 255.0).clamp(0.0, 255.0)).trunc() as f32,
                }),
            );
            return;
        }
        store(slot, work.iter().copied());
    }
}

impl RawFrame {
    fn data_len(&self) -> usize {
        match &self.data {
            RawData::U8(v) => v.len(),
            RawData::U16(v) => v.len(),
            RawData::F32(v) => v.len(),
        }
    }
}

/// Writes f32 values into a slot, rounding and saturating for integer slots.
fn store(slot: Slot<'_>, values: impl Iterator<Item = f32>) {
    match slot {
        Slot::U8(s) => s
            .iter_mut()
            .zip(values)
            .for_each(|(d, v)| *d = v.round().clamp(0.0, 255.0) as u8),
        Slot::U16(s) => s
            .iter_mut()
            .zip(values)
            .for_each(|(d, v)| *d = v.round().clamp(0.0, 65535.0) as u16),
        Slot::F32(s) => s.iter_mut().zip(values).for_each(|(d, v)| *d = v),
    }
}

/// Source indices and weights covering output pixel i when `n_in` pixels shrink to `n_out`.
fn area_weights(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f32)>> {
    let s = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|i| {
            let (a, b) = (i as f64 * s, ((i + 1) as f64 * s).min(n_in as f64));
            let mut w = Vec::new();
            let mut j = a.floor() as usize;
            while (j as f64) < b && j < n_in {
                let overlap = b.min(j as f64 + 1.0) - a.max(j as f64);
                if overlap > 1e-12 {
                    w.push((j, (overlap / s) as f32));
                }
                j += 1;
            }
            w
        })
        .collect()
}

/// Area-averaging downscale (OpenCV INTER_AREA for shrinking): every output pixel is the
/// mean of the source area it covers, partial pixels weighted by their overlap.
pub fn resize_area(src: &[f32], h: usize, w: usize, c: usize, oh: usize, ow: usize) -> Vec<f32> {
    let wx = area_weights(w, ow);
    let wy = area_weights(h, oh);
    let mut tmp = vec![0f32; h * ow * c];
    for y in 0..h {
        let row = &src[y * w * c..(y + 1) * w * c];
        let trow = &mut tmp[y * ow * c..(y + 1) * ow * c];
        for (ox, ws) in wx.iter().enumerate() {
            for &(x, wt) in ws {
                for k in 0..c {
                    trow[ox * c + k] += wt * row[x * c + k];
                }
            }
        }
    }
    let mut out = vec![0f32; oh * ow * c];
    for (oy, ws) in wy.iter().enumerate() {
        let orow = &mut out[oy * ow * c..(oy + 1) * ow * c];
        for &(y, wt) in ws {
            let trow = &tmp[y * ow * c..(y + 1) * ow * c];
            orow.iter_mut().zip(trow).for_each(|(o, t)| *o += wt * t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_resize_of_2x2_blocks_is_their_mean() {
        let src: Vec<f32> = vec![
            1., 3., 10., 20., //
            5., 7., 30., 40., //
        ];
        assert_eq!(resize_area(&src, 2, 4, 1, 1, 2), vec![4.0, 25.0]);
    }

    #[test]
    fn area_resize_by_two_thirds_weights_partial_pixels() {
        // 3 -> 2: output 0 covers [0, 1.5): 1 * a + 0.5 * b over 1.5
        let out = resize_area(&[3.0, 6.0, 9.0], 1, 3, 1, 1, 2);
        assert!((out[0] - (3.0 + 0.5 * 6.0) / 1.5).abs() < 1e-6);
        assert!((out[1] - (0.5 * 6.0 + 9.0) / 1.5).abs() < 1e-6);
    }

    fn pipeline(src: SrcDtype, opts: &LoadOptions, c: usize) -> FramePipeline {
        FramePipeline::new(src, 1, 2, c, opts).unwrap()
    }

    #[test]
    fn eight_bit_scale_truncates() {
        let o = LoadOptions {
            to_8bit: true,
            ..Default::default()
        };
        let p = pipeline(SrcDtype::U16, &o, 1);
        let mut out = vec![0u8; 2];
        let raw = RawFrame {
            h: 1,
            w: 2,
            c: 1,
            data: RawData::U16(vec![65535, 1000]),
        };
        p.run(Path::new("x"), raw, Slot::U8(&mut out)).unwrap();
        // 1000 / 65535 * 255 = 3.89 -> 3
        assert_eq!(out, vec![255, 3]);

        let p = pipeline(SrcDtype::F32, &o, 1);
        let raw = RawFrame {
            h: 1,
            w: 2,
            c: 1,
            data: RawData::F32(vec![f32::NAN, 0.5]),
        };
        p.run(Path::new("x"), raw, Slot::U8(&mut out)).unwrap();
        assert_eq!(out, vec![0, 127]);
    }

    #[test]
    fn normalize_u16_stretches_to_full_range_and_constant_stays() {
        let o = LoadOptions {
            normalize: true,
            ..Default::default()
        };
        let p = pipeline(SrcDtype::U16, &o, 1);
        let mut out = vec![0u16; 2];
        let raw = RawFrame {
            h: 1,
            w: 2,
            c: 1,
            data: RawData::U16(vec![100, 300]),
        };
        p.run(Path::new("x"), raw, Slot::U16(&mut out)).unwrap();
        assert_eq!(out, vec![0, 65535]);
        let raw = RawFrame {
            h: 1,
            w: 2,
            c: 1,
            data: RawData::U16(vec![7, 7]),
        };
        p.run(Path::new("x"), raw, Slot::U16(&mut out)).unwrap();
        assert_eq!(out, vec![7, 7]);
    }

    #[test]
    fn grayscale_uses_opencv_weights_and_drops_alpha() {
        let o = LoadOptions {
            grayscale: true,
            ..Default::default()
        };
        let p = pipeline(SrcDtype::U8, &o, 4);
        let mut out = vec![0u8; 2];
        let raw = RawFrame {
            h: 1,
            w: 2,
            c: 4,
            data: RawData::U8(vec![255, 0, 0, 9, 10, 20, 30, 9]),
        };
        p.run(Path::new("x"), raw, Slot::U8(&mut out)).unwrap();
        // 0.299*255 = 76.2 -> 76; 0.299*10+0.587*20+0.114*30 = 18.15 -> 18
        assert_eq!(out, vec![76, 18]);
    }
}
