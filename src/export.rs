//! Writers: `.npy` and multi-page `.tif`. Every write goes to a temporary file beside the
//! target and is renamed into place, so a failed export never leaves half a file or
//! destroys an existing one.

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use crate::load::ext_of_path;
use crate::ops::Image;
use crate::stack::{Dtype, Samples, Stack};

mod csv;
pub mod partial;
mod stream;
mod target;
pub use csv::{
    ENV_BAND, ENV_DATASET, ENV_IMAGE, FrameClock, ProfileColumns, channel_columns, write_csv,
    write_csv_commented, write_profiles_csv, write_profiles_csv_described, write_roi_csv,
    write_roi_csv_described, write_roi_table_csv,
};
pub use stream::{StackWriter, TiffPages};
pub use target::{Target, resolve};

/// An export that failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {msg}", path.display())]
    Encode { path: PathBuf, msg: String },
    #[error("{}: unsupported output type '{ext}' (use .npy or .tif)", path.display())]
    Unsupported { path: PathBuf, ext: String },
}

/// Runs `write` on the output for `path` (see [`Target`]): a temporary file beside a
/// regular file, renamed over it when complete; a FIFO or device written directly.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut t = Target::open(path).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, t.take());
    write(&mut w)?;
    let f = w.into_inner().map_err(|e| io(e.into_error()))?;
    t.commit_file(f).map_err(io)
}

/// Writes `text` to `path` through [`write_atomic`].
pub fn write_text(path: &Path, text: &str) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|source| ExportError::Io {
                path: path.to_path_buf(),
                source,
            })
    })
}

/// Writes a ROI set file (the JSON of [`crate::ops::roi::set`]).
pub fn write_rois(path: &Path, rois: &[crate::ops::roi::set::NamedRoi]) -> Result<(), ExportError> {
    write_text(path, &crate::ops::roi::set::rois_json(rois))
}

/// `.npy` header (version 1.0) for a little-endian C-order array, padded to 64 bytes.
pub fn npy_header(descr: &str, dims: &[usize]) -> Vec<u8> {
    crate::load::npy_header(descr, dims, 0)
}

fn descr(s: &Samples<'_>) -> &'static str {
    descr_of(s.dtype())
}

fn descr_of(dtype: Dtype) -> &'static str {
    crate::load::npy_descr(dtype)
}

/// A `.npy` written piece by piece (frames of a result bigger than RAM): the header
/// first, then the samples in order, into a temporary file beside the target that
/// [`NpyWriter::finish`] renames into place once every sample the header announces is
/// written. A writer dropped before that (an error on the way) removes its file.
pub struct NpyWriter {
    path: PathBuf,
    target: Option<Target>,
    out: Option<BufWriter<File>>,
    dtype: Dtype,
    /// Bytes of samples the header announces, and those written so far.
    expected: u64,
    written: u64,
}

impl NpyWriter {
    /// Starts `path`, an array of `dtype` and shape `dims`.
    pub fn create(path: &Path, dtype: Dtype, dims: &[usize]) -> Result<NpyWriter, ExportError> {
        let mut target = Target::open(path).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let f = target.take();
        let mut w = NpyWriter {
            path: path.to_path_buf(),
            target: Some(target),
            out: Some(BufWriter::with_capacity(1 << 20, f)),
            dtype,
            expected: dims.iter().map(|&d| d as u64).product::<u64>() * dtype.size() as u64,
            written: 0,
        };
        w.put(&npy_header(descr_of(dtype), dims))?;
        w.written = 0;
        Ok(w)
    }

    fn io(&self, source: std::io::Error) -> ExportError {
        ExportError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        let r = match self.out.as_mut() {
            Some(w) => w.write_all(bytes),
            None => Err(std::io::Error::other("the file is already finished")),
        };
        r.map_err(|e| self.io(e))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Appends samples, which must be of the writer's dtype and fit in the announced shape.
    pub fn write(&mut self, s: Samples<'_>) -> Result<(), ExportError> {
        let bytes = s.as_bytes();
        if s.dtype() != self.dtype || self.written + bytes.len() as u64 > self.expected {
            return Err(ExportError::Encode {
                path: self.path.clone(),
                msg: format!(
                    "{} bytes of {} after {} of {} bytes of {} do not fit the array",
                    bytes.len(),
                    s.dtype(),
                    self.written,
                    self.expected,
                    self.dtype
                ),
            });
        }
        self.put(bytes)
    }

    /// Flushes the file to disk and renames it over the target; an error when fewer
    /// samples were written than the header announces.
    pub fn finish(mut self) -> Result<(), ExportError> {
        if self.written != self.expected {
            return Err(ExportError::Encode {
                path: self.path.clone(),
                msg: format!(
                    "only {} of {} bytes of samples were written",
                    self.written, self.expected
                ),
            });
        }
        let Some(w) = self.out.take() else {
            return Err(self.io(std::io::Error::other("the file is already finished")));
        };
        let Some(target) = self.target.take() else {
            return Err(self.io(std::io::Error::other("the file is already finished")));
        };
        let done = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| target.commit_file(f));
        done.map_err(|e| self.io(e))
    }
}

