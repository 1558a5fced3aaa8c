#!/usr/bin/env bash
# Builds the Python package (python/) into the virtual environment .venv and runs its
# tests with pytest. PROFILE=release builds optimized (for benchmarks).
# Usage: bash scripts/python.sh [test|install]   (default: test)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# what building and testing need, from PyPI (only what is missing is downloaded);
# dask with its distributed extra, so that the two come in versions made for each other
# (distributed pins dask exactly; asked for apart, a new dask can pull a 2021 distributed)
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.9,<2" numpy pytest "dask[array,distributed]" matplotlib
release=()
[ "${PROFILE:-dev}" = release ] && release=(--release)
(cd python && VIRTUAL_ENV="$PWD/../$venv" "../$venv/bin/maturin" develop -q "${release[@]}")
if [ "${1:-test}" = test ]; then
  # the examples run against the debug binary the cargo build left in target/
  export BLITZ_BIN="${BLITZ_BIN:-$PWD/target/debug/blitz}"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
fi
