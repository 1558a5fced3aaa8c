//! ROI series, dataset envelopes, histograms and the value range walked in frame order
//! under small chunk budgets (many chunks, in RAM and on a mapped `.npy`), against naive
//! loops over `Stack::value` and the same results computed in one chunk.

use blitz::export::write_npy;
use blitz::ops::FrameRange;
use blitz::ops::histogram::{Histogram, histogram, histogram_chunked};
use blitz::ops::profile::{Orientation, dataset_envelope, dataset_envelope_chunked};
use blitz::ops::roi::{Roi, Stat, roi_series, roi_series_chunked};
use blitz::{Dtype, LoadOptions, NoProgress, Shape, Stack};

/// 9 frames of 12 x 17 x `c`, values from a hash; f32 stacks hold NaN and ±inf now and
/// then, and one sample NaN in every frame.
fn hashed(dtype: Dtype, c: usize) -> Stack {
    let shape = Shape::new(9, 12, 17, c);
    let p = shape.frame_len();
    let h = |i: usize| (i as u32).wrapping_mul(2_654_435_761).rotate_left(11);
    match dtype {
        Dtype::U8 => Stack::from_vec(shape, (0..shape.len()).map(|i| h(i) as u8).collect()),
        // a narrow range of u16 values, so several share a bin and the range is not 0..65535
        Dtype::U16 => Stack::from_vec(
            shape,
            (0..shape.len())
                .map(|i| 1000 + (h(i) % 3000) as u16)
                .collect(),
        ),
        Dtype::F32 => Stack::from_vec(
            shape,
            (0..shape.len())
                .map(|i| match (i % p, h(i) % 23) {
                    (7, _) => f32::NAN,
                    (_, 0) => f32::NAN,
                    (_, 1) => f32::INFINITY,
                    (_, 2) => f32::NEG_INFINITY,
                    _ => (h(i) >> 8) as f32 / 100.0 - 4e4,
                })
                .collect(),
        ),
    }
    .unwrap()
}

/// The stacks under test: every dtype, gray and RGB, in RAM and mapped from a `.npy`.
fn stacks(dir: &std::path::Path) -> Vec<Stack> {
    let mut v = Vec::new();
    for dtype in [Dtype::U8, Dtype::U16, Dtype::F32] {
        for c in [1, 3] {
            let s = hashed(dtype, c);
            let path = dir.join(format!("{dtype}-{c}.npy"));
            write_npy(&path, &s).unwrap();
            let m = blitz::load(&path, &LoadOptions::default(), &NoProgress).unwrap();
            assert!(m.is_mapped());
            v.push(s);
            v.push(m);
        }
    }
    v
}

/// Chunk budgets of one byte (one frame at a time), two and four frames, and the stack.
fn budgets(s: &Stack) -> [usize; 4] {
    let frame = s.shape().frame_len() * s.dtype().size();
    [1, 2 * frame, 4 * frame + 3, usize::MAX]
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// numpy's linear percentile of `v` (NaN-free), sorted here: numpy's `_lerp` from the
/// nearer end, and two equal neighbours (infinities too) give their value.
fn naive_percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let k = rank.floor() as usize;
    let t = rank - k as f64;
    if k + 1 >= v.len() || t == 0.0 || v[k] == v[k + 1] {
        return v[k];
    }
    let (a, b) = (v[k], v[k + 1]);
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

fn close(got: f32, want: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got as f64 == want;
    }
    (got as f64 - want).abs() <= 1e-6 * want.abs().max(1.0)
}

