//! The reduce, the ROI series and the kymograph with a progress: the same result as without one, every
//! unit of work told, and a stop asked for ends the work early with `Cancelled` (streamed
//! chunk by chunk, the reduce in memory block by block).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use blitz::engine::{Engine, EngineChoice};
use blitz::ops::kymograph::{Line, kymograph, kymograph_watched};
use blitz::ops::reduce::{ReduceOp, reduce_chunked, reduce_watched};
use blitz::ops::roi::{Roi, Stat, roi_series_chunked, roi_series_watched};
use blitz::ops::{FrameRange, OpError};
use blitz::{Progress, Shape, Stack};

/// Counts what it is told; asks to stop once `stop_after` units are done.
struct Count {
    total: AtomicU64,
    done: AtomicU64,
    starts: AtomicU64,
    stop_after: u64,
    stopped: AtomicBool,
}

impl Count {
    fn new(stop_after: u64) -> Count {
        Count {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            starts: AtomicU64::new(0),
            stop_after,
            stopped: AtomicBool::new(false),
        }
    }
}

impl Progress for Count {
    fn start(&self, _what: &str, total: u64) {
        self.starts.fetch_add(1, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }
    fn advance(&self, n: u64) {
        let d = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if d >= self.stop_after {
            self.stopped.store(true, Ordering::Relaxed);
        }
    }
    fn is_cancelled(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

/// 12 frames of 512 x 512 u16 (32 blocks of samples: more than the cores of most
/// machines, so a stop after the first is seen by blocks not yet begun), values from a hash.
fn stack() -> Stack {
    let shape = Shape::new(12, 512, 512, 1);
    let h = |i: usize| ((i as u32).wrapping_mul(2_654_435_761) >> 16) as u16;
    Stack::from_vec(shape, (0..shape.len()).map(h).collect()).unwrap()
}

/// The chunk budgets: one frame at a time (streamed) and the whole stack (in memory).
fn budgets(s: &Stack) -> [usize; 2] {
    [1, s.shape().len() * 2]
}

#[test]
fn a_watched_reduce_equals_the_plain_one_and_tells_all_its_work() {
    let s = stack();
    let all = FrameRange::all(12);
    for op in ReduceOp::ALL {
        for chunk in budgets(&s) {
            let c = Count::new(u64::MAX);
            let got = reduce_watched(&s, op, all, chunk, &c).unwrap();
            let want = reduce_chunked(&s, op, all, chunk).unwrap();
            assert_eq!(got.data, want.data, "{op:?} chunk {chunk}");
            let (done, total) = (c.done.into_inner(), c.total.into_inner());
            assert_eq!(c.starts.into_inner(), 1, "{op:?} chunk {chunk}");
            assert!(
                total > 0 && done == total,
                "{op:?} chunk {chunk}: {done}/{total}"
            );
        }
    }
}

#[test]
fn the_streamed_median_counts_a_pass_per_digit() {
    let s = stack();
    let c = Count::new(u64::MAX);
    reduce_watched(&s, ReduceOp::Median, FrameRange::all(12), 1, &c).unwrap();
    // u16 keys: more than one radix pass over the 12 frames
    let total = c.total.into_inner();
    assert!(total > 12 && total.is_multiple_of(12), "{total}");
}

#[test]
fn a_stop_ends_the_reduce_early_with_cancelled() {
    let s = stack();
    for op in ReduceOp::ALL {
        for chunk in budgets(&s) {
            let c = Count::new(1);
            let r = reduce_watched(&s, op, FrameRange::all(12), chunk, &c);
            assert!(matches!(r, Err(OpError::Cancelled)), "{op:?} chunk {chunk}");
            let (done, total) = (c.done.into_inner(), c.total.into_inner());
            assert!(
                done < total,
                "{op:?} chunk {chunk}: ran on to {done}/{total}"
            );
        }
    }
}

#[test]
fn the_engine_does_not_start_work_already_cancelled() {
    let s = stack();
    let c = Count::new(0);
    c.stopped.store(true, Ordering::Relaxed);
    for choice in [EngineChoice::Cpu, EngineChoice::Auto] {
        let e = Engine::new(choice);
        let r = e.reduce_watched(&s, ReduceOp::Mean, FrameRange::all(12), &c);
        assert!(matches!(r, Err(OpError::Cancelled)), "{choice:?}");
    }
    let c = Count::new(u64::MAX);
    let e = Engine::new(EngineChoice::Cpu);
    let (img, _) = e
        .reduce_watched(&s, ReduceOp::Std, FrameRange::new(2, 9), &c)
        .unwrap();
    let want = reduce_chunked(&s, ReduceOp::Std, FrameRange::new(2, 9), budgets(&s)[1]).unwrap();
    assert_eq!(img.data, want.data);
}

#[test]
fn a_watched_roi_series_equals_the_plain_one_and_stops_when_asked() {
    // 200 small frames, 2 a chunk (at least one a thread): many chunks on any machine
    let shape = Shape::new(200, 64, 64, 1);
    let s = Stack::from_vec(
        shape,
        (0..shape.len()).map(|i| (i * 7 % 4099) as u16).collect(),
    )
    .unwrap();
    let roi = Roi::parse_rect("10,20,30,40").unwrap();
    let all = FrameRange::all(200);
    let chunk = 2 * shape.frame_len() * 2;
    for stat in [Stat::Mean, Stat::Median] {
        let c = Count::new(u64::MAX);
        let got = roi_series_watched(&s, &roi, stat, all, chunk, &c).unwrap();
        let want = roi_series_chunked(&s, &roi, stat, all, chunk).unwrap();
        assert_eq!(
            (got.value, got.min, got.max),
            (want.value, want.min, want.max)
        );
        assert_eq!((c.done.into_inner(), c.total.into_inner()), (200, 200));
        let c = Count::new(1);
        let r = roi_series_watched(&s, &roi, stat, all, chunk, &c);
        assert!(matches!(r, Err(OpError::Cancelled)), "{stat:?}");
        assert!(c.done.into_inner() < 200);
    }
}

#[test]
fn a_watched_kymograph_equals_the_plain_one_and_stops_when_asked() {
    let shape = Shape::new(200, 64, 64, 1);
    let s = Stack::from_vec(
        shape,
        (0..shape.len()).map(|i| (i * 13 % 4093) as u16).collect(),
    )
    .unwrap();
    let line = Line::parse("3,4,60,50", 1).unwrap();
    let all = FrameRange::all(200);
    let c = Count::new(u64::MAX);
    let got = kymograph_watched(&s, &line, all, &c).unwrap();
    assert_eq!(got, kymograph(&s, &line, all).unwrap());
    assert_eq!((c.done.into_inner(), c.total.into_inner()), (200, 200));
    let c = Count::new(1);
    let r = kymograph_watched(&s, &line, all, &c);
    assert!(matches!(r, Err(OpError::Cancelled)));
    assert!(c.done.into_inner() < 200);
}
