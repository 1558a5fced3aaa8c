//! The final stack buffer: allocated once and filled frame by frame in place, or, for
//! disk storage, written frame by frame into a `.npy` in the cache directory that is
//! memory-mapped once complete. Frames that could not be decoded are compacted away.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::stack::{Dtype, FileMap, Shape, SourceInfo, Stack, StackSample};

use super::LoadError;
use super::cache::{self, CacheEntry};

/// A mutable frame slot of the output buffer.
pub enum Slot<'a> {
    U8(&'a mut [u8]),
    U16(&'a mut [u16]),
    F32(&'a mut [f32]),
}

impl Slot<'_> {
    /// A shorter-lived slot over the same samples.
    pub fn reborrow(&mut self) -> Slot<'_> {
        match self {
            Slot::U8(s) => Slot::U8(s),
            Slot::U16(s) => Slot::U16(s),
            Slot::F32(s) => Slot::F32(s),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Slot::U8(s) => s.len(),
            Slot::U16(s) => s.len(),
            Slot::F32(s) => s.len(),
        }
    }
}

/// The samples of the stack being built: owned, or a cache file being written.
pub enum OutBuf {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
    Disk(DiskBuf),
}

fn zeroed<T: bytemuck::Zeroable>(path: &Path, n: usize) -> Result<Vec<T>, LoadError> {
    // calloc-backed: pages are only touched when a decoder writes them
    bytemuck::allocation::try_zeroed_vec::<T>(n).map_err(|_| LoadError::OutOfMemory {
        path: path.to_path_buf(),
        bytes: (n * std::mem::size_of::<T>()) as u64,
    })
}

/// The results of runs of consecutive frames, one list in frame order; the first error.
fn in_frame_order<R>(
    runs: Vec<Result<Vec<R>, LoadError>>,
    count: usize,
) -> Result<Vec<R>, LoadError> {
    let mut out = Vec::with_capacity(count);
    for r in runs {
        out.extend(r?);
    }
    Ok(out)
}

/// A slot over a frame buffer of 4-byte words (aligned for every dtype).
fn word_slot(words: &mut [u32], dtype: Dtype, frame_len: usize) -> Slot<'_> {
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(words);
    match dtype {
        Dtype::U8 => Slot::U8(&mut bytes[..frame_len]),
        Dtype::U16 => Slot::U16(&mut bytemuck::cast_slice_mut(bytes)[..frame_len]),
        Dtype::F32 => Slot::F32(&mut bytemuck::cast_slice_mut(bytes)[..frame_len]),
    }
}

impl OutBuf {
    /// A zeroed buffer in RAM for `len` samples of `dtype`.
    pub fn new(path: &Path, dtype: Dtype, len: usize) -> Result<Self, LoadError> {
        Ok(match dtype {
            Dtype::U8 => OutBuf::U8(zeroed(path, len)?),
            Dtype::U16 => OutBuf::U16(zeroed(path, len)?),
            Dtype::F32 => OutBuf::F32(zeroed(path, len)?),
        })
    }

    /// The buffer a plan asks for: its cache entry on disk, else RAM for `frames` frames.
    pub fn for_plan(plan: &super::Plan, frames: usize) -> Result<Self, LoadError> {
        let frame_len = plan.shape.frame_len();
        match &plan.cache {
            Some(entry) => Ok(OutBuf::Disk(DiskBuf::create(entry, plan.dtype, frame_len)?)),
            None => OutBuf::new(&plan.path, plan.dtype, frames * frame_len),
        }
    }

    /// Frames held (in RAM: the capacity; on disk: as far as written).
    pub fn frames(&self, frame_len: usize) -> usize {
        match self {
            OutBuf::U8(v) => v.len() / frame_len.max(1),
            OutBuf::U16(v) => v.len() / frame_len.max(1),
            OutBuf::F32(v) => v.len() / frame_len.max(1),
            OutBuf::Disk(d) => d.frames,
        }
    }

    /// Fills frames `0..count` in parallel, in runs of `run` consecutive frames per task:
    /// `init` makes a task's state (an open decoder), `f(state, k, slot)` decodes frame
    /// `k` into its slot. The results of `f` come back in frame order; an error is a
    /// failed `init` or a failed write of the cache file.
    pub fn par_fill<S, R: Send>(
        &mut self,
        count: usize,
        frame_len: usize,
        run: usize,
        init: impl Fn() -> Result<S, LoadError> + Sync,
        f: impl Fn(&mut S, usize, Slot<'_>) -> R + Sync,
    ) -> Result<Vec<R>, LoadError> {
        let run = run.max(1);
        if let OutBuf::Disk(d) = self {
            let runs: Vec<Result<Vec<R>, LoadError>> = (0..count)
                .step_by(run)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|a| {
                    let mut st = init()?;
                    let mut words = vec![0u32; (frame_len * d.dtype.size()).div_ceil(4)];
                    let mut out = Vec::new();
                    for k in a..(a + run).min(count) {
                        words.iter_mut().for_each(|w| *w = 0);
                        out.push(f(&mut st, k, word_slot(&mut words, d.dtype, frame_len)));
                        let bytes: &[u8] = bytemuck::cast_slice(&words);
                        d.write_frame(k, &bytes[..frame_len * d.dtype.size()])?;
                    }
                    Ok(out)
                })
                .collect();
            d.frames = d.frames.max(count);
            return in_frame_order(runs, count);
        }
        let mut slots = self.slots(frame_len);
        slots.truncate(count);
        let runs: Vec<Result<Vec<R>, LoadError>> = slots
            .par_chunks_mut(run)
            .enumerate()
            .map(|(i, slots)| {
                let mut st = init()?;
                Ok(slots
                    .iter_mut()
                    .enumerate()
                    .map(|(j, s)| f(&mut st, i * run + j, s.reborrow()))
                    .collect())
            })
            .collect();
        in_frame_order(runs, count)
    }

