"""blitz's kernels per chunk of a dask array, on any dask scheduler (dask.distributed
included), for stacks bigger than one machine.

``reduce(darr, op)`` reduces over axis 0 (time) of a (T, H, W[, C]) dask array:

- mean, sum, std: each chunk gives combinable partials from blitz's own kernels — the
  count of non-NaN samples, their sum and their second moment about the chunk's mean
  (M2 = n * std**2) — merged pairwise up a tree (Chan et al.'s update:
  ``M2 = M2a + M2b + d**2 * na * nb / n``, ``d = mean_b - mean_a``), so no chunk's data
  moves, only (H, W) partials;
- min, max: blitz's per chunk, merged with ``fmin``/``fmax``;
- median: the array is rechunked so that each spatial block holds all its frames, then
  blitz's median runs per block.

``normalize(darr, subtract="range:OP:A:B", divide=...)`` reduces the reference range with
``reduce`` and applies blitz's normalization to every chunk against its part of the
reference. NaN samples are skipped as blitz skips them; a pixel without any finite
sample gives NaN.
"""

import numpy as np

from . import _blitz

_SUPPORTED = (np.uint8, np.uint16, np.float32)


def _check(darr):
    import dask.array as da

    if not isinstance(darr, da.Array):
        raise TypeError(f"darr: expected a dask.array.Array, got {type(darr).__name__}")
    if darr.ndim not in (3, 4):
        raise ValueError(
            f"darr: expected a 3-D (T, H, W) or 4-D (T, H, W, C) array, got {darr.ndim} dimension(s)"
        )
    if darr.dtype.type not in _SUPPORTED:
        raise TypeError(f"darr: dtype {darr.dtype} is not supported (uint8, uint16 or float32)")


def _block(b):
    # a chunk sent between processes may arrive unaligned or strided: blitz lends
    # aligned C-contiguous memory only, so such a chunk is copied once here
    if b.flags.c_contiguous and b.flags.aligned:
        return b
    return np.array(b, order="C", copy=True)


def _partial(b, op):
    """(n, mean, m2) of one chunk for mean/sum/std; the reduced image for min/max."""
    b = _block(b)
    if op in ("min", "max"):
        return _blitz.reduce(b, op)
    if b.dtype == np.float32:
        n = np.count_nonzero(~np.isnan(b), axis=0).astype(np.float64)
    else:
        n = np.full(b.shape[1:], b.shape[0], dtype=np.float64)
    mean = _blitz.reduce(b, "mean").astype(np.float64)
    if op == "std":
        std = _blitz.reduce(b, "std").astype(np.float64)
        m2 = n * std * std
    else:
        m2 = None
    mean = np.where(n > 0, mean, 0.0)
    return n, mean, m2


def _merge(a, b, op):
    if op == "min":
        return np.fmin(a, b)
    if op == "max":
        return np.fmax(a, b)
    na, ma, m2a = a
    nb, mb, m2b = b
    n = na + nb
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n > 0, nb / np.where(n > 0, n, 1), 0.0)
        d = mb - ma
        mean = ma + d * w
        m2 = None if m2a is None else m2a + m2b + d * d * na * w
    return n, mean, m2


def _finish(p, op):
    if op in ("min", "max"):
        return np.asarray(p, dtype=np.float32)
    n, mean, m2 = p
    with np.errstate(invalid="ignore", divide="ignore"):
        if op == "mean":
            r = np.where(n > 0, mean, np.nan)
        elif op == "sum":
            r = mean * n
        else:
            r = np.where(n > 0, np.sqrt(np.maximum(m2, 0) / np.where(n > 0, n, 1)), np.nan)
    return r.astype(np.float32)


def _tree(items, merge):
    while len(items) > 1:
        items = [merge(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


def reduce(darr, op, frames=None):
    """The temporal reduce ``op`` (mean, sum, min, max, std, median) of a (T, H, W[, C])
    dask array over frames ``frames=(a, b)`` (inclusive; default all): a lazy
    (H, W[, C]) float32 dask array."""
    import dask
    import dask.array as da

    _check(darr)
    if frames is not None:
        a, b = frames
        if not 0 <= a <= b < darr.shape[0]:
            raise ValueError(
                f"frames: frame range {a}..={b} is outside the stack's {darr.shape[0]} frames"
            )
        darr = darr[a : b + 1]
    if op == "median":
        whole = darr.rechunk({0: -1})
        return whole.map_blocks(
            lambda blk: _blitz.reduce(_block(blk), "median"),
            drop_axis=0,
            dtype=np.float32,
        )
    if op not in ("mean", "sum", "min", "max", "std"):
        raise ValueError(f"op: unknown reduce op '{op}' (mean, max, min, std, median, sum)")
    blocks = darr.to_delayed()  # (nt, ny, nx[, nc]) of delayed chunks
    partial = dask.delayed(_partial, pure=True)
    merge = dask.delayed(_merge, pure=True)
    finish = dask.delayed(_finish, pure=True)
    out_chunks = darr.chunks[1:]
    spatial = np.ndindex(*blocks.shape[1:])
    rows = {}
    for idx in spatial:
        column = [partial(blocks[(t,) + idx], op) for t in range(blocks.shape[0])]
        merged = _tree(column, lambda x, y: merge(x, y, op))
        shape = tuple(out_chunks[k][i] for k, i in enumerate(idx))
        rows[idx] = da.from_delayed(finish(merged, op), shape=shape, dtype=np.float32)
    nested = _nest(rows, blocks.shape[1:])
    return da.block(nested)


def _nest(cells, shape, prefix=()):
    if len(prefix) == len(shape):
        return cells[prefix]
    return [_nest(cells, shape, prefix + (i,)) for i in range(shape[len(prefix)])]


def _spec(arg, text):
    """(op, a, b) of a range reference ``range:OP:A:B``; other forms need every frame of
    the array at once, which a chunked array does not give."""
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != 4 or parts[0].strip().lower() != "range":
        raise ValueError(
            f"{arg} '{text}': blitz.dask normalizes by a range reference range:OP:A:B "
            "(a sliding window needs blitz.normalize on a loaded stack)"
        )
    try:
        a, b = int(parts[2]), int(parts[3])
    except ValueError:
        raise ValueError(f"{arg} '{text}': A and B must be whole numbers") from None
    return parts[1].strip().lower(), a, b


def normalize(darr, subtract=None, divide=None, amount_sub=1.0, amount_div=1.0):
    """``blitz.normalize`` of a (T, H, W[, C]) dask array by range references
    (``range:OP:A:B``): the references are reduced with :func:`reduce`, then every chunk
    is normalized by blitz against its part of them. A lazy float32 array of the same
    shape and chunks."""
    import dask.array as da

    _check(darr)
    if subtract is None and divide is None:
        raise ValueError("nothing to do: give subtract and/or divide")
    refs = []
    for arg, text in (("subtract", subtract), ("divide", divide)):
        if text is None:
            refs.append(None)
            continue
        op, a, b = _spec(arg, text)
        refs.append(reduce(darr, op, frames=(a, b)).rechunk(darr.chunks[1:]))
    sub, div = refs

    def chunk(blk, *ref):
        ref = list(ref)
        s = ref.pop(0)[0] if sub is not None else None
        d = ref.pop(0)[0] if div is not None else None
        return _blitz.normalize(
            _block(blk),
            subtract=s,
            divide=d,
            amount_sub=amount_sub,
            amount_div=amount_div,
        )

    args = [r[None] for r in refs if r is not None]
    return da.map_blocks(chunk, darr, *args, dtype=np.float32)
