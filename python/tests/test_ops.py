"""blitz's operations from Python against numpy, on every dtype."""

import numpy as np
import pytest

import blitz
from conftest import ctrl_c_at_first_report, stack_of

DTYPES = [np.uint8, np.uint16, np.float32]
NUMPY = {
    "mean": lambda a: a.astype(np.float64).mean(0),
    "sum": lambda a: a.astype(np.float64).sum(0),
    "min": lambda a: a.min(0).astype(np.float64),
    "max": lambda a: a.max(0).astype(np.float64),
    "std": lambda a: a.astype(np.float64).std(0),
    "median": lambda a: np.median(a.astype(np.float64), 0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", list(NUMPY))
def test_reduce_equals_numpy(rng, dtype, op):
    a = stack_of(rng, dtype)
    r = blitz.reduce(a, op, engine="cpu")
    assert r.shape == a.shape[1:] and r.dtype == np.float32
    np.testing.assert_allclose(r, NUMPY[op](a), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("op", list(NUMPY))
def test_reduce_of_colour_frames_range(rng, op):
    a = stack_of(rng, np.uint8, (12, 5, 7, 3))
    r = blitz.reduce(a, op, frames=(2, 8))
    assert r.shape == (5, 7, 3)
    np.testing.assert_allclose(r, NUMPY[op](a[2:9]), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("op", ["mean", "sum", "min", "max", "std", "median"])
def test_reduce_skips_nan(rng, op):
    a = stack_of(rng, np.float32, (9, 4, 5))
    a[2, 1, 1] = np.nan
    a[:, 0, 0] = np.nan
    nan_np = {"mean": np.nanmean, "sum": np.nansum, "min": np.nanmin, "max": np.nanmax,
              "std": np.nanstd, "median": np.nanmedian}[op]
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if op != "sum" else _nothing():
        want = nan_np(a.astype(np.float64), axis=0)
    r = blitz.reduce(a, op)
    np.testing.assert_allclose(r[1:], want[1:], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(r[0, 1:], want[0, 1:], rtol=1e-5, atol=1e-3)
    assert np.isfinite(r[1, 1])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize_range_and_sliding(rng, dtype):
    a = stack_of(rng, dtype, (15, 6, 8))
    f = a.astype(np.float64)
    y = blitz.normalize(a, subtract="range:mean:0:4")
    np.testing.assert_allclose(y, f - f[:5].mean(0), rtol=1e-4, atol=1e-2)
    w, lag = 4, 1
    y = blitz.normalize(a, subtract=f"sliding:mean:{w}:{lag}")
    n = 15 - lag - w + 1
    want = np.stack([f[t] - f[t + lag : t + lag + w].mean(0) for t in range(n)])
    assert y.shape == (n, 6, 8)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-2)


def test_normalize_divide_by_an_array_reference(rng):
    a = stack_of(rng, np.uint16, (5, 4, 3))
    ref = np.full((4, 3), 2.0, np.float32)
    y = blitz.normalize(a, divide=ref, amount_div=0.5)
    np.testing.assert_allclose(y, a / (0.5 * 2.0 + 0.5), rtol=1e-6)


def test_roi_profile_histogram(rng):
    a = stack_of(rng, np.uint8, (6, 10, 12))
    r = blitz.roi(a, rect=(2, 3, 4, 5))
    np.testing.assert_allclose(r["value"], a[:, 3:8, 2:6].mean((1, 2)), rtol=1e-6)
    np.testing.assert_array_equal(r["frames"], np.arange(6))
    np.testing.assert_array_equal(r["max"], a[:, 3:8, 2:6].max((1, 2)))
    assert r["pixels"] == 20
    r = blitz.roi(a, rect="2,3,4,5", median=True, frames=(1, 3))
    np.testing.assert_allclose(r["value"], np.median(a[1:4, 3:8, 2:6].reshape(3, -1), 1))
    p = blitz.profile(a, row=4, width=1, frame=2)
    np.testing.assert_allclose(p["values"], a[2, 3:6].mean(0), rtol=1e-6)
    p = blitz.profile(a, col=0, frame=0)
    np.testing.assert_allclose(p["values"], a[0, :, 0], rtol=1e-6)
    h = blitz.histogram(a)
    np.testing.assert_array_equal(h["counts"], np.bincount(a.ravel(), minlength=256))
    assert h["total"] == a.size and len(h["edges"]) == 257
    f = stack_of(rng, np.float32, (4, 5, 6))
    h = blitz.histogram(f, bins=10)
    counts, _ = np.histogram(f, bins=10, range=(f.min(), f.max()))
    np.testing.assert_array_equal(h["counts"], counts)


def test_progress_is_reported(rng):
    a = stack_of(rng, np.float32, (40, 64, 64))
    seen = []
    blitz.normalize(a, subtract="sliding:mean:5:0", progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (36, 36)
    assert all(d <= t for d, t in seen)


def test_an_exception_in_progress_stops_the_work(rng):
    a = stack_of(rng, np.float32, (40, 64, 64))

    def stop(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        blitz.histogram(a, engine="cpu", progress=stop)


def test_gpu_info_is_a_dict():
    g = blitz.gpu_info()
    assert isinstance(g["available"], bool)
    assert ("name" in g) if g["available"] else ("error" in g)


def test_ctrl_c_interrupts_a_long_operation():
    a = np.zeros((300, 256, 256), np.float32)  # 75 MiB: many chunks of frames
    calls = []
    with pytest.raises(KeyboardInterrupt):
        blitz.normalize(a, subtract="sliding:median:9:0", engine="cpu",
                        progress=ctrl_c_at_first_report(calls))
    assert calls[-1][0] < 292  # stopped before the last output frame


def test_reduce_reports_progress_and_stops_on_ctrl_c():
    a = np.arange(300 * 256 * 256, dtype=np.float32).reshape(300, 256, 256) % 977
    seen = []
    r = blitz.reduce(a, "max", engine="cpu", progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(r, a.max(0))
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert all(d <= t for d, t in seen)

    calls = []
    with pytest.raises(KeyboardInterrupt):
        blitz.reduce(a, "median", engine="cpu", progress=ctrl_c_at_first_report(calls))
    assert calls[-1][0] < calls[-1][1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_kymograph_of_a_row_and_a_column_is_the_stack_cut(rng, dtype):
    a = stack_of(rng, dtype, (9, 11, 13))
    k = blitz.kymograph(a, row=4)
    assert k.shape == (9, 13) and k.dtype == np.float32
    np.testing.assert_allclose(k, a[:, 4, :].astype(np.float64), rtol=1e-6)
    k = blitz.kymograph(a, col=2, width=1, frames=(3, 6))
    np.testing.assert_allclose(k, a[3:7, :, 1:4].astype(np.float64).mean(2), rtol=1e-5)


def test_kymograph_along_a_line_reads_between_pixels(rng):
    a = stack_of(rng, np.float32, (5, 8, 10))
    # halfway between rows 2 and 3, from x = 1 to x = 7: the bilinear mean of the two rows
    for line in ["1,2.5,7,2.5", (1, 2.5, 7, 2.5), [(1, 2.5), (7, 2.5)]]:
        k = blitz.kymograph(a, line=line)
        assert k.shape == (5, 7)
        np.testing.assert_allclose(k, (a[:, 2, 1:8] + a[:, 3, 1:8]) / 2, rtol=1e-5, atol=1e-4)
    p = blitz.profile(a, line=(1, 2.5, 7, 2.5), frame=3, envelope=0)
    np.testing.assert_allclose(p["values"], blitz.kymograph(a, line=(1, 2.5, 7, 2.5))[3])
    np.testing.assert_allclose(p["arc"], np.arange(7), atol=1e-6)
    band = (a[:, 2, 1:8] + a[:, 3, 1:8]) / 2
    np.testing.assert_allclose(p["lo"], band.min(0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(p["hi"], band.max(0), rtol=1e-5, atol=1e-4)
    rgb = stack_of(rng, np.uint8, (3, 6, 7, 3))
    assert blitz.kymograph(rgb, row=1).shape == (3, 7, 3)


def test_kymograph_bad_lines_name_the_argument(rng):
    a = stack_of(rng, np.uint8, (3, 6, 7))
    with pytest.raises(ValueError, match="line: line '1,2,3': expected an even count"):
        blitz.kymograph(a, line="1,2,3")
    with pytest.raises(ValueError, match="line 50,50,60,60: the line lies outside the 7 x 6 frame"):
        blitz.kymograph(a, line=(50, 50, 60, 60))
    with pytest.raises(ValueError, match="give exactly one of row=Y, col=X or line="):
        blitz.kymograph(a, row=1, col=1)
    with pytest.raises(TypeError, match="line: give"):
        blitz.kymograph(a, line={"a": 1})


def test_kymograph_reports_progress_and_stops_on_ctrl_c():
    a = np.arange(400 * 128 * 128, dtype=np.uint16).reshape(400, 128, 128)
    seen = []
    k = blitz.kymograph(a, line=(0, 0, 127, 127), width=2, engine="cpu",
                        progress=lambda d, t: seen.append((d, t)))
    assert k.shape[0] == 400 and seen[-1] == (400, 400)
    calls = []
    with pytest.raises(KeyboardInterrupt):
        blitz.kymograph(a, line=(0, 0, 127, 127), width=8, engine="cpu",
                        progress=ctrl_c_at_first_report(calls))
    assert calls[-1][0] < calls[-1][1]