#[test]
fn roi_series_in_chunks_matches_the_naive_series() {
    let d = tempfile::tempdir().unwrap();
    // columns 3..14, rows 2..9
    let roi = Roi::Rect {
        x: 3,
        y: 2,
        w: 11,
        h: 7,
    };
    for s in stacks(d.path()) {
        let sh = s.shape();
        let range = FrameRange::new(1, 8);
        for stat in [Stat::Mean, Stat::Median] {
            let one = roi_series(&s, &roi, stat, range).unwrap();
            for t in range.first..=range.last {
                for c in 0..sh.channels {
                    let mut v: Vec<f64> = (2..9)
                        .flat_map(|y| (3..14).map(move |x| (y, x)))
                        .map(|(y, x)| s.value(t, y, x, c) as f64)
                        .filter(|v| !v.is_nan())
                        .collect();
                    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let want = match stat {
                        Stat::Mean => v.iter().sum::<f64>() / v.len() as f64,
                        Stat::Median => naive_percentile(&mut v, 50.0),
                    };
                    let i = one.at(t - range.first, c);
                    let what = format!("{} c{} {stat} t{t} ch{c}", s.dtype(), sh.channels);
                    assert!(
                        close(one.value[i], want),
                        "{what}: {} vs {want}",
                        one.value[i]
                    );
                    assert!(close(one.min[i], lo), "{what}: min {}", one.min[i]);
                    assert!(close(one.max[i], hi), "{what}: max {}", one.max[i]);
                }
            }
            for b in budgets(&s) {
                let r = roi_series_chunked(&s, &roi, stat, range, b).unwrap();
                assert_eq!(r.frames, one.frames);
                assert!(same_bits(&r.value, &one.value), "{stat} budget {b}");
                assert!(same_bits(&r.min, &one.min) && same_bits(&r.max, &one.max));
            }
        }
    }
}

#[test]
fn dataset_envelope_in_chunks_matches_the_naive_envelope() {
    let d = tempfile::tempdir().unwrap();
    for s in stacks(d.path()) {
        let sh = s.shape();
        for (orient, pos, width) in [
            (Orientation::Row, 5usize, 1usize),
            (Orientation::Col, 16, 2),
        ] {
            // (lines, positions) of the oriented frame, and sample (line, position)
            let (lines, positions) = match orient {
                Orientation::Row => (sh.height, sh.width),
                Orientation::Col => (sh.width, sh.height),
            };
            let at = |t: usize, l: usize, p: usize, c: usize| match orient {
                Orientation::Row => s.value(t, l, p, c),
                Orientation::Col => s.value(t, p, l, c),
            };
            let band = pos.saturating_sub(width)..(pos + width + 1).min(lines);
            for q in [0, 10] {
                let one = dataset_envelope(&s, orient, pos, width, q).unwrap();
                for p in 0..positions {
                    let (want_lo, want_hi) = if q == 0 {
                        let v: Vec<f64> = (0..sh.frames)
                            .flat_map(|t| band.clone().map(move |l| (t, l)))
                            .flat_map(|(t, l)| (0..sh.channels).map(move |c| (t, l, c)))
                            .map(|(t, l, c)| at(t, l, p, c) as f64)
                            .filter(|v| !v.is_nan())
                            .collect();
                        (
                            v.iter().cloned().fold(f64::INFINITY, f64::min),
                            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                        )
                    } else {
                        // per channel: percentiles over frames of the band mean, then the
                        // mean over channels
                        let (mut lo, mut hi, mut k) = (0.0, 0.0, 0);
                        for c in 0..sh.channels {
                            // band means as the f32 profile holds them, NaN dropped
                            let mut means: Vec<f64> = (0..sh.frames)
                                .filter_map(|t| {
                                    let v: Vec<f64> = band
                                        .clone()
                                        .map(|l| at(t, l, p, c) as f64)
                                        .filter(|v| !v.is_nan())
                                        .collect();
                                    let m = v.iter().sum::<f64>() / v.len() as f64;
                                    (!v.is_empty()).then_some(m as f32 as f64)
                                })
                                .filter(|m| !m.is_nan())
                                .collect();
                            if means.is_empty() {
                                continue;
                            }
                            lo += naive_percentile(&mut means, q as f64) as f32 as f64;
                            hi += naive_percentile(&mut means, 100.0 - q as f64) as f32 as f64;
                            k += 1;
                        }
                        (lo / k as f64, hi / k as f64)
                    };
                    let what = format!("{} c{} {orient} q{q} p{p}", s.dtype(), sh.channels);
                    // percentiles of f32 means: the f32 rounding of each mean, relative
                    let ok = |got: f32, want: f64| {
                        close(got, want)
                            || (q > 0 && (got as f64 - want).abs() <= 1e-5 * want.abs().max(1.0))
                    };
                    assert!(
                        ok(one.lo[p], want_lo),
                        "{what}: lo {} vs {want_lo}",
                        one.lo[p]
                    );
                    assert!(
                        ok(one.hi[p], want_hi),
                        "{what}: hi {} vs {want_hi}",
                        one.hi[p]
                    );
                }
                for b in budgets(&s) {
                    let e = dataset_envelope_chunked(&s, orient, pos, width, q, b).unwrap();
                    assert!(same_bits(&e.lo, &one.lo) && same_bits(&e.hi, &one.hi));
                }
            }
        }
    }
}

