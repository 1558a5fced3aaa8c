//! Streaming a stack in frame order: chunks of whole frames under a byte budget, with
//! read-ahead of the next chunk and drop-behind of the last one on a file mapping.
//!
//! A stack bigger than the page cache is read at disk speed only when every operation
//! walks its frames once, in order; an operation that walks all frames for each block of
//! samples reads the file again for every block. Operations call
//! [`Stack::for_each_chunk`] with whole-frame accumulators instead.

use std::fs::File;
use std::ops::Range;
use std::path::Path;

use memmap2::{Advice, Mmap, UncheckedAdvice};

use super::Stack;

/// Bytes of frames one streaming chunk holds on a mapped stack unless told otherwise.
pub const DEFAULT_CHUNK_BYTES: usize = 64 << 20;

/// The chunk budget for mapped stacks: `BLITZ_CHUNK_BYTES` when set (benchmarks and
/// tests make it small to force many chunks), else [`DEFAULT_CHUNK_BYTES`].
pub fn chunk_bytes_from_env() -> usize {
    std::env::var("BLITZ_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&b| b > 0)
        .unwrap_or(DEFAULT_CHUNK_BYTES)
}

/// How far [`Stack::will_need`] reads ahead: the start of the next chunk, so that a
/// chunk boundary does not wait for the disk. Measured on a 3 GiB u8 stack in a 1 GiB
/// cgroup (max): asking for a whole 64 MiB chunk made the pass 20-30 % slower than no
/// hint at all (2.7-2.8 s against 2.1-2.3 s): the kernel's own read-ahead on faults in
/// order already streams the file, and a second stream of reads competes with it.
const READ_AHEAD_BYTES: usize = 4 << 20;

/// A read-only file mapping and the file behind it (kept for page-cache hints).
pub struct FileMap {
    pub(crate) map: Mmap,
    file: File,
    /// Drop pages behind a pass: the file is larger than the memory this process may use.
    drop_behind: bool,
}

impl FileMap {
    /// Maps `path` read-only.
    pub fn open(path: &Path) -> std::io::Result<FileMap> {
        let file = File::open(path)?;
        // SAFETY: the mapping is read-only; a file truncated by another process while
        // mapped is outside what any reader can defend against.
        let map = unsafe { Mmap::map(&file)? };
        let drop_behind = map.len() as u64 > usable_memory_bytes() / 2;
        Ok(FileMap {
            map,
            file,
            drop_behind,
        })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Starts reading the first [`READ_AHEAD_BYTES`] of bytes `r` in the background.
    fn will_need(&self, r: Range<usize>) {
        let r = self.clamp(r);
        let r = r.start..r.end.min(r.start + READ_AHEAD_BYTES);
        if !r.is_empty() {
            // a hint: a failure changes nothing but speed
            let _ = self.map.advise_range(Advice::WillNeed, r.start, r.len());
        }
    }

    /// Bytes `r` are done with: unmapped from this process, and dropped from the page
    /// cache when the file cannot stay there anyway, so that read-ahead has room.
    fn done_with(&self, r: Range<usize>) {
        let r = self.clamp(r);
        if r.is_empty() {
            return;
        }
        // SAFETY: the mapping is a read-only shared file mapping: MADV_DONTNEED only
        // drops this process's page-table entries, and the next access reads the same
        // bytes from the page cache or the file again. No reference into these bytes
        // can observe a change.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, r.start, r.len())
        };
        #[cfg(target_os = "linux")]
        if self.drop_behind {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain system call on a file descriptor this struct owns.
            unsafe {
                libc::posix_fadvise(
                    self.file.as_raw_fd(),
                    r.start as libc::off_t,
                    r.len() as libc::off_t,
                    libc::POSIX_FADV_DONTNEED,
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = &self.file;
    }

    fn clamp(&self, r: Range<usize>) -> Range<usize> {
        r.start.min(self.map.len())..r.end.min(self.map.len())
    }
}

/// Memory this process may use: the smaller of the machine's RAM and the memory limit of
/// its cgroup (v2 `memory.max` or v1 `memory.limit_in_bytes`), whichever is known.
pub fn usable_memory_bytes() -> u64 {
    let ram = crate::load::available_ram_bytes();
    let ram = if ram == 0 { u64::MAX } else { ram };
    ram.min(cgroup_limit_bytes().unwrap_or(u64::MAX))
}

fn cgroup_limit_bytes() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut best: Option<u64> = None;
    for line in cg.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
        let file = match ctrl {
            "" => format!("/sys/fs/cgroup{path}/memory.max"),
            c if c.split(',').any(|c| c == "memory") => {
                format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes")
            }
            _ => continue,
        };
        if let Some(v) = std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            best = Some(best.map_or(v, |b| b.min(v)));
        }
    }
    best
}

impl Stack {
    /// The chunk budget an operation uses by default: the whole stack at once in RAM
    /// (its blocks of samples stay in cache), [`chunk_bytes_from_env`] on a mapping.
    pub fn default_chunk_bytes(&self) -> usize {
        if self.is_mapped() {
            chunk_bytes_from_env()
        } else {
            usize::MAX
        }
    }

    /// Whole frames per chunk under `chunk_bytes` (at least one).
    pub fn frames_per_chunk(&self, chunk_bytes: usize) -> usize {
        let frame = (self.shape.frame_len() * self.dtype().size()).max(1);
        (chunk_bytes / frame).max(1)
    }

    /// The chunks of `frames` (in order) under `chunk_bytes`.
    pub fn frame_chunks(
        &self,
        frames: Range<usize>,
        chunk_bytes: usize,
    ) -> impl Iterator<Item = Range<usize>> + use<> {
        let per = self.frames_per_chunk(chunk_bytes);
        let end = frames.end;
        // a budget of usize::MAX over one-byte frames: per is usize::MAX
        frames
            .step_by(per)
            .map(move |a| a..a.saturating_add(per).min(end))
    }

    /// Byte range of frames `r` inside the mapping, if the stack is mapped.
    fn mapped_bytes(&self, r: &Range<usize>) -> Option<(&FileMap, Range<usize>)> {
        let frame = self.shape.frame_len() * self.dtype().size();
        let offset = match &self.data {
            super::Data::U8(super::Buffer::Mapped { map, offset, .. }) => (map, *offset),
            super::Data::U16(super::Buffer::Mapped { map, offset, .. }) => (map, *offset),
            super::Data::F32(super::Buffer::Mapped { map, offset, .. }) => (map, *offset),
            _ => return None,
        };
        let (map, base) = offset;
        Some((map, base + r.start * frame..base + r.end * frame))
    }

    /// Hint: frames `r` are read next (read-ahead on a mapping; nothing in RAM).
    pub fn will_need(&self, r: Range<usize>) {
        if let Some((m, b)) = self.mapped_bytes(&r) {
            m.will_need(b);
        }
    }

    /// Hint: frames `r` are done with for this pass (drop-behind on a mapping).
    pub fn done_with(&self, r: Range<usize>) {
        if let Some((m, b)) = self.mapped_bytes(&r) {
            m.done_with(b);
        }
    }

    /// Calls `f` on the chunks of `frames` in order, under `chunk_bytes`, reading the
    /// next chunk ahead while `f` works and dropping each chunk behind once done.
    pub fn for_each_chunk<E>(
        &self,
        frames: Range<usize>,
        chunk_bytes: usize,
        mut f: impl FnMut(Range<usize>) -> Result<(), E>,
    ) -> Result<(), E> {
        let chunks: Vec<Range<usize>> = self.frame_chunks(frames, chunk_bytes).collect();
        let mapped = self.is_mapped() && chunks.len() > 1;
        if mapped && let Some(c) = chunks.first() {
            self.will_need(c.clone());
        }
        for (i, c) in chunks.iter().enumerate() {
            if mapped && let Some(next) = chunks.get(i + 1) {
                self.will_need(next.clone());
            }
            f(c.clone())?;
            if mapped {
                self.done_with(c.clone());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::stack::{Shape, Stack};

    #[test]
    fn chunks_cover_the_range_in_order_with_whole_frames() {
        // frames of 2x3 u8 = 6 bytes; a 13-byte budget holds 2 frames
        let s = Stack::from_vec(Shape::new(7, 2, 3, 1), vec![0u8; 42]).unwrap();
        let c: Vec<_> = s.frame_chunks(1..7, 13).collect();
        assert_eq!(c, vec![1..3, 3..5, 5..7]);
        // a budget under one frame still moves one frame at a time
        assert_eq!(s.frame_chunks(0..3, 1).count(), 3);
        assert_eq!(s.default_chunk_bytes(), usize::MAX);
        let mut seen = Vec::new();
        s.for_each_chunk(0..7, 20, |r| {
            seen.push(r);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(seen, vec![0..3, 3..6, 6..7]);
        // one-byte frames under an unlimited budget: one chunk, from any first frame
        let tiny = Stack::from_vec(Shape::new(5, 1, 1, 1), vec![0u8; 5]).unwrap();
        assert_eq!(
            tiny.frame_chunks(2..5, usize::MAX).collect::<Vec<_>>(),
            vec![2..5]
        );
    }
}