impl Drop for NpyWriter {
    fn drop(&mut self) {
        // not finished: dropping the target removes the partial file
        self.out.take();
        self.target.take();
    }
}

/// Writes samples as a `.npy` of shape `dims`.
pub fn write_npy_samples(path: &Path, dims: &[usize], s: Samples<'_>) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        w.write_all(&npy_header(descr(&s), dims)).map_err(io)?;
        w.write_all(s.as_bytes()).map_err(io)
    })
}

/// (T, H, W) for one channel, else (T, H, W, C).
pub fn stack_dims(stack: &Stack) -> Vec<usize> {
    let s = stack.shape();
    if s.channels == 1 {
        vec![s.frames, s.height, s.width]
    } else {
        vec![s.frames, s.height, s.width, s.channels]
    }
}

/// Writes the stack as `.npy`, (T, H, W[, C]), in its own dtype.
pub fn write_npy(path: &Path, stack: &Stack) -> Result<(), ExportError> {
    write_npy_samples(path, &stack_dims(stack), stack.samples())
}

/// Writes every frame as one page of a TIFF (BigTIFF above 4 GB), in the stack's dtype.
pub fn write_tiff(path: &Path, stack: &Stack) -> Result<(), ExportError> {
    use tiff::encoder::{TiffEncoder, TiffKind};
    let enc_err = |e: tiff::TiffError| ExportError::Encode {
        path: path.to_path_buf(),
        msg: e.to_string(),
    };
    fn pages<W: Write + Seek, K: TiffKind>(
        enc: &mut TiffEncoder<W, K>,
        stack: &Stack,
    ) -> tiff::TiffResult<()> {
        let s = stack.shape();
        let (w, h) = (s.width as u32, s.height as u32);
        for t in 0..s.frames {
            stream::write_page(enc, w, h, s.channels, stack.frame(t))?;
        }
        Ok(())
    }
    write_atomic(path, |w| {
        if stream::needs_big_tiff(stack.bytes()) {
            pages(&mut TiffEncoder::new_big(w).map_err(enc_err)?, stack).map_err(enc_err)
        } else {
            pages(&mut TiffEncoder::new(w).map_err(enc_err)?, stack).map_err(enc_err)
        }
    })
}

/// Writes the stack to `.npy` or `.tif`/`.tiff`, chosen by the extension.
pub fn write_stack(path: &Path, stack: &Stack) -> Result<(), ExportError> {
    match ext_of_path(path).as_str() {
        "npy" => write_npy(path, stack),
        "tif" | "tiff" => write_tiff(path, stack),
        ext => Err(ExportError::Unsupported {
            path: path.to_path_buf(),
            ext: ext.to_string(),
        }),
    }
}

/// Writes a result image: `.npy` or `.tif` as f32 ((H, W) for one channel, else
/// (H, W, C)), `.png` as 8-bit through its finite min..max.
pub fn write_image(path: &Path, img: &Image) -> Result<(), ExportError> {
    let dims: Vec<usize> = if img.channels == 1 {
        vec![img.height, img.width]
    } else {
        vec![img.height, img.width, img.channels]
    };
    match ext_of_path(path).as_str() {
        "npy" => write_npy_samples(path, &dims, Samples::F32(&img.data)),
        "tif" | "tiff" => {
            let shape = crate::stack::Shape::new(1, img.height, img.width, img.channels);
            let stack =
                Stack::from_vec(shape, img.data.clone()).map_err(|e| ExportError::Encode {
                    path: path.to_path_buf(),
                    msg: e.to_string(),
                })?;
            write_tiff(path, &stack)
        }
        "png" => {
            let (lo, hi) = img
                .data
                .iter()
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let (lo, hi) = if lo.is_finite() {
                (lo, if hi > lo { hi } else { lo + 1.0 })
            } else {
                (0.0, 1.0)
            };
            let bytes: Vec<u8> = img
                .data
                .iter()
                .map(|&v| {
                    if v.is_finite() {
                        ((v - lo) / (hi - lo) * 255.0).round().clamp(0.0, 255.0) as u8
                    } else {
                        0
                    }
                })
                .collect();
            let color = if img.channels == 3 {
                image::ExtendedColorType::Rgb8
            } else {
                image::ExtendedColorType::L8
            };
            let enc_err = |e: image::ImageError| ExportError::Encode {
                path: path.to_path_buf(),
                msg: e.to_string(),
            };
            write_atomic(path, |w| {
                use image::ImageEncoder;
                image::codecs::png::PngEncoder::new(w)
                    .write_image(&bytes, img.width as u32, img.height as u32, color)
                    .map_err(enc_err)
            })
        }
        ext => Err(ExportError::Unsupported {
            path: path.to_path_buf(),
            ext: ext.to_string(),
        }),
    }
}
