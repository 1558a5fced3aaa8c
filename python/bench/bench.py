"""Benchmarks of the Python package, one run each (see docs/benchmarks.md):

1. blitz.reduce against numpy (and numba when installed) on one 200 x 1024 x 1024 u8
   array: best of REPEAT after a warm-up, GB/s of input;
2. blitz.load against tifffile / imageio / pims on the same image folder, TIFF stack and video;
3. blitz.dask.reduce against dask.array's reduction on a LocalCluster (2 workers).

Run by scripts/bench_python.sh, which builds the package and the CLI in release first.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

import blitz

REPEAT = 5


def best(f, repeat=REPEAT):
    f()  # warm-up: first touch of the output, the engine's setup
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def numba_kernels():
    try:
        import numba
    except ImportError:
        return None

    # rows in parallel, frames in order, a row of accumulators in cache: the loop order
    # that streams memory (frames innermost would stride by a whole frame)
    @numba.njit(parallel=True, fastmath=True, cache=False)
    def mean(a):
        t, h, w = a.shape
        out = np.zeros((h, w), np.float32)
        for y in numba.prange(h):
            acc = np.zeros(w, np.uint32)
            for k in range(t):
                for x in range(w):
                    acc[x] += a[k, y, x]
            for x in range(w):
                out[y, x] = acc[x] / t
        return out

    @numba.njit(parallel=True, cache=False)
    def amax(a):
        t, h, w = a.shape
        out = a[0].copy()
        for y in numba.prange(h):
            for k in range(1, t):
                for x in range(w):
                    if a[k, y, x] > out[y, x]:
                        out[y, x] = a[k, y, x]
        return out

    return {"mean": mean, "max": amax}


def bench_reduce(frames, h, w, engine):
    a = np.random.default_rng(0).integers(0, 256, (frames, h, w), dtype=np.uint8)
    gb = a.nbytes / 1e9
    nb = numba_kernels()
    rows = []
    for op in ["mean", "max", "min", "std", "median", "sum"]:
        tb = best(lambda: blitz.reduce(a, op, engine=engine))
        npf = {
            "mean": lambda: a.mean(0),
            "max": lambda: a.max(0),
            "min": lambda: a.min(0),
            "std": lambda: a.std(0),
            "sum": lambda: a.sum(0, dtype=np.uint64),
        }.get(op)
        if op == "median":
            # numpy's median of the whole stack takes minutes: 64 frames, scaled
            sub = a[:64]
            tn = best(lambda: np.median(sub, 0), repeat=1) * frames / 64
        else:
            tn = best(npf, repeat=2)
        tnb = best(lambda: nb[op](a), repeat=3) if nb and op in nb else None
        rows.append({"op": op, "blitz_gbs": gb / tb, "numpy_gbs": gb / tn,
                     "numba_gbs": gb / tnb if tnb else None, "blitz_s": tb})
    return rows


def cli_bench(exe, frames, h, w, engine):
    """`blitz bench`'s own figures (GB/s per op) on the same size."""
    r = subprocess.run([exe, "bench", "--frames", str(frames), "--height", str(h), "--width",
                        str(w), "--dtype", "u8", "--engine", engine, "--json"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def make_sources(folder, frames, h, w):
    import imageio.v3 as iio
    import tifffile

    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (h, w), dtype=np.uint8)
    data = np.stack([np.roll(base, k, axis=1) for k in range(frames)])
    os.makedirs(os.path.join(folder, "png"))
    for k in range(frames):
        iio.imwrite(os.path.join(folder, "png", f"f{k:04d}.png"), data[k])
    tifffile.imwrite(os.path.join(folder, "stack.tif"), data)
    video = os.path.join(folder, "video.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={w}x{h}:rate=25", "-frames:v", str(frames),
                    "-pix_fmt", "yuv420p", "-g", "60", video], check=True)
    return data


def bench_load(folder, frames):
    import glob

    import imageio.v3 as iio
    import tifffile

    png = os.path.join(folder, "png")
    tif = os.path.join(folder, "stack.tif")
    video = os.path.join(folder, "video.mp4")
    files = sorted(glob.glob(os.path.join(png, "*.png")))
    rows = []

    def row(what, peer, fb, fp):
        tb, tp = best(fb, 3), best(fp, 3)
        rows.append({"what": what, "peer": peer, "blitz_s": tb, "peer_s": tp})

    row("PNG folder", "imageio.v3.imread per file + np.stack",
        lambda: np.asarray(blitz.load(png)), lambda: np.stack([iio.imread(f) for f in files]))
    row("TIFF stack", "tifffile.imread", lambda: np.asarray(blitz.load(tif)),
        lambda: tifffile.imread(tif))
    # blitz maps such a stack: reading every sample once is the fair comparison
    row("TIFF stack, every sample read (max)", "tifffile.imread(...).max()",
        lambda: np.asarray(blitz.load(tif)).max(), lambda: tifffile.imread(tif).max())
    row("H.264 video, gray", "imageio.v3.imread (ffmpeg plugin, RGB), one channel kept",
        lambda: np.asarray(blitz.load(video, gray=True)),
        lambda: iio.imread(video, plugin="FFMPEG")[..., 0])
    row("H.264 video, RGB", "imageio.v3.imread (ffmpeg plugin)",
        lambda: np.asarray(blitz.load(video)), lambda: iio.imread(video, plugin="FFMPEG"))
    try:
        import pims
    except ImportError:
        return rows
    row("PNG folder", "pims.ImageSequence + np.stack",
        lambda: np.asarray(blitz.load(png)),
        lambda: np.stack(list(pims.ImageSequence(os.path.join(png, "*.png")))))
    row("TIFF stack", "pims.open (TiffStack) + np.stack", lambda: np.asarray(blitz.load(tif)),
        lambda: np.stack(list(pims.open(tif))))
    return rows


def bench_dask(frames, h, w):
    import dask.array as da
    import distributed

    import blitz.dask as bd

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    rows = []
    try:
        x = da.random.randint(0, 256, (frames, h, w), chunks=(50, 512, 512)).astype(np.uint8)
        x = x.persist()
        distributed.wait(x)
        for op in ["mean", "std", "max", "median"]:
            ours = lambda: bd.reduce(x, op).compute()  # noqa: E731
            theirs = {"mean": lambda: x.mean(0).compute(), "std": lambda: x.std(0).compute(),
                      "max": lambda: x.max(0).compute(),
                      "median": lambda: da.median(x, axis=0).compute()}[op]
            tb, td = best(ours, 3), best(theirs, 3)
            rows.append({"op": op, "blitz_dask_s": tb, "dask_array_s": td})
    finally:
        client.close()
        cluster.close()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--engine", default="cpu")
    ap.add_argument("--blitz", default=shutil.which("blitz") or "target/release/blitz")
    ap.add_argument("--only", choices=["reduce", "load", "dask"], action="append")
    a = ap.parse_args()
    only = a.only or ["reduce", "load", "dask"]
    out = {}
    if "reduce" in only:
        out["reduce"] = bench_reduce(a.frames, a.size, a.size, a.engine)
        out["cli_bench"] = cli_bench(a.blitz, a.frames, a.size, a.size, a.engine)
    if "load" in only:
        with tempfile.TemporaryDirectory() as tmp:
            make_sources(tmp, 200, 480, 640)
            out["load"] = bench_load(tmp, 200)
    if "dask" in only:
        out["dask"] = bench_dask(a.frames, a.size, a.size)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
