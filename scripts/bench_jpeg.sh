#!/usr/bin/env bash
# JPEG decoding at the decoder's limit (issue 11): zune-jpeg (blitz's decoder, through
# the real load path, one rayon thread) against libjpeg-turbo (OpenCV's cv2.imdecode of
# the same bytes, one thread), colour and gray, on the 600 benchmark frames of
# 1280 x 720; then the whole folder load, blitz (every core) against ../shared/peers/
# load_peer.py (a process pool of OpenCV), with wall time and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bench_data.sh >/dev/null
cargo build --release --locked -q --bin blitz
B=./target/release/blitz
if [ ! -x /tmp/peers/bin/python ]; then
  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -q numpy numba opencv-python-headless
fi
PY=/tmp/peers/bin/python
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cat bench-data/jpg/* >/dev/null   # the same warm page cache for every run
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -r)"
echo "== one thread, ms per frame (best of 3 passes over the 600 frames)"
for mode in colour gray; do
  flag=""; [ "$mode" = gray ] && flag="--gray"
  best=""
  for _ in 1 2 3; do
    s=$(RAYON_NUM_THREADS=1 $B info bench-data/jpg --full $flag --storage ram 2>&1 |
      sed -n 's/^load *\([0-9.]*\) s.*/\1/p' | head -1)
    best=$(printf '%s\n%s\n' "$best" "$s" | grep . | sort -g | head -1)
  done
  awk -v m="$mode" -v s="$best" 'BEGIN { printf "zune-jpeg (blitz load, 1 thread) %-6s %6.2f ms/frame\n", m, s * 1000 / 600 }'
done
$PY - <<'PY'
import glob, time
import cv2
import numpy as np
cv2.setNumThreads(1)
files = sorted(glob.glob("bench-data/jpg/*.jpg"))
data = [np.frombuffer(open(f, "rb").read(), np.uint8) for f in files]
for mode, flag in [("colour", cv2.IMREAD_COLOR), ("gray", cv2.IMREAD_GRAYSCALE)]:
    best = min(
        (lambda t0: ([cv2.imdecode(d, flag) for d in data], time.perf_counter() - t0)[1])(time.perf_counter())
        for _ in range(3)
    )
    print(f"libjpeg-turbo (cv2.imdecode {cv2.__version__}, 1 thread) {mode:6s} {best * 1000 / len(data):6.2f} ms/frame")
PY
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o /tmp/blitz-bench-time "$@" >/tmp/blitz-bench-out 2>&1 || { cat /tmp/blitz-bench-out; exit 1; }
  read -r wall rss </tmp/blitz-bench-time
  printf "%-34s wall %7.2f s   peak RSS %7.0f MB\n" "$name" "$wall" "$((rss / 1024))"
}
echo "== whole folder, every core (colour final 1659 MB, gray 553 MB)"
run "peer load_peer.py colour" $PY ../shared/peers/load_peer.py bench-data/jpg
run "blitz colour" $B info bench-data/jpg --full --storage ram
run "peer load_peer.py gray" $PY ../shared/peers/load_peer.py bench-data/jpg gray
run "blitz gray" $B info bench-data/jpg --full --gray --storage ram
