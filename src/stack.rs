//! The one data model: a (T, H, W, C) stack of u8, u16 or f32 samples, owned or memory-mapped.

use std::fmt;
use std::sync::Arc;

use ndarray::ArrayView4;

mod stream;
use rayon::prelude::*;
use serde::Serialize;
pub use stream::{DEFAULT_CHUNK_BYTES, FileMap, chunk_bytes_from_env};

/// Sample type as stored; results of operations are always f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    U8,
    U16,
    F32,
}

impl Dtype {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::U16 => 2,
            Dtype::F32 => 4,
        }
    }

    /// Lower-case name as printed by the CLI (`u8`, `u16`, `f32`).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::U8 => "u8",
            Dtype::U16 => "u16",
            Dtype::F32 => "f32",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Stack dimensions: frames, height (rows), width (columns), channels (1 or 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Shape {
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Shape {
    pub fn new(frames: usize, height: usize, width: usize, channels: usize) -> Self {
        Shape {
            frames,
            height,
            width,
            channels,
        }
    }

    /// Samples in one frame (H * W * C).
    pub fn frame_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Samples in the whole stack.
    pub fn len(&self) -> usize {
        self.frames * self.frame_len()
    }

    /// True when the stack holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the stack takes at `dtype`.
    pub fn bytes(&self, dtype: Dtype) -> u64 {
        self.len() as u64 * dtype.size() as u64
    }

    /// (T, H, W, C) as an ndarray shape.
    pub fn dims(&self) -> (usize, usize, usize, usize) {
        (self.frames, self.height, self.width, self.channels)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} x {} x {} x {}",
            self.frames, self.height, self.width, self.channels
        )
    }
}

/// A stored sample type: u8, u16 or f32.
pub trait Sample: bytemuck::Pod + Copy + Send + Sync + PartialOrd + 'static {
    const DTYPE: Dtype;
    fn to_f32(self) -> f32;
}

impl Sample for u8 {
    const DTYPE: Dtype = Dtype::U8;
    fn to_f32(self) -> f32 {
        self as f32
    }
}

impl Sample for u16 {
    const DTYPE: Dtype = Dtype::U16;
    fn to_f32(self) -> f32 {
        self as f32
    }
}

impl Sample for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn to_f32(self) -> f32 {
        self
    }
}

/// Something that keeps memory it lent to a stack alive (a numpy array).
pub type Keeper = Arc<dyn Send + Sync>;

/// Storage of one dtype: a vector in RAM, a window of a read-only file mapping, or RAM
/// lent by another owner (a numpy array) that `keep` holds alive.
enum Buffer<T> {
    Owned(Vec<T>),
    Mapped {
        map: Arc<FileMap>,
        offset: usize,
        len: usize,
    },
    External {
        _keep: Keeper,
        /// Address of the first sample (a pointer would make the buffer !Send).
        addr: usize,
        len: usize,
    },
}

impl<T: bytemuck::Pod> Buffer<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Buffer::Owned(v) => v,
            Buffer::Mapped { map, offset, len } => {
                let bytes = &map.map[*offset..*offset + *len * std::mem::size_of::<T>()];
                bytemuck::cast_slice(bytes)
            }
            // SAFETY: `Stack::from_external`'s contract: `addr` holds `len` aligned samples
            // that `_keep` keeps alive and unchanged for the stack's lifetime
            Buffer::External { addr, len, .. } => unsafe {
                std::slice::from_raw_parts(*addr as *const T, *len)
            },
        }
    }
}

enum Data {
    U8(Buffer<u8>),
    U16(Buffer<u16>),
    F32(Buffer<f32>),
}

