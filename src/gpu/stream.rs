//! The chunk loop of the streaming kernels (reduce, normalize, ROI series, profile
//! envelopes): the frames of a stack go through one GPU buffer in chunks of whole frames
//! that fit one storage binding, each chunk uploaded and then worked on.
//!
//! Chunk k + 1 is uploaded while the GPU still works on chunk k: a queue write copies its
//! bytes into staging memory at once and runs ahead of the next submission, after the
//! work already submitted, so one buffer serves every chunk; waiting for the submission
//! before the last keeps at most two in flight, which bounds that staging memory.
//!
//! On a memory-mapped stack the loop also reads the next chunk ahead
//! ([`Stack::will_need`]) before copying the current one out of the mapping, and drops
//! each chunk behind ([`Stack::done_with`]) once its upload has copied it: the GPU reads a
//! mapped file once, in order, with read-ahead, as the CPU engine does. Chunks of a
//! mapped stack also stay within the stack's own chunk budget
//! ([`Stack::default_chunk_bytes`]), so that the mapped pages and the staging copies of a
//! chunk fit the memory the page cache has.

use std::ops::Range;

use super::{GpuDevice, GpuError};
use crate::stack::Stack;

/// Whole frames of `stack` one chunk holds: as many as the device's chunk budget takes
/// (and the stack's own budget on a mapping), at least one, at most `max_frames` (a
/// kernel's loop or dispatch limit). Fails when one frame is over the device's budget.
pub(crate) fn chunk_frames(
    gpu: &GpuDevice,
    stack: &Stack,
    max_frames: usize,
) -> Result<usize, GpuError> {
    frames_per_chunk(
        frame_bytes(stack) as u64,
        gpu.chunk_bytes(),
        stack.default_chunk_bytes() as u64,
        max_frames,
    )
}

/// [`chunk_frames`] for frames of `frame_bytes` under a device budget and a stack budget.
fn frames_per_chunk(
    frame_bytes: u64,
    device_budget: u64,
    stack_budget: u64,
    max_frames: usize,
) -> Result<usize, GpuError> {
    if frame_bytes > device_budget {
        return Err(GpuError::FrameTooLarge {
            needed: frame_bytes,
            limit: device_budget,
        });
    }
    let frames = device_budget.min(stack_budget) / frame_bytes.max(1);
    Ok((frames.min(usize::MAX as u64) as usize).clamp(1, max_frames.max(1)))
}

/// `frames` cut into chunks of at most `per` frames, in order.
pub(crate) fn chunk_ranges(frames: Range<usize>, per: usize) -> Vec<Range<usize>> {
    let end = frames.end;
    let per = per.max(1);
    frames
        .step_by(per)
        .map(|a| a..a.saturating_add(per).min(end))
        .collect()
}

fn frame_bytes(stack: &Stack) -> usize {
    stack.shape().frame_len() * stack.dtype().size()
}

/// Submissions on the queue, at most two unfinished: [`InFlight::push`] waits for the
/// one before the newest.
#[derive(Default)]
pub(crate) struct InFlight(Option<wgpu::SubmissionIndex>);

impl InFlight {
    /// Records submission `index` and waits until the one submitted before it has run.
    pub(crate) fn push(
        &mut self,
        gpu: &GpuDevice,
        index: wgpu::SubmissionIndex,
    ) -> Result<(), GpuError> {
        match self.0.replace(index) {
            Some(previous) => gpu.wait(Some(previous)),
            None => Ok(()),
        }
    }
}

/// The frames of one stack streaming through one GPU buffer.
pub(crate) struct FrameStream<'a> {
    gpu: &'a GpuDevice,
    stack: &'a Stack,
    buf: wgpu::Buffer,
    chunk_frames: usize,
    /// The frames the buffer holds now.
    loaded: Option<Range<usize>>,
    in_flight: InFlight,
}

impl<'a> FrameStream<'a> {
    /// A buffer (labelled `label`) for chunks of up to `chunk_frames` frames of `stack`;
    /// create it inside [`GpuDevice::scoped`], which reports an allocation that fails.
    pub(crate) fn new(
        gpu: &'a GpuDevice,
        stack: &'a Stack,
        label: &str,
        chunk_frames: usize,
    ) -> FrameStream<'a> {
        let chunk_frames = chunk_frames.max(1);
        let bytes = (chunk_frames * frame_bytes(stack)) as u64;
        let buf = gpu.buffer(
            label,
            bytes.next_multiple_of(4),
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        );
        FrameStream {
            gpu,
            stack,
            buf,
            chunk_frames,
            loaded: None,
            in_flight: InFlight::default(),
        }
    }

    /// The buffer the chunks go through.
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buf
    }

    /// `frames` cut into chunks of at most the stream's chunk size, in order.
    pub(crate) fn chunks(&self, frames: Range<usize>) -> Vec<Range<usize>> {
        chunk_ranges(frames, self.chunk_frames)
    }

    /// Streams `chunks` (ranges of frames in increasing order, each at most the stream's
    /// chunk size; consecutive ones may overlap) through the buffer: each chunk is
    /// uploaded, unless the buffer holds exactly it already (a kernel that walks the same
    /// single chunk several times uploads it once), then `work(buffer, chunk)` submits the
    /// work on it and returns the submission, or None when that work has finished already
    /// (it read its result back). Frames the next chunk shares with this one are not
    /// dropped behind, so an overlap is read from the file once too.
    pub(crate) fn run(
        &mut self,
        chunks: &[Range<usize>],
        mut work: impl FnMut(
            &wgpu::Buffer,
            Range<usize>,
        ) -> Result<Option<wgpu::SubmissionIndex>, GpuError>,
    ) -> Result<(), GpuError> {
        let bytes = self.stack.samples().as_bytes();
        let fb = frame_bytes(self.stack);
        if let Some(first) = chunks.first()
            && self.loaded.as_ref() != Some(first)
        {
            self.stack.will_need(first.clone());
        }
        for (i, chunk) in chunks.iter().enumerate() {
            debug_assert!(chunk.len() <= self.chunk_frames);
            let next = chunks.get(i + 1);
            if let Some(next) = next {
                // the part of the next chunk this one does not hold
                self.stack.will_need(next.start.max(chunk.end)..next.end);
            }
            if self.loaded.as_ref() != Some(chunk) {
                self.gpu
                    .upload(&self.buf, &bytes[chunk.start * fb..chunk.end * fb]);
                self.loaded = Some(chunk.clone());
                // the upload copied the bytes out: the mapping's pages may go
                let kept = next.map_or(chunk.end, |n| n.start.clamp(chunk.start, chunk.end));
                self.stack.done_with(chunk.start..kept);
            }
            if let Some(index) = work(&self.buf, chunk.clone())? {
                self.in_flight.push(self.gpu, index)?;
            }
        }
        Ok(())
    }
}

