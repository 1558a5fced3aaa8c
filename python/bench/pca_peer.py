"""What a numpy user runs instead of `blitz pca`: the first K principal components of
the frames of an .npy stack, timed in one run on the same machine.

  python python/bench/pca_peer.py STACK.npy [K]

Routes: numpy's Gram matrix (the frames as a float32 (T, N) array, the mean frame
removed, X Xᵀ by BLAS, eigh, components Vᵀ X / σ) and, when scikit-learn is installed,
sklearn.decomposition.PCA with its randomized solver. Each prints its seconds (load and
conversion included, as a user would pay them) and the explained variance of the first
K components, to compare with `blitz pca STACK.npy -k K`.
"""

import sys
import time

import numpy as np


def frames(path):
    a = np.load(path, mmap_mode="r")
    return a.reshape(a.shape[0], -1)


def gram(path, k):
    t0 = time.perf_counter()
    x = frames(path).astype(np.float32)
    x -= x.mean(axis=0, dtype=np.float64).astype(np.float32)
    g = x @ x.T
    w, v = np.linalg.eigh(g.astype(np.float64))
    order = np.argsort(w)[::-1][:k]
    sigma = np.sqrt(np.maximum(w[order], 0))
    comps = (v[:, order].T.astype(np.float32) @ x) / sigma[:, None].astype(np.float32)
    var = w[order] / (x.shape[0] - 1)
    secs = time.perf_counter() - t0
    return secs, var, comps


def sklearn_pca(path, k):
    try:
        from sklearn.decomposition import PCA
    except ImportError:
        return None
    t0 = time.perf_counter()
    x = frames(path).astype(np.float32)
    p = PCA(n_components=k, svd_solver="randomized", random_state=0).fit(x)
    return time.perf_counter() - t0, p.explained_variance_


def main():
    path = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    secs, var, _ = gram(path, k)
    print(f"numpy Gram route: {secs:.2f} s, variance {np.array2string(var, precision=6)}")
    r = sklearn_pca(path, k)
    if r is None:
        print("sklearn: not installed (pip install scikit-learn)")
    else:
        print(f"sklearn PCA randomized: {r[0]:.2f} s, variance {np.array2string(r[1], precision=6)}")


if __name__ == "__main__":
    main()
