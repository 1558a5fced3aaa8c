#!/usr/bin/env bash
# Out-of-core benchmark (issue: stacks bigger than RAM). Needs root (memory cgroup, drop
# of the page cache). Every timed command runs inside a memory cgroup smaller than its
# file (page cache included) with a cold page cache, like ../shared/peers/outofcore_peer.sh,
# and reports wall time, bytes read from disk (rusage inblock) and peak RSS.
#
#   scripts/bench_outofcore.sh [FRAMES] [LIMIT_MIB]      # default 3072 frames (3 GiB), 1024 MiB
#
# Cases, one run on the same machine:
#   - sequential read of the file (dd), the ceiling;
#   - the numpy peer (chunked reduce over np.load(mmap_mode='r')): mean, max, std;
#   - blitz reduce --engine cpu: mean, max, min, std, sum, median;
#   - blitz normalize --subtract sliding:mean:10:0 (output streamed to a .npy) and
#     blitz roi --rect (the ROI series);
#   - a video and an image folder larger than --max-ram, loaded with --storage disk
#     (against --storage ram with room), then opened again from the cache.
# Data lives in bench-data/ (ignored by git). Release build and numpy are set up here.
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=${1:-3072}
LIMIT=${2:-1024}
D=bench-data
mkdir -p "$D"
[ "$(id -u)" -eq 0 ] || { echo "bench_outofcore: needs root (cgroup, drop_caches)" >&2; exit 2; }

[ -x "$D/venv/bin/python" ] || { python3 -m venv "$D/venv" && "$D/venv/bin/pip" install -q numpy; }
PY="$D/venv/bin/python"
cargo build --release --locked --bin blitz >&2
B="$PWD/target/release/blitz"
F="$D/ooc-$FRAMES.npy"
OUT="$D/ooc-out"
mkdir -p "$OUT"
if [ ! -f "$F" ]; then
  echo "writing $F ($FRAMES x 1024 x 1024 u8)" >&2
  PY=$PY bash ../shared/peers/outofcore_peer.sh make "$F" "$FRAMES"
fi
FILE_BYTES=$(stat -c %s "$F")

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# cgroup v1 or v2, as the peer script does
cg_dir() {
  if [ -d /sys/fs/cgroup/memory ]; then echo /sys/fs/cgroup/memory/blitz-bench-$$
  else echo /sys/fs/cgroup/blitz-bench-$$; fi
}
CG=$(cg_dir)
mkdir -p "$CG"
if [ -f "$CG/memory.limit_in_bytes" ] || [ -d /sys/fs/cgroup/memory ]; then
  echo $((LIMIT * 1024 * 1024)) > "$CG/memory.limit_in_bytes"
  FAILCNT="$CG/memory.failcnt"
else
  echo $((LIMIT * 1024 * 1024)) > "$CG/memory.max"
  FAILCNT=""
fi
trap 'rmdir "$CG" 2>/dev/null || true' EXIT

# measure NAME -- COMMAND...: cold cache, inside the cgroup; prints one row
# "NAME seconds read_GB read/file peak_RSS_MB rc"
measure() {
  local name=$1; shift 2
  cold
  "$PY" - "$CG" "$name" "$FILE_BYTES" "$@" <<'PY'
import os, sys, time, subprocess
cg, name, file_bytes, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
t0 = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     preexec_fn=lambda: open(os.path.join(cg, "cgroup.procs"), "w").write(str(os.getpid())))
_, status, ru = os.wait4(p.pid, 0)
dt = time.perf_counter() - t0
err = p.stderr.read().decode(errors="replace").strip().splitlines()
rc = os.waitstatus_to_exitcode(status)
rd = ru.ru_inblock * 512
print(f"{name:<34} {dt:8.2f} s  read {rd/1e9:6.2f} GB ({rd/file_bytes:5.2f}x file)  peak RSS {ru.ru_maxrss/1024:7.0f} MB  rc {rc}"
      + (f"  [{err[-1][:120]}]" if rc != 0 and err else ""), flush=True)