/// Uploads frames `frames` of `stack` to the start of `buf` (the last word zero-padded),
/// for a kernel that keeps them there: in pieces within the stack's chunk budget, each
/// submitted at once so that staging memory holds at most two pieces (queue writes
/// otherwise wait in it for the next submission), each read ahead and dropped behind on a
/// mapping as [`FrameStream::run`] does. In RAM a chunk is one piece.
pub(crate) fn upload_frames(
    gpu: &GpuDevice,
    stack: &Stack,
    buf: &wgpu::Buffer,
    frames: Range<usize>,
    in_flight: &mut InFlight,
) -> Result<(), GpuError> {
    let fb = frame_bytes(stack);
    let mut per = (stack.default_chunk_bytes() / fb.max(1)).max(1);
    if !fb.is_multiple_of(4) {
        // pieces start on whole words: four frames always end on one
        per = (per / 4).max(1) * 4;
    }
    let bytes = stack.samples().as_bytes();
    let pieces = chunk_ranges(frames.clone(), per);
    if let Some(first) = pieces.first() {
        stack.will_need(first.clone());
    }
    for (i, piece) in pieces.iter().enumerate() {
        if let Some(next) = pieces.get(i + 1) {
            stack.will_need(next.clone());
        }
        let offset = ((piece.start - frames.start) * fb) as u64;
        gpu.upload_at(buf, offset, &bytes[piece.start * fb..piece.end * fb]);
        stack.done_with(piece.clone());
        in_flight.push(gpu, gpu.queue.submit([]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::Shape;

    fn device() -> Option<GpuDevice> {
        match GpuDevice::new() {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("SKIPPED: no GPU device ({e})");
                None
            }
        }
    }

    #[test]
    fn chunks_cover_the_frames_in_order() {
        assert_eq!(chunk_ranges(1..7, 3), vec![1..4, 4..7]);
        assert_eq!(chunk_ranges(0..7, 3), vec![0..3, 3..6, 6..7]);
        assert_eq!(chunk_ranges(0..2, 5), vec![0..2]);
        assert_eq!(chunk_ranges(3..9, usize::MAX), vec![3..9]);
        assert!(chunk_ranges(2..2, 3).is_empty());
    }

    #[test]
    fn chunk_frames_respect_both_budgets_and_the_kernel_cap() {
        // frames of 12 bytes: 40 bytes hold 3
        assert_eq!(frames_per_chunk(12, 40, u64::MAX, 100).unwrap(), 3);
        assert_eq!(frames_per_chunk(12, 40, u64::MAX, 2).unwrap(), 2);
        // a mapped stack's own budget is smaller: it wins, yet one frame always moves
        assert_eq!(frames_per_chunk(12, 1000, 30, 100).unwrap(), 2);
        assert_eq!(frames_per_chunk(12, 1000, 5, 100).unwrap(), 1);
        assert!(matches!(
            frames_per_chunk(12, 8, u64::MAX, 100),
            Err(GpuError::FrameTooLarge {
                needed: 12,
                limit: 8
            })
        ));
    }

    #[test]
    fn run_uploads_each_chunk_once_and_hands_over_every_chunk() {
        let Some(g) = device() else { return };
        let s = Stack::from_vec(Shape::new(5, 1, 2, 1), (0u8..10).collect()).unwrap();
        let mut st = FrameStream::new(&g, &s, "test chunk", 2);
        let chunks = st.chunks(0..5);
        let mut seen = Vec::new();
        st.run(&chunks, |_, c| {
            seen.push(c);
            Ok(None)
        })
        .unwrap();
        assert_eq!(seen, vec![0..2, 2..4, 4..5]);
        // overlapping chunks (normalization runs with a halo) are handed over as given
        seen.clear();
        st.run(&[0..2, 1..3, 2..4], |_, c| {
            seen.push(c);
            Ok(None)
        })
        .unwrap();
        assert_eq!(seen, vec![0..2, 1..3, 2..4]);
    }
}