    /// Fills frame `k` (sequential loaders), growing the buffer when `k` is past its end.
    pub fn fill<R>(
        &mut self,
        k: usize,
        frame_len: usize,
        f: impl FnOnce(Slot<'_>) -> R,
    ) -> Result<R, LoadError> {
        fn grow<T: Copy + Default>(v: &mut Vec<T>, end: usize) {
            if v.len() < end {
                v.resize(end, T::default());
            }
        }
        let r = k * frame_len..(k + 1) * frame_len;
        Ok(match self {
            OutBuf::U8(v) => {
                grow(v, r.end);
                f(Slot::U8(&mut v[r]))
            }
            OutBuf::U16(v) => {
                grow(v, r.end);
                f(Slot::U16(&mut v[r]))
            }
            OutBuf::F32(v) => {
                grow(v, r.end);
                f(Slot::F32(&mut v[r]))
            }
            OutBuf::Disk(d) => {
                let mut words = std::mem::take(&mut d.scratch);
                words.clear();
                words.resize((frame_len * d.dtype.size()).div_ceil(4), 0);
                let out = f(word_slot(&mut words, d.dtype, frame_len));
                let bytes: &[u8] = bytemuck::cast_slice(&words);
                d.write_frame(k, &bytes[..frame_len * d.dtype.size()])?;
                d.frames = d.frames.max(k + 1);
                d.scratch = words;
                out
            }
        })
    }

    /// One slot per frame of `frame_len` samples (RAM only).
    fn slots(&mut self, frame_len: usize) -> Vec<Slot<'_>> {
        match self {
            OutBuf::U8(v) => v.chunks_mut(frame_len).map(Slot::U8).collect(),
            OutBuf::U16(v) => v.chunks_mut(frame_len).map(Slot::U16).collect(),
            OutBuf::F32(v) => v.chunks_mut(frame_len).map(Slot::F32).collect(),
            OutBuf::Disk(_) => Vec::new(),
        }
    }

    /// Keeps the first `frames` frames.
    /// Room for `frames` frames in RAM, reserved exactly: a buffer that grows past its
    /// plan (a video longer than its container said) grows by steps its caller bounds,
    /// never by the doubling of `Vec` that can take twice the budget.
    pub fn reserve_frames(&mut self, frames: usize, frame_len: usize) -> Result<(), String> {
        fn go<T>(v: &mut Vec<T>, end: usize) -> Result<(), String> {
            if end > v.capacity() {
                v.try_reserve_exact(end - v.len())
                    .map_err(|e| format!("{e}"))?;
            }
            Ok(())
        }
        let end = frames * frame_len;
        match self {
            OutBuf::U8(v) => go(v, end),
            OutBuf::U16(v) => go(v, end),
            OutBuf::F32(v) => go(v, end),
            OutBuf::Disk(_) => Ok(()),
        }
    }

    pub fn truncate(&mut self, frames: usize, frame_len: usize) {
        match self {
            OutBuf::U8(v) => v.truncate(frames * frame_len),
            OutBuf::U16(v) => v.truncate(frames * frame_len),
            OutBuf::F32(v) => v.truncate(frames * frame_len),
            OutBuf::Disk(d) => d.frames = d.frames.min(frames),
        }
    }

    /// Moves the frames marked `keep` to the front, in order, and drops the rest.
    pub fn compact(&mut self, keep: &[bool], frame_len: usize) -> Result<(), LoadError> {
        fn go<T: Copy>(v: &mut Vec<T>, keep: &[bool], n: usize) {
            let mut dst = 0;
            for (src, &k) in keep.iter().enumerate() {
                if k {
                    if src != dst {
                        v.copy_within(src * n..(src + 1) * n, dst * n);
                    }
                    dst += 1;
                }
            }
            v.truncate(dst * n);
            v.shrink_to_fit();
        }
        match self {
            OutBuf::U8(v) => go(v, keep, frame_len),
            OutBuf::U16(v) => go(v, keep, frame_len),
            OutBuf::F32(v) => go(v, keep, frame_len),
            OutBuf::Disk(d) => d.compact(keep, frame_len)?,
        }
        Ok(())
    }