/// A typed, read-only view of the whole stack as (T, H, W, C).
pub enum StackView<'a> {
    U8(ArrayView4<'a, u8>),
    U16(ArrayView4<'a, u16>),
    F32(ArrayView4<'a, f32>),
}

/// A typed slice of samples (a frame or the whole stack), row-major, C fastest.
#[derive(Clone, Copy)]
pub enum Samples<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    F32(&'a [f32]),
}

impl<'a> Samples<'a> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(s) => s.len(),
            Samples::U16(s) => s.len(),
            Samples::F32(s) => s.len(),
        }
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i` as f32.
    pub fn get_f32(&self, i: usize) -> f32 {
        match self {
            Samples::U8(s) => s[i] as f32,
            Samples::U16(s) => s[i] as f32,
            Samples::F32(s) => s[i],
        }
    }

    /// The dtype of the samples.
    pub fn dtype(&self) -> Dtype {
        match self {
            Samples::U8(_) => Dtype::U8,
            Samples::U16(_) => Dtype::U16,
            Samples::F32(_) => Dtype::F32,
        }
    }

    /// Samples `a..b`.
    pub fn range(self, a: usize, b: usize) -> Samples<'a> {
        match self {
            Samples::U8(s) => Samples::U8(&s[a..b]),
            Samples::U16(s) => Samples::U16(&s[a..b]),
            Samples::F32(s) => Samples::F32(&s[a..b]),
        }
    }

    /// Raw bytes in native (little-endian) order.
    pub fn as_bytes(self) -> &'a [u8] {
        match self {
            Samples::U8(s) => s,
            Samples::U16(s) => bytemuck::cast_slice(s),
            Samples::F32(s) => bytemuck::cast_slice(s),
        }
    }
}

/// Where a stack came from and what the loader did to it.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// The path (or `demo`) the stack was loaded from.
    pub path: String,
    /// Loader that produced it: `image folder`, `image`, `tiff stack`, `video`, `npy`, `cine`, ...
    pub kind: String,
    /// Human-readable remarks: memory guard action, skipped files, truncated decode.
    pub notes: Vec<String>,
    /// Files that could not be read and were left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Source index of every frame kept (frame number in a video, file index in a folder).
    pub frame_index: Vec<usize>,
    /// Frames per second the source says it was recorded at (camera header, container).
    #[serde(default)]
    pub fps: Option<f64>,
    /// Time of every frame kept, in seconds: relative to the trigger for camera recordings
    /// (negative before it). Empty when the source does not say.
    #[serde(default)]
    pub frame_time: Vec<f64>,
}

impl SourceInfo {
    /// Frame number in the source of loaded frame `k` (after `--step` or a load range it
    /// differs from `k`); `k` itself when the source did not say.
    pub fn source_frame(&self, k: usize) -> usize {
        self.frame_index.get(k).copied().unwrap_or(k)
    }

    /// Time in seconds of loaded frame `k`: the source's own time of that frame, else its
    /// source frame number over the recording rate; None when the source says neither.
    pub fn time_of(&self, k: usize) -> Option<f64> {
        if let Some(&s) = self.frame_time.get(k) {
            return Some(s);
        }
        let fps = self.fps.filter(|f| f.is_finite() && *f > 0.0)?;
        Some(self.source_frame(k) as f64 / fps)
    }

    /// The source frame numbers and times (NaN where unknown) of loaded frames `ks`, the
    /// columns `source_frame` and `time_s` of the CSV exports.
    pub fn clock(&self, ks: impl Iterator<Item = usize>) -> (Vec<usize>, Vec<f64>) {
        ks.map(|k| (self.source_frame(k), self.time_of(k).unwrap_or(f64::NAN)))
            .unzip()
    }
}

/// Error building a stack from raw parts.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("stack of shape {shape} needs {expected} samples, got {got}")]
    Length {
        shape: Shape,
        expected: usize,
        got: usize,
    },
    #[error("channels must be 1 or 3, got {0}")]
    Channels(usize),
}

/// A (T, H, W, C) image stack.
pub struct Stack {
    shape: Shape,
    data: Data,
    /// Provenance and load report.
    pub source: SourceInfo,
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("shape", &self.shape)
            .field("dtype", &self.dtype())
            .field("mapped", &self.is_mapped())
            .field("source", &self.source.path)
            .finish()
    }
}

fn check_shape(shape: Shape, got: usize) -> Result<(), StackError> {
    if shape.channels != 1 && shape.channels != 3 {
        return Err(StackError::Channels(shape.channels));
    }
    if shape.len() != got {
        return Err(StackError::Length {
            shape,
            expected: shape.len(),
            got,
        });
    }
    Ok(())
}

/// Builds the typed `Data` for a sample type from its buffer.
trait IntoData: Sample {
    fn into_data(buf: Buffer<Self>) -> Data;
}

impl IntoData for u8 {
    fn into_data(buf: Buffer<Self>) -> Data {
        Data::U8(buf)
    }
}
impl IntoData for u16 {
    fn into_data(buf: Buffer<Self>) -> Data {
        Data::U16(buf)
    }
}
impl IntoData for f32 {
    fn into_data(buf: Buffer<Self>) -> Data {
        Data::F32(buf)
    }
}

/// Sample types a stack can hold (u8, u16, f32).
#[allow(private_bounds)]
pub trait StackSample: Sample + IntoData {}
impl StackSample for u8 {}
impl StackSample for u16 {}
impl StackSample for f32 {}

impl Stack {
    /// A stack owning `samples`, laid out (T, H, W, C) row-major.
    pub fn from_vec<T: StackSample>(shape: Shape, samples: Vec<T>) -> Result<Self, StackError> {
        check_shape(shape, samples.len())?;
        Ok(Stack {
            shape,
            data: T::into_data(Buffer::Owned(samples)),
            source: SourceInfo::default(),
        })
    }

    /// A stack over `shape.len()` samples of a file mapping starting at byte `offset`.
    /// `offset` must be aligned to the sample size; the caller checks it.
    pub(crate) fn from_mapped<T: StackSample>(
        shape: Shape,
        map: Arc<FileMap>,
        offset: usize,
    ) -> Result<Self, StackError> {
        let len = shape.len();
        let available = map.map.len().saturating_sub(offset) / std::mem::size_of::<T>();
        if available < len {
            return Err(StackError::Length {
                shape,
                expected: len,
                got: available,
            });
        }
        check_shape(shape, len)?;
        debug_assert_eq!(
            (map.map.as_ptr() as usize + offset) % std::mem::align_of::<T>(),
            0
        );
        Ok(Stack {
            shape,
            data: T::into_data(Buffer::Mapped { map, offset, len }),
            source: SourceInfo::default(),
        })
    }

    /// A stack over `shape.len()` samples at `ptr` that another owner (a numpy array)
    /// lends without a copy; `keep` holds that owner alive as long as the stack.
    ///
    /// # Safety
    /// `ptr` must be aligned for `T` and valid for reads of `shape.len()` samples for as
    /// long as `keep` lives, and nothing may write them while the stack reads them.
    pub unsafe fn from_external<T: StackSample>(
        shape: Shape,
        ptr: *const T,
        keep: Keeper,
    ) -> Result<Self, StackError> {
        check_shape(shape, shape.len())?;
        Ok(Stack {
            shape,
            data: T::into_data(Buffer::External {
                _keep: keep,
                addr: ptr as usize,
                len: shape.len(),
            }),
            source: SourceInfo::default(),
        })
    }

    /// Attaches provenance.
    pub fn with_source(mut self, source: SourceInfo) -> Self {
        self.source = source;
        self
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn dtype(&self) -> Dtype {
        match self.data {
            Data::U8(_) => Dtype::U8,
            Data::U16(_) => Dtype::U16,
            Data::F32(_) => Dtype::F32,
        }
    }

    /// Bytes of sample data.
    pub fn bytes(&self) -> u64 {
        self.shape.bytes(self.dtype())
    }

    /// True when the samples live in a file mapping rather than owned RAM.
    pub fn is_mapped(&self) -> bool {
        matches!(
            self.data,
            Data::U8(Buffer::Mapped { .. })
                | Data::U16(Buffer::Mapped { .. })
                | Data::F32(Buffer::Mapped { .. })
        )
    }

    /// All samples, row-major (T, H, W, C).
    pub fn samples(&self) -> Samples<'_> {
        match &self.data {
            Data::U8(b) => Samples::U8(b.as_slice()),
            Data::U16(b) => Samples::U16(b.as_slice()),
            Data::F32(b) => Samples::F32(b.as_slice()),
        }
    }

    /// The samples of frame `t` (H * W * C).
    pub fn frame(&self, t: usize) -> Samples<'_> {
        let n = self.shape.frame_len();
        let r = t * n..(t + 1) * n;
        match self.samples() {
            Samples::U8(s) => Samples::U8(&s[r]),
            Samples::U16(s) => Samples::U16(&s[r]),
            Samples::F32(s) => Samples::F32(&s[r]),
        }
    }

    /// The samples typed as `T`, or None when the stack holds another dtype.
    pub fn as_slice<T: StackSample>(&self) -> Option<&[T]> {
        let bytes: &[u8] = match self.samples() {
            Samples::U8(s) if T::DTYPE == Dtype::U8 => bytemuck::cast_slice(s),
            Samples::U16(s) if T::DTYPE == Dtype::U16 => bytemuck::cast_slice(s),
            Samples::F32(s) if T::DTYPE == Dtype::F32 => bytemuck::cast_slice(s),
            _ => return None,
        };
        Some(bytemuck::cast_slice(bytes))
    }

    /// ndarray view of the whole stack.
    pub fn view(&self) -> StackView<'_> {
        let d = self.shape.dims();
        // The length was checked when the stack was built, so from_shape cannot fail.
        match self.samples() {
            Samples::U8(s) => StackView::U8(ArrayView4::from_shape(d, s).expect("checked shape")),
            Samples::U16(s) => StackView::U16(ArrayView4::from_shape(d, s).expect("checked shape")),
            Samples::F32(s) => StackView::F32(ArrayView4::from_shape(d, s).expect("checked shape")),
        }
    }

    /// The sample at frame t, row y, column x, channel c, as f32.
    pub fn value(&self, t: usize, y: usize, x: usize, c: usize) -> f32 {
        let s = &self.shape;
        let i = ((t * s.height + y) * s.width + x) * s.channels + c;
        self.samples().get_f32(i)
    }

    /// Smallest and largest finite value over the whole stack, or None if it has none.
    pub fn value_range(&self) -> Option<(f32, f32)> {
        self.value_range_chunked(self.default_chunk_bytes())
    }

    /// [`Stack::value_range`] reading the frames in order, about `chunk_bytes` of them at
    /// a time, the samples of a chunk in parallel.
    pub fn value_range_chunked(&self, chunk_bytes: usize) -> Option<(f32, f32)> {
        fn range<T: Sample>(s: &[T]) -> (f32, f32) {
            s.par_chunks(1 << 16)
                .map(|c| {
                    c.iter()
                        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                            let v = v.to_f32();
                            if v.is_finite() {
                                (lo.min(v), hi.max(v))
                            } else {
                                (lo, hi)
                            }
                        })
                })
                .reduce(
                    || (f32::INFINITY, f32::NEG_INFINITY),
                    |a, b| (a.0.min(b.0), a.1.max(b.1)),
                )
        }
        let n = self.shape.frame_len();
        let mut acc = (f32::INFINITY, f32::NEG_INFINITY);
        let _ = self.for_each_chunk(0..self.shape.frames, chunk_bytes, |c| {
            let r = c.start * n..c.end * n;
            let (lo, hi) = match self.samples() {
                Samples::U8(s) => range(&s[r]),
                Samples::U16(s) => range(&s[r]),
                Samples::F32(s) => range(&s[r]),
            };
            acc = (acc.0.min(lo), acc.1.max(hi));
            Ok::<(), ()>(())
        });
        acc.into_some_if_valid()
    }
}

trait ValidRange {
    fn into_some_if_valid(self) -> Option<(f32, f32)>;
}

impl ValidRange for (f32, f32) {
    fn into_some_if_valid(self) -> Option<(f32, f32)> {
        (self.0 <= self.1).then_some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_samples_are_read_in_place_and_kept_alive() {
        let owner: Arc<Vec<u16>> = Arc::new((0..2 * 3 * 4).collect());
        let ptr = owner.as_ptr();
        let keep: Keeper = owner.clone();
        // SAFETY: 24 aligned u16 that `keep` holds and nothing writes
        let s = unsafe { Stack::from_external(Shape::new(2, 3, 4, 1), ptr, keep) }.unwrap();
        drop(owner);
        let Samples::U16(v) = s.samples() else {
            panic!("dtype")
        };
        assert_eq!(v.as_ptr(), ptr);
        assert_eq!(v[23], 23);
        assert_eq!(s.value(1, 2, 3, 0), 23.0);
        assert!(!s.is_mapped());
    }

    #[test]
    fn pixel_address_is_t_y_x_c_row_major() {
        // 2 frames of 2x3 RGB: value = 100t + 10y + x + c/10 encoded as f32
        let shape = Shape::new(2, 2, 3, 3);
        let mut v = Vec::new();
        for t in 0..2 {
            for y in 0..2 {
                for x in 0..3 {
                    for c in 0..3 {
                        v.push((100 * t + 10 * y + x) as f32 + c as f32 / 10.0);
                    }
                }
            }
        }
        let s = Stack::from_vec(shape, v).unwrap();
        assert_eq!(s.value(1, 1, 2, 2), 112.2);
        assert_eq!(s.value(0, 1, 0, 1), 10.1);
        assert_eq!(s.frame(1).get_f32(0), 100.0);
        assert_eq!(s.bytes(), 2 * 2 * 3 * 3 * 4);
        match s.view() {
            StackView::F32(a) => assert_eq!(a[[1, 0, 2, 1]], 102.1),
            _ => panic!("expected f32 view"),
        }
    }

    #[test]
    fn wrong_length_or_channels_is_refused() {
        assert!(Stack::from_vec(Shape::new(1, 2, 2, 1), vec![0u8; 3]).is_err());
        assert!(Stack::from_vec(Shape::new(1, 1, 1, 2), vec![0u8; 2]).is_err());
    }

    #[test]
    fn value_range_skips_nan_and_inf() {
        let s = Stack::from_vec(
            Shape::new(1, 1, 4, 1),
            vec![f32::NAN, -2.0, f32::INFINITY, 5.0],
        )
        .unwrap();
        assert_eq!(s.value_range(), Some((-2.0, 5.0)));
        let s = Stack::from_vec(Shape::new(1, 1, 1, 1), vec![f32::NAN]).unwrap();
        assert_eq!(s.value_range(), None);
    }
}
