"""blitz.dask against dask.array's own reductions, on a two-worker LocalCluster."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import blitz.dask as bd  # noqa: E402
from conftest import stack_of  # noqa: E402

OPS = {
    "mean": da.nanmean,
    "sum": da.nansum,
    "min": da.nanmin,
    "max": da.nanmax,
    "std": da.nanstd,
    "median": lambda a, axis: da.nanmedian(a, axis=axis),
}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("op", list(OPS))
def test_reduce_equals_dask_array(client, rng, dtype, op):
    x = stack_of(rng, dtype, (40, 30, 22))
    if dtype == np.float32:
        x[3, 4, 5] = np.nan
        x[:, 0, 1] = np.nan
    d = da.from_array(x, chunks=(7, 16, 9))
    got = bd.reduce(d, op).compute()
    with np.errstate(all="ignore"), pytest.warns(None) if False else _quiet():
        want = OPS[op](d.astype(np.float64), axis=0).compute()
    assert got.shape == x.shape[1:] and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3 if dtype != np.float32 else 1e-4)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *a):
        return self._w.__exit__(*a)


def test_reduce_of_a_frame_range_and_colour(client, rng):
    x = stack_of(rng, np.uint8, (30, 10, 12, 3))
    d = da.from_array(x, chunks=(8, 5, 6, 3))
    got = bd.reduce(d, "std", frames=(4, 25)).compute()
    np.testing.assert_allclose(got, x[4:26].astype(np.float64).std(0), rtol=1e-5, atol=1e-3)


def test_normalize_by_a_range_reference(client, rng):
    x = stack_of(rng, np.uint16, (24, 12, 10))
    d = da.from_array(x, chunks=(5, 7, 4))
    got = bd.normalize(d, subtract="range:mean:0:9", divide="range:max:0:23", amount_div=0.5).compute()
    f = x.astype(np.float64)
    want = (f - f[:10].mean(0)) / (0.5 * f.max(0) + 0.5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_bad_input(rng):
    with pytest.raises(TypeError, match="darr: dtype"):
        bd.reduce(da.zeros((3, 4, 5), dtype=np.int64), "mean")
    with pytest.raises(ValueError, match="op: unknown reduce op"):
        bd.reduce(da.zeros((3, 4, 5), dtype=np.uint8), "avg")
    with pytest.raises(ValueError, match="blitz.dask normalizes by a range reference"):
        bd.normalize(da.zeros((3, 4, 5), dtype=np.uint8), subtract="sliding:mean:2:0")