    /// The finished stack; `shape.frames` is the number of frames held. A disk buffer
    /// becomes its cache file (complete, renamed into place) mapped read-only.
    pub fn into_stack(self, mut shape: Shape, source: SourceInfo) -> Result<Stack, LoadError> {
        shape.frames = self.frames(shape.frame_len());
        fn build<T: StackSample>(shape: Shape, mut v: Vec<T>) -> Stack {
            v.truncate(shape.len());
            // the length is a whole number of frames by construction
            Stack::from_vec(shape, v).expect("buffer holds whole frames")
        }
        let s = match self {
            OutBuf::U8(v) => build(shape, v),
            OutBuf::U16(v) => build(shape, v),
            OutBuf::F32(v) => build(shape, v),
            OutBuf::Disk(d) => return d.finish(shape, source),
        };
        Ok(s.with_source(source))
    }
}

/// A cache file being written: a `.npy` under a temporary name, one frame at a time at
/// its offset (in parallel, in any order), renamed into place when complete. Dropped
/// unfinished (an error, a cancel), it removes its temporary file.
pub struct DiskBuf {
    entry: CacheEntry,
    file: File,
    tmp: PathBuf,
    dtype: Dtype,
    frame_bytes: u64,
    /// Frames written so far (one past the highest).
    frames: usize,
    scratch: Vec<u32>,
    done: bool,
}

impl DiskBuf {
    fn create(entry: &CacheEntry, dtype: Dtype, frame_len: usize) -> Result<DiskBuf, LoadError> {
        let tmp = entry.temp_path();
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| entry.error(&tmp, e))?;
        Ok(DiskBuf {
            entry: entry.clone(),
            file,
            tmp,
            dtype,
            frame_bytes: (frame_len * dtype.size()) as u64,
            frames: 0,
            scratch: Vec::new(),
            done: false,
        })
    }

    fn offset(&self, k: usize) -> u64 {
        cache::HEADER_LEN as u64 + k as u64 * self.frame_bytes
    }

    fn write_frame(&self, k: usize, bytes: &[u8]) -> Result<(), LoadError> {
        let at = self.offset(k);
        self.file
            .write_all_at(bytes, at)
            .map_err(|e| self.entry.error(&self.tmp, e))?;
        // start writing the frame back now, without waiting: the disk works while the
        // decoder goes on, dirty pages do not pile up (in a memory cgroup they count),
        // and the final sync only waits for the last frames
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain system call on a file descriptor this struct owns.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    at as libc::off64_t,
                    bytes.len() as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        Ok(())
    }

    fn compact(&mut self, keep: &[bool], frame_len: usize) -> Result<(), LoadError> {
        let mut frame = vec![0u8; frame_len * self.dtype.size()];
        let mut dst = 0;
        for (src, &k) in keep.iter().enumerate() {
            if k {
                if src != dst {
                    self.file
                        .read_exact_at(&mut frame, self.offset(src))
                        .map_err(|e| self.entry.error(&self.tmp, e))?;
                    self.write_frame(dst, &frame)?;
                }
                dst += 1;
            }
        }
        self.frames = dst;
        Ok(())
    }

    fn finish(mut self, shape: Shape, source: SourceInfo) -> Result<Stack, LoadError> {
        let err = |p: &Path, e| self.entry.error(p, e);
        let header = cache::npy_header(self.dtype, shape);
        self.file
            .write_all_at(&header, 0)
            .map_err(|e| err(&self.tmp, e))?;
        self.file
            .set_len(self.offset(shape.frames))
            .map_err(|e| err(&self.tmp, e))?;
        self.file.sync_data().map_err(|e| err(&self.tmp, e))?;
        self.entry.commit(&self.tmp, &source)?;
        self.done = true;
        let path = self.entry.path.clone();
        let map = Arc::new(FileMap::open(&path).map_err(|e| err(&path, e))?);
        mapped_stack(&path, shape, self.dtype, map, cache::HEADER_LEN)
            .map(|s| s.with_source(source))
    }
}

impl Drop for DiskBuf {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A stack over a mapping at `offset`, of `dtype`.
pub fn mapped_stack(
    path: &Path,
    shape: Shape,
    dtype: Dtype,
    map: Arc<FileMap>,
    offset: usize,
) -> Result<Stack, LoadError> {
    match dtype {
        Dtype::U8 => Stack::from_mapped::<u8>(shape, map, offset),
        Dtype::U16 => Stack::from_mapped::<u16>(shape, map, offset),
        Dtype::F32 => Stack::from_mapped::<f32>(shape, map, offset),
    }
    .map_err(|e| LoadError::decode(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_order_of_kept_frames() {
        let mut b = OutBuf::U8(vec![0, 0, 1, 1, 2, 2, 3, 3]);
        b.compact(&[false, true, false, true], 2).unwrap();
        match b {
            OutBuf::U8(v) => assert_eq!(v, vec![1, 1, 3, 3]),
            _ => unreachable!(),
        }
    }
}
