#!/usr/bin/env bash
# CPU engine against the peers on the same machine, in one run: `blitz bench` and
# ../shared/peers/reduce_peer.py on a 200 x 1024 x 1024 u8 stack, then the peak RSS of
# `blitz reduce` on a memory-mapped .npy of that size.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
B=./target/release/blitz
if [ ! -x /tmp/peers/bin/python ]; then
  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -q numpy numba opencv-python-headless
fi
PY=/tmp/peers/bin/python
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== peers: reduce_peer.py 200 1024 1024"
$PY ../shared/peers/reduce_peer.py 200 1024 1024
echo "== blitz bench (random u8 200 x 1024 x 1024)"
$B bench --repeat 5
mkdir -p bench-data
if [ ! -f bench-data/r200.npy ]; then
  $PY -c "
import numpy as np
np.save('bench-data/r200.npy', np.random.default_rng(0).integers(0, 256, size=(200, 1024, 1024), dtype=np.uint8))"
fi
echo "== blitz reduce on a mapped .npy (file $(du -m bench-data/r200.npy | cut -f1) MB, output 4 MB)"
for op in mean median; do
  /usr/bin/time -f "reduce $op: wall %e s, peak RSS %M kB" $B reduce bench-data/r200.npy --op $op -o /tmp/blitz-reduce.npy >/dev/null
done