PY
}

echo "# $(date -u +%F) $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB RAM; file $F ($((FILE_BYTES >> 20)) MiB), cgroup limit $LIMIT MiB, cold cache"
cold; s=$(date +%s.%N); dd if="$F" of=/dev/null bs=16M status=none; e=$(date +%s.%N)
awk -v s="$s" -v e="$e" -v b="$FILE_BYTES" 'BEGIN {printf "%-34s %8.2f s  (%.2f GB/s)\n", "sequential read (dd)", e - s, b / (e - s) / 1e9}'

for op in mean max std; do
  PY=$PY bash ../shared/peers/outofcore_peer.sh numpy "$LIMIT" "$F" "$op" | sed "s/^/numpy peer: /"
done

for op in mean max min std sum median; do
  measure "blitz reduce $op" -- "$B" reduce "$F" --op "$op" --engine cpu -o "$OUT/$op.npy"
done
measure "blitz roi --rect (series)" -- "$B" roi "$F" --rect 100,100,400,300 --engine cpu -o "$OUT/roi.csv"
if [ "${SKIP_NORMALIZE:-0}" != 1 ]; then
  measure "blitz normalize sliding:mean:10:0" -- "$B" normalize "$F" --subtract sliding:mean:10:0 --engine cpu -o "$OUT/norm.npy"
  ls -l "$OUT/norm.npy" 2>/dev/null | awk '{printf "  normalized output %.2f GB\n", $5 / 1e9}'
  rm -f "$OUT/norm.npy"
fi

# sources bigger than --max-ram: decoded to disk once, then mapped
VID="$D/ooc-video.mkv"; DIR="$D/ooc-frames"
[ -f "$VID" ] || ffmpeg -v error -f lavfi -i "testsrc=size=1024x1024:rate=100" -frames:v 800 -c:v ffv1 -pix_fmt gray "$VID"
[ -d "$DIR" ] || { mkdir -p "$DIR"; ffmpeg -v error -f lavfi -i "testsrc=size=1024x1024:rate=100" -frames:v 800 -pix_fmt gray "$DIR/f%04d.png"; }
CACHE="$D/ooc-cache"
for src in "$VID" "$DIR"; do
  name=$(basename "$src")
  rm -rf "$CACHE"
  # decode to RAM (room for it, outside the small cgroup) and to disk, one frame reduced
  cold; s=$(date +%s.%N)
  "$B" reduce "$src" --op max --from 0 --to 0 --storage ram --max-ram 4 --engine cpu -o "$OUT/one.npy" >/dev/null
  e=$(date +%s.%N); awk -v s="$s" -v e="$e" -v n="$name" 'BEGIN {printf "%-34s %8.2f s\n", n " decode to RAM", e - s}'
  cold; s=$(date +%s.%N)
  "$B" reduce "$src" --op max --from 0 --to 0 --storage disk --max-ram 0.25 --cache-dir "$CACHE" --engine cpu -o "$OUT/one.npy" >/dev/null
  e=$(date +%s.%N); awk -v s="$s" -v e="$e" -v n="$name" 'BEGIN {printf "%-34s %8.2f s\n", n " decode to disk (--storage disk)", e - s}'
  "$B" info "$src" --max-ram 0.25 --cache-dir "$CACHE" | grep -E "^(frames|storage)" | sed 's/^/  /'
  cold; s=$(date +%s.%N)
  "$B" reduce "$src" --op max --from 0 --to 0 --max-ram 0.25 --cache-dir "$CACHE" --engine cpu -o "$OUT/one.npy" >/dev/null
  e=$(date +%s.%N); awk -v s="$s" -v e="$e" -v n="$name" 'BEGIN {printf "%-34s %8.2f s\n", n " open again from the cache", e - s}'
done
rm -rf "$CACHE"
