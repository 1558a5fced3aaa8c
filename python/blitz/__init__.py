"""blitz from Python: load image stacks and videos, reduce, normalize and analyse them
with blitz's engine (CPU or GPU), without copying numpy arrays in either direction.

    import numpy as np, blitz
    s = blitz.load("recording.mp4", gray=True)   # blitz.Stack; np.asarray(s) is a view
    bg = blitz.reduce(s, "mean", frames=(0, 99))  # (H, W) float32
    y = blitz.normalize(s, subtract="sliding:mean:10:0")

Every operation takes a blitz.Stack or a C-contiguous numpy array of uint8, uint16 or
float32 shaped (T, H, W) or (T, H, W, C). Long work releases the GIL, takes an optional
``progress(done, total)`` callback and stops on Ctrl+C. ``blitz.dask`` runs the same
kernels per chunk of a dask array.
"""

from ._blitz import (
    BlitzError,
    Stack,
    gpu_info,
    histogram,
    kymograph,
    load,
    normalize,
    profile,
    reduce,
    roi,
)
from ._view import view

__all__ = [
    "BlitzError",
    "Stack",
    "gpu_info",
    "histogram",
    "kymograph",
    "load",
    "normalize",
    "profile",
    "reduce",
    "roi",
    "view",
]
