#!/usr/bin/env bash
# Load benchmarks against the Python peer on the same machine, in one run:
# image folder (colour, gray), 1080p H.264 video, the video seek rule, and .npy info.
# Prints one line per measurement: name, wall seconds, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bench_data.sh >/dev/null
cargo build --release --locked -q
B=./target/release/blitz
PEERS=../shared/peers
if [ ! -x /tmp/peers/bin/python ]; then
  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -q numpy numba opencv-python-headless
fi
PY=/tmp/peers/bin/python

# run NAME CMD...: wall seconds and peak RSS of one command
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o /tmp/blitz-bench-time "$@" >/tmp/blitz-bench-out 2>&1 || { cat /tmp/blitz-bench-out; exit 1; }
  read -r wall rss </tmp/blitz-bench-time
  printf "%-34s wall %7.2f s   peak RSS %7.0f MB\n" "$name" "$wall" "$((rss / 1024))"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -r)"
echo "== image folder: 600 JPEG 1280x720 (colour final 1659 MB, gray 553 MB)"
cat bench-data/jpg/* >/dev/null   # same warm page cache for both
run "peer load_peer.py colour" $PY $PEERS/load_peer.py bench-data/jpg
run "blitz colour" $B info bench-data/jpg --full
run "peer load_peer.py gray" $PY $PEERS/load_peer.py bench-data/jpg gray
run "blitz gray" $B info bench-data/jpg --full --gray

echo "== video: 600 frames 1080p H.264 (RGB final 3732 MB, gray 1244 MB)"
run "ffmpeg -threads 1 -f null" ffmpeg -loglevel error -threads 1 -i bench-data/v1080.mp4 -f null -
run "blitz video rgb" $B info bench-data/v1080.mp4 --full
run "blitz video gray" $B info bench-data/v1080.mp4 --full --gray

echo "== video seek rule (GOP 60): --step K, decode-through vs seek"
for k in 5 15 30 60 120 300; do
  run "step $k --seek never" $B info bench-data/v1080.mp4 --full --gray --step $k --seek never
  run "step $k --seek always" $B info bench-data/v1080.mp4 --full --gray --step $k --seek always
  run "step $k --seek auto" $B info bench-data/v1080.mp4 --full --gray --step $k
done

echo "== .npy 2 GB (2048 x 1024 x 1024 u8)"
if [ ! -f bench-data/big.npy ]; then
  $PY -c "
import numpy as np
a = np.lib.format.open_memmap('bench-data/big.npy', mode='w+', dtype=np.uint8, shape=(2048, 1024, 1024))
for t in range(0, 2048, 64):
    a[t:t+64] = (np.arange(64 * 1024 * 1024, dtype=np.uint32).reshape(64, 1024, 1024) * 7 + t).astype(np.uint8)
a.flush()
"
fi
run "blitz info (header only)" $B info bench-data/big.npy
run "blitz info --full (mapped)" $B info bench-data/big.npy --full
