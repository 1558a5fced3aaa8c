//! Histograms, LUT levels, crops, flips, rotation and masks against naive references
//! written here (plain loops over `Stack::value`, sort-based percentiles, index formulas)
//! on random stacks of every dtype, odd sizes, NaN and ±inf.

mod common;

use blitz::ops::FrameRange;
use blitz::ops::histogram::{Histogram, Levels, auto_levels, histogram, symmetric};
use blitz::ops::transform::{
    binary_mask, crop, crop_frames, flip_x, flip_y, roi_mask, rotate90_cw,
};
use blitz::{Dtype, Shape, Stack};
use common::{Kind, Values, kinds, naive};
use proptest::prelude::*;

// ---------------------------------------------------------------- random stacks

/// A stack of `kind` with values from `seed`; `spread` limits how many distinct values
/// there are (1 gives a constant stack), `nan_every` > 0 puts NaN (and some ±inf) into
/// f32 stacks.
fn make(kind: Kind, shape: Shape, seed: &[u32], spread: u32, nan_every: usize) -> Stack {
    let values = Values::floats(-50.0, -50.0 + 0.37 * spread as f32)
        .levels(spread)
        .nan_every(nan_every)
        .infinities();
    common::make(kind, shape, seed, values)
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(1usize), 1usize..5],
        prop_oneof![Just(1usize), Just(3), 1usize..7],
        prop_oneof![Just(1usize), Just(3), Just(65), 1usize..9],
        prop_oneof![Just(1usize), Just(3)],
    )
        .prop_map(|(t, h, w, c)| Shape::new(t, h, w, c))
}

fn spreads() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), 2u32..6, 6u32..100_000]
}

/// Finite samples of frames first..=last.
fn finite(s: &Stack, first: usize, last: usize) -> Vec<f64> {
    naive::finite(s, FrameRange::new(first, last))
}

/// numpy's `percentile` (linear) on sorted values.
fn sorted_percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let k = rank.floor() as usize;
    let t = rank - k as f64;
    if k + 1 >= sorted.len() {
        return sorted[k];
    }
    sorted[k] + (sorted[k + 1] - sorted[k]) * t
}

/// Spec §6 clean-up of a fitted (min, max).
fn fit(min: f64, max: f64) -> (f64, f64) {
    let min = if min.is_finite() { min } else { 0.0 };
    let max = if max.is_finite() && max > min {
        max
    } else {
        min + 1.0
    };
    (min, max)
}

fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits()
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn histogram_matches_plain_loop(kind in kinds(), shape in shapes(), spread in spreads(),
                                    seed in prop::collection::vec(any::<u32>(), 1..6),
                                    nan_every in prop_oneof![Just(0usize), 1usize..5],
                                    a in 0usize..8, len in 0usize..8, bins in 1usize..70) {
        let s = make(kind, shape, &seed, spread, nan_every);
        let first = a % shape.frames;
        let last = (first + len).min(shape.frames - 1);
        let h = histogram(&s, FrameRange::new(first, last), Some(bins)).unwrap();
        let v = finite(&s, first, last);
        let (lo, hi, counts) = naive::histogram_counts(kind, &v, bins);
        prop_assert_eq!((h.lo, h.hi), (lo, hi));
        prop_assert_eq!(&h.counts, &counts);
        prop_assert_eq!(h.total, v.len() as u64);
        let e = h.bin_edges();
        prop_assert_eq!(e.len(), h.counts.len() + 1);
        prop_assert_eq!((e[0], e[e.len() - 1]), (lo, hi));
        prop_assert!(e.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn levels_match_sorted_percentiles(kind in kinds(), shape in shapes(), spread in spreads(),
                                       seed in prop::collection::vec(any::<u32>(), 1..6),
                                       nan_every in prop_oneof![Just(0usize), 1usize..5],
                                       bins in prop_oneof![Just(1024usize), 1usize..40],
                                       q in prop_oneof![Just(0.0f32), Just(1.0), Just(2.0), 0.0f32..49.0]) {
        let s = make(kind, shape, &seed, spread, nan_every);
        let all = FrameRange::all(shape.frames);
        let h: Histogram = histogram(&s, all, Some(bins)).unwrap();
        let mut v = finite(&s, 0, shape.frames - 1);
        v.sort_by(f64::total_cmp);
        let l = auto_levels(&h, q);
        if v.is_empty() {
            prop_assert_eq!(l, Levels { min: 0.0, max: 1.0 });
            return Ok(());
        }
        let (want_min, want_max) = if q == 0.0 {
            (v[0], v[v.len() - 1])
        } else {
            (sorted_percentile(&v, q as f64), sorted_percentile(&v, 100.0 - q as f64))
        };
        let f32_eps = |x: f64| x.abs() * 1e-6 + 1e-4;
        let (got_min, got_max) = (l.min as f64, l.max as f64);
        if q == 0.0 || matches!(kind, Kind::U8) {
            // q = 0 reads lo and hi, u8 bins are single values: exact up to f32
            let (fmin, fmax) = fit(want_min, want_max);
            prop_assert!((got_min - fmin).abs() <= f32_eps(fmin), "min {} want {}", got_min, fmin);
            prop_assert!((got_max - fmax).abs() <= f32_eps(fmax), "max {} want {}", got_max, fmax);
        } else {
            // binned percentiles lie within one bin width
            let tol = h.bin_width();
            prop_assert!((got_min - want_min).abs() <= tol + f32_eps(want_min),
                         "min {} want {} tol {}", got_min, want_min, tol);
            let close = (got_max - want_max).abs() <= tol + f32_eps(want_max);
            // or both estimates met and max = min + 1 took over, possible only when the
            // true percentiles are within two bin widths
            let refit = got_max == got_min + 1.0 && want_max - want_min <= 2.0 * tol + f32_eps(want_max);
            prop_assert!(close || refit, "max {} want {} tol {}", got_max, want_max, tol);
        }
        if let Some(sym) = symmetric(l) {
            prop_assert!(l.min < 0.0 && l.max > 0.0);
            prop_assert_eq!(sym.max, -sym.min);
            prop_assert_eq!(sym.max, l.min.abs().max(l.max));
        } else {
            prop_assert!(l.min >= 0.0 || l.max <= 0.0);
        }
    }

    #[test]
    fn flips_and_rotation_follow_index_formulas(kind in kinds(), shape in shapes(),
                                                seed in prop::collection::vec(any::<u32>(), 1..6),
                                                nan_every in prop_oneof![Just(0usize), 1usize..5]) {
        let s = make(kind, shape, &seed, 100_000, nan_every);
        let (tt, h, w, cc) = shape.dims();
        let fx = flip_x(&s);
        let fy = flip_y(&s);
        let r = rotate90_cw(&s);
        prop_assert_eq!(fx.shape(), shape);
        prop_assert_eq!(fy.shape(), shape);
        prop_assert_eq!(r.shape(), Shape::new(tt, w, h, cc));
        prop_assert_eq!((fx.dtype(), fy.dtype(), r.dtype()), (s.dtype(), s.dtype(), s.dtype()));
        for t in 0..tt {
            for y in 0..h {
                for x in 0..w {
                    for c in 0..cc {
                        let v = s.value(t, y, x, c);
                        prop_assert!(same_bits(fx.value(t, y, w - 1 - x, c), v));
                        prop_assert!(same_bits(fy.value(t, h - 1 - y, x, c), v));
                        // new (x', y') takes old (x = y', y = H - 1 - x'): old (x, y) lands
                        // at x' = H - 1 - y, y' = x
                        prop_assert!(same_bits(r.value(t, x, h - 1 - y, c), v));
                    }
                }
            }
        }
        let r4 = rotate90_cw(&rotate90_cw(&rotate90_cw(&r)));
        prop_assert_eq!(r4.shape(), shape);
        let (a, b) = (common::all_values(&r4), common::all_values(&s));
        prop_assert!(a.iter().zip(&b).all(|(x, y)| same_bits(*x, *y)));
    }

    #[test]
    fn crops_follow_clamped_bounds(kind in kinds(), shape in shapes(),
                                   seed in prop::collection::vec(any::<u32>(), 1..6),
                                   x in -5i64..70, y in -5i64..8, cw in 0usize..70, ch in 0usize..8,
                                   a in 0usize..6, len in 0usize..6) {
        let s = make(kind, shape, &seed, 100_000, 3);
        let (tt, h, w, cc) = shape.dims();
        let (x0, x1) = (x.clamp(0, w as i64), (x + cw as i64).clamp(0, w as i64));
        let (y0, y1) = (y.clamp(0, h as i64), (y + ch as i64).clamp(0, h as i64));
        let c = crop(&s, x, y, cw, ch);
        if x1 <= x0 || y1 <= y0 {
            prop_assert!(c.is_err());
            prop_assert!(roi_mask(&s, x, y, cw, ch).is_err());
        } else {
            let c = c.unwrap();
            let (nw, nh) = ((x1 - x0) as usize, (y1 - y0) as usize);
            prop_assert_eq!(c.shape(), Shape::new(tt, nh, nw, cc));
            prop_assert_eq!(c.dtype(), s.dtype());
            for t in 0..tt {
                for yy in 0..nh {
                    for xx in 0..nw {
                        for k in 0..cc {
                            let want = s.value(t, y0 as usize + yy, x0 as usize + xx, k);
                            prop_assert!(same_bits(c.value(t, yy, xx, k), want));
                        }
                    }
                }
            }
            let m = roi_mask(&s, x, y, cw, ch).unwrap();
            prop_assert_eq!(common::all_values(&m).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                            common::all_values(&c).iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
        let (first, last) = (a, a + len);
        let f = crop_frames(&s, FrameRange::new(first, last));
        if last >= tt {
            prop_assert!(f.is_err());
        } else {
            let f = f.unwrap();
            prop_assert_eq!(f.shape(), Shape::new(len + 1, h, w, cc));
            let n = shape.frame_len();
            for t in 0..=len {
                for i in 0..n {
                    prop_assert!(same_bits(f.frame(t).get_f32(i), s.frame(first + t).get_f32(i)));
                }
            }
        }
    }

    #[test]
    fn binary_mask_matches_loop(kind in kinds(), shape in shapes(),
                                seed in prop::collection::vec(any::<u32>(), 1..6),
                                mseed in prop::collection::vec(any::<u32>(), 1..6),
                                mc in prop_oneof![Just(1usize), Just(3)], mspread in 1u32..4) {
        let s = make(kind, shape, &seed, 100_000, 4);
        let (tt, h, w, cc) = shape.dims();
        // small spread: many zeros in the mask
        let m = make(Kind::U8, Shape::new(1, h, w, mc), &mseed, mspread, 0);
        let r = binary_mask(&s, &m).unwrap();
        prop_assert_eq!(r.shape(), shape);
        prop_assert_eq!(r.dtype(), Dtype::F32);
        for t in 0..tt {
            for y in 0..h {
                for x in 0..w {
                    let masked = (0..mc).all(|k| m.value(0, y, x, k) == 0.0);
                    for c in 0..cc {
                        let got = r.value(t, y, x, c);
                        if masked {
                            prop_assert!(got.is_nan());
                        } else {
                            prop_assert!(same_bits(got, s.value(t, y, x, c)));
                        }
                    }
                }
            }
        }
        // a mask of another size, or with several frames, is refused
        let wrong = make(Kind::U8, Shape::new(1, h + 1, w, 1), &mseed, 2, 0);
        prop_assert!(binary_mask(&s, &wrong).is_err());
        let frames2 = make(Kind::U8, Shape::new(2, h, w, 1), &mseed, 2, 0);
        prop_assert!(binary_mask(&s, &frames2).is_err());
    }
}

// ---------------------------------------------------------------- larger stacks

/// Large enough that the histogram counts in several chunks and the transforms run in
/// parallel; checked against the same naive references.
#[test]
fn parallel_paths_match_naive_on_a_larger_stack() {
    let shape = Shape::new(3, 131, 201, 1);
    for kind in [Kind::U8, Kind::U16, Kind::F32] {
        let s = make(kind, shape, &[7, 11, 13], 100_000, 5);
        let h = histogram(&s, FrameRange::all(3), None).unwrap();
        let v = finite(&s, 0, 2);
        let (_, _, counts) = naive::histogram_counts(kind, &v, 1024);
        assert_eq!(h.counts, counts, "{kind:?}");
        let r = rotate90_cw(&s);
        let fx = flip_x(&s);
        for (t, y, x) in [(0, 0, 0), (1, 130, 200), (2, 64, 3), (2, 0, 199)] {
            let v = s.value(t, y, x, 0);
            assert!(same_bits(r.value(t, x, 130 - y, 0), v));
            assert!(same_bits(fx.value(t, y, 200 - x, 0), v));
        }
        let m = make(Kind::U8, Shape::new(1, 131, 201, 1), &[3], 2, 0);
        let b = binary_mask(&s, &m).unwrap();
        for (t, y, x) in [(0, 0, 0), (1, 130, 200), (2, 64, 3), (2, 5, 199)] {
            let got = b.value(t, y, x, 0);
            if m.value(0, y, x, 0) == 0.0 {
                assert!(got.is_nan());
            } else {
                assert!(same_bits(got, s.value(t, y, x, 0)));
            }
        }
    }
}
