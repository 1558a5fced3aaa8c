#!/usr/bin/env bash
# The Python package's benchmarks (docs/benchmarks.md, "Python package"): builds it and
# the CLI in release, installs the peers (tifffile, imageio with its ffmpeg plugin, numba)
# into .venv, then runs python/bench/bench.py; its JSON goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=release bash scripts/python.sh install
.venv/bin/python -m pip install -q --disable-pip-version-check tifffile imageio imageio-ffmpeg numba
cargo build --release --locked --bin blitz
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
.venv/bin/python python/bench/bench.py --blitz target/release/blitz "$@"