/// The naive histogram of frames `a..=b`: u8 one bin per value; u16 and f32 `bins` bins
/// over the finite range, bin = floor((v - min) * bins / (max - min)), the max in the last.
fn naive_histogram(s: &Stack, a: usize, b: usize, bins: usize) -> (f64, f64, Vec<u64>) {
    let n = s.shape().frame_len();
    let vals: Vec<f64> = (a..=b)
        .flat_map(|t| (0..n).map(move |i| (t, i)))
        .map(|(t, i)| s.frame(t).get_f32(i) as f64)
        .filter(|v| v.is_finite())
        .collect();
    if s.dtype() == Dtype::U8 {
        let mut counts = vec![0u64; 256];
        vals.iter().for_each(|&v| counts[v as usize] += 1);
        return (0.0, 256.0, counts);
    }
    let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut counts = vec![0u64; bins];
    for v in vals {
        let i = if hi > lo {
            ((v - lo) * bins as f64 / (hi - lo)).floor() as usize
        } else {
            0
        };
        counts[i.min(bins - 1)] += 1;
    }
    (lo, hi, counts)
}

#[test]
fn histogram_in_chunks_matches_the_naive_counts() {
    let d = tempfile::tempdir().unwrap();
    for s in stacks(d.path()) {
        for (a, b, bins) in [(0, 8, 64), (2, 6, 1000)] {
            let range = FrameRange::new(a, b);
            let (lo, hi, counts) = naive_histogram(&s, a, b, bins);
            let check = |h: &Histogram, what: &str| {
                assert_eq!((h.lo, h.hi), (lo, hi), "{} {what}", s.dtype());
                assert_eq!(h.counts, counts, "{} {what}", s.dtype());
                assert_eq!(h.total, counts.iter().sum::<u64>(), "{what}");
            };
            check(&histogram(&s, range, Some(bins)).unwrap(), "one chunk");
            for budget in budgets(&s) {
                let h = histogram_chunked(&s, range, Some(bins), budget).unwrap();
                check(&h, &format!("budget {budget}"));
            }
        }
    }
}

#[test]
fn value_range_in_chunks_matches_the_naive_range() {
    let d = tempfile::tempdir().unwrap();
    for s in stacks(d.path()) {
        let v: Vec<f32> = (0..s.shape().len())
            .map(|i| s.samples().get_f32(i))
            .filter(|v| v.is_finite())
            .collect();
        let want = (
            v.iter().cloned().fold(f32::INFINITY, f32::min),
            v.iter().cloned().fold(f32::NEG_INFINITY, f32::max),
        );
        assert_eq!(s.value_range(), Some(want), "{}", s.dtype());
        for b in budgets(&s) {
            assert_eq!(
                s.value_range_chunked(b),
                Some(want),
                "{} budget {b}",
                s.dtype()
            );
        }
    }
    // nothing finite: no range, however it is chunked
    let nan = Stack::from_vec(Shape::new(3, 1, 2, 1), vec![f32::NAN; 6]).unwrap();
    assert_eq!(nan.value_range_chunked(1), None);
}
