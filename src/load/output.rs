//! The final stack buffer: allocated once, zeroed lazily by the allocator, filled frame
//! by frame in place, and compacted in place when frames had to be left out.

use std::path::Path;

use crate::stack::{Dtype, Shape, SourceInfo, Stack, StackSample};

use super::LoadError;

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

/// Owned samples of the stack being built.
pub enum OutBuf {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

fn zeroed<T: bytemuck::Zeroable>(path: &Path, n: usize) -> Result<Vec<T>, LoadError> {
    // calloc-backed: pages are only touched when a decoder writes them
    bytemuck::allocation::try_zeroed_vec::<T>(n).map_err(|_| LoadError::OutOfMemory {
        path: path.to_path_buf(),
        bytes: (n * std::mem::size_of::<T>()) as u64,
    })
}

impl OutBuf {
    /// A zeroed buffer for `len` samples of `dtype`.
    pub fn new(path: &Path, dtype: Dtype, len: usize) -> Result<Self, LoadError> {
        Ok(match dtype {
            Dtype::U8 => OutBuf::U8(zeroed(path, len)?),
            Dtype::U16 => OutBuf::U16(zeroed(path, len)?),
            Dtype::F32 => OutBuf::F32(zeroed(path, len)?),
        })
    }

    /// One slot per frame of `frame_len` samples.
    pub fn slots(&mut self, frame_len: usize) -> Vec<Slot<'_>> {
        match self {
            OutBuf::U8(v) => v.chunks_mut(frame_len).map(Slot::U8).collect(),
            OutBuf::U16(v) => v.chunks_mut(frame_len).map(Slot::U16).collect(),
            OutBuf::F32(v) => v.chunks_mut(frame_len).map(Slot::F32).collect(),
        }
    }

    /// Moves the frames marked `keep` to the front, in order, and drops the rest.
    pub fn compact(&mut self, keep: &[bool], frame_len: usize) {
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
        }
    }

    pub fn len(&self) -> usize {
        match self {
            OutBuf::U8(v) => v.len(),
            OutBuf::U16(v) => v.len(),
            OutBuf::F32(v) => v.len(),
        }
    }

    /// The finished stack; `shape.frames` is taken from the buffer length.
    pub fn into_stack(self, mut shape: Shape, source: SourceInfo) -> Stack {
        shape.frames = self.len() / shape.frame_len().max(1);
        fn build<T: StackSample>(shape: Shape, v: Vec<T>) -> Stack {
            // the length is a whole number of frames by construction
            Stack::from_vec(shape, v).expect("buffer holds whole frames")
        }
        let s = match self {
            OutBuf::U8(v) => build(shape, v),
            OutBuf::U16(v) => build(shape, v),
            OutBuf::F32(v) => build(shape, v),
        };
        s.with_source(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_order_of_kept_frames() {
        let mut b = OutBuf::U8(vec![0, 0, 1, 1, 2, 2, 3, 3]);
        b.compact(&[false, true, false, true], 2);
        match b {
            OutBuf::U8(v) => assert_eq!(v, vec![1, 1, 3, 3]),
            _ => unreachable!(),
        }
    }
}
