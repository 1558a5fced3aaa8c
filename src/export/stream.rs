//! A stack written run of frames by run of frames, for results bigger than the RAM
//! budget (`blitz normalize` under `--max-ram`): `.npy` through [`NpyWriter`], `.tif`
//! one page per frame as the frames arrive. Either goes to a temporary file renamed into
//! place by [`StackWriter::finish`]; a writer dropped before that removes its file.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tiff::encoder::{TiffEncoder, TiffKind, TiffKindBig, TiffKindStandard, colortype};

use super::{ExportError, NpyWriter, Target};
use crate::load::ext_of_path;
use crate::stack::{Dtype, Samples, Shape};

/// Writes one frame (`w` x `h`, 1 or 3 channels) as the next page of `enc`.
pub(super) fn write_page<W: Write + Seek, K: TiffKind>(
    enc: &mut TiffEncoder<W, K>,
    w: u32,
    h: u32,
    channels: usize,
    frame: Samples<'_>,
) -> tiff::TiffResult<()> {
    match (frame, channels) {
        (Samples::U8(f), 1) => enc.write_image::<colortype::Gray8>(w, h, f),
        (Samples::U8(f), _) => enc.write_image::<colortype::RGB8>(w, h, f),
        (Samples::U16(f), 1) => enc.write_image::<colortype::Gray16>(w, h, f),
        (Samples::U16(f), _) => enc.write_image::<colortype::RGB16>(w, h, f),
        (Samples::F32(f), 1) => enc.write_image::<colortype::Gray32Float>(w, h, f),
        (Samples::F32(f), _) => enc.write_image::<colortype::RGB32Float>(w, h, f),
    }
}

/// True when a TIFF of `bytes` of samples needs BigTIFF offsets (above 4 GB, with room
/// for the directories).
pub(super) fn needs_big_tiff(bytes: u64) -> bool {
    bytes > (4u64 << 30) - (64 << 20)
}

/// The output file, shared between the TIFF encoder (which owns its writer and never
/// gives it back) and [`TiffPages::finish`], which takes it back to commit it.
#[derive(Clone)]
struct Shared(Rc<RefCell<BufWriter<File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

impl Seek for Shared {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.borrow_mut().seek(pos)
    }
}

enum Encoder {
    Standard(TiffEncoder<Shared, TiffKindStandard>),
    Big(TiffEncoder<Shared, TiffKindBig>),
}

/// A multi-page TIFF written a frame at a time.
pub struct TiffPages {
    path: PathBuf,
    shape: Shape,
    dtype: Dtype,
    frames_written: usize,
    encoder: Option<Encoder>,
    file: Option<Shared>,
    target: Option<Target>,
}

impl TiffPages {
    fn create(path: &Path, dtype: Dtype, shape: Shape) -> Result<TiffPages, ExportError> {
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let enc_err = |e: tiff::TiffError| ExportError::Encode {
            path: path.to_path_buf(),
            msg: e.to_string(),
        };
        let mut target = Target::open(path).map_err(io)?;
        let file = Shared(Rc::new(RefCell::new(BufWriter::with_capacity(
            1 << 20,
            target.take(),
        ))));
        let encoder = if needs_big_tiff(shape.bytes(dtype)) {
            Encoder::Big(TiffEncoder::new_big(file.clone()).map_err(enc_err)?)
        } else {
            Encoder::Standard(TiffEncoder::new(file.clone()).map_err(enc_err)?)
        };
        Ok(TiffPages {
            path: path.to_path_buf(),
            shape,
            dtype,
            frames_written: 0,
            encoder: Some(encoder),
            file: Some(file),
            target: Some(target),
        })
    }

    fn encode_err(&self, msg: impl Into<String>) -> ExportError {
        ExportError::Encode {
            path: self.path.clone(),
            msg: msg.into(),
        }
    }

    /// Appends whole frames.
    pub fn write(&mut self, s: Samples<'_>) -> Result<(), ExportError> {
        let n = self.shape.frame_len();
        let frames = s.len() / n.max(1);
        if s.dtype() != self.dtype
            || !s.len().is_multiple_of(n.max(1))
            || self.frames_written + frames > self.shape.frames
        {
            return Err(self.encode_err(format!(
                "{} samples of {} after {} of {} frames do not fit the stack",
                s.len(),
                s.dtype(),
                self.frames_written,
                self.shape.frames
            )));
        }
        let (w, h, c) = (
            self.shape.width as u32,
            self.shape.height as u32,
            self.shape.channels,
        );
        for k in 0..frames {
            let frame = s.range(k * n, (k + 1) * n);
            let r = match self.encoder.as_mut() {
                Some(Encoder::Standard(e)) => write_page(e, w, h, c, frame),
                Some(Encoder::Big(e)) => write_page(e, w, h, c, frame),
                None => return Err(self.encode_err("the file is already finished")),
            };
            r.map_err(|e| self.encode_err(e.to_string()))?;
            self.frames_written += 1;
        }
        Ok(())
    }

    /// Completes the last page and renames the file over the target.
    pub fn finish(mut self) -> Result<(), ExportError> {
        if self.frames_written != self.shape.frames {
            return Err(self.encode_err(format!(
                "only {} of {} frames were written",
                self.frames_written, self.shape.frames
            )));
        }
        // the encoder's last directory is complete once it is dropped
        self.encoder.take();
        let (Some(file), Some(target)) = (self.file.take(), self.target.take()) else {
            return Err(self.encode_err("the file is already finished"));
        };
        let io = |source| ExportError::Io {
            path: self.path.clone(),
            source,
        };
        let w = Rc::try_unwrap(file.0)
            .map_err(|_| self.encode_err("the TIFF encoder still holds the file"))?
            .into_inner();
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
        target.commit_file(f).map_err(io)
    }
}

/// A `.npy` or `.tif` written in frame order, chosen by the extension of its path.
pub enum StackWriter {
    Npy(NpyWriter),
    Tiff(Box<TiffPages>),
}

impl StackWriter {
    /// Starts `path` (`.npy`, `.tif` or `.tiff`) for a stack of `shape` and `dtype`.
    pub fn create(path: &Path, dtype: Dtype, shape: Shape) -> Result<StackWriter, ExportError> {
        match ext_of_path(path).as_str() {
            "npy" => {
                let mut dims = vec![shape.frames, shape.height, shape.width];
                if shape.channels != 1 {
                    dims.push(shape.channels);
                }
                Ok(StackWriter::Npy(NpyWriter::create(path, dtype, &dims)?))
            }
            "tif" | "tiff" => Ok(StackWriter::Tiff(Box::new(TiffPages::create(
                path, dtype, shape,
            )?))),
            ext => Err(ExportError::Unsupported {
                path: path.to_path_buf(),
                ext: ext.to_string(),
            }),
        }
    }

    /// Appends whole frames of the writer's dtype.
    pub fn write(&mut self, s: Samples<'_>) -> Result<(), ExportError> {
        match self {
            StackWriter::Npy(w) => w.write(s),
            StackWriter::Tiff(w) => w.write(s),
        }
    }

    /// Completes the file and renames it over the target; an error when frames are missing.
    pub fn finish(self) -> Result<(), ExportError> {
        match self {
            StackWriter::Npy(w) => w.finish(),
            StackWriter::Tiff(w) => w.finish(),
        }
    }
}
