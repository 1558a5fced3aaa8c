#!/usr/bin/env bash
# The Python package's benchmarks (docs/benchmarks.md, "Python package"): installs the
# package into .venv the way a user does, `pip install ./python` (an optimized build),
# with the peers (tifffile, imageio with its ffmpeg plugin, numba, dask), builds the CLI
# in release, then runs python/bench/bench.py; its JSON goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check ./python \
  tifffile imageio imageio-ffmpeg pims numba "dask[array,distributed]" >&2
cargo build --release --locked --bin blitz >&2
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
.venv/bin/python python/bench/bench.py --blitz target/release/blitz "$@"
