#!/usr/bin/env bash
# The GPU path measured on a machine with a GPU, in one prepared run of a few minutes:
# the adapter, every reduce resident and with transfer against the device's own copy
# bandwidth and the host-to-device upload of the same bytes (the ceilings), the GPU
# normalization (range and sliding mean) and the ROI series, the viewer's frame change
# (1080p and 4K, u8 and u16) and its interactive analysis on a 1 GB stack. Every result
# is JSON, gathered into OUT_DIR/gpu_check.json; the console gets the same as tables.
#
#   bash scripts/gpu_check.sh [OUT_DIR]          (default: $OUT, else target/gpu-check)
#   bash scripts/gpu_check.sh --pack FILE.tar.xz (here: a release build and the shared
#                                                 libraries it needs, to carry there)
#
# Environment:
#   BLITZ_BIN        a blitz to run (default: the one in GPU_CHECK_PACK, else
#                    target/release/blitz, built with cargo if missing)
#   GPU_CHECK_PACK   an archive made by --pack (default .gpu-pack.tar.xz)
#   GPU_CHECK_SIDE   frame height and width (default 1024)
#   GPU_CHECK_U8     frames of the u8 stack (default 8192: 8 GiB at 1024 x 1024)
#   GPU_CHECK_U16    frames of the u16 stack (default 1024: 2 GiB)
#   GPU_CHECK_INTERACTIVE  frames of the interactive stack (default 1000: 1 GB u8)
#   GPU_CHECK_REPEAT, GPU_CHECK_CHANGES   timed runs per row (2), frame changes (30)
# A lavapipe trial on a small scale:
#   GPU_CHECK_SIDE=256 GPU_CHECK_U8=64 GPU_CHECK_U16=32 GPU_CHECK_INTERACTIVE=32 \
#     bash scripts/gpu_check.sh target/gpu-check-trial
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--pack" ]; then
    # a release blitz and every shared library it needs outside the C runtime (FFmpeg's
    # and its codecs', which a bare GPU machine lacks), in one xz archive to carry there
    pack=${2:?usage: gpu_check.sh --pack FILE.tar.xz}
    cargo build --release --locked --bin blitz
    dir=$(mktemp -d)
    mkdir -p "$dir/lib"
    cp target/release/blitz "$dir/blitz"
    strip "$dir/blitz" 2>/dev/null || true
    ldd target/release/blitz | awk '/=> \// {print $3}' |
        grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libgcc_s)\.so' |
        while read -r lib; do cp -L "$lib" "$dir/lib/"; done
    tar -C "$dir" -cJf "$pack" blitz lib
    rm -rf "$dir"
    ls -la "$pack"
    exit 0
fi

out=${1:-${OUT:-target/gpu-check}}
mkdir -p "$out"
side=${GPU_CHECK_SIDE:-1024}
u8_frames=${GPU_CHECK_U8:-8192}
u16_frames=${GPU_CHECK_U16:-1024}
inter_frames=${GPU_CHECK_INTERACTIVE:-1000}
repeat=${GPU_CHECK_REPEAT:-2}
changes=${GPU_CHECK_CHANGES:-30}

# the Vulkan loader: Debian packages carried beside the repository (.gl/*.deb), unpacked
# when the machine has none, and NVIDIA's driver manifest where it lives on such machines
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
    if compgen -G ".gl/*.deb" >/dev/null; then
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    else
        echo "gpu_check: no Vulkan loader (libvulkan.so.1) and no .gl/*.deb to unpack" >&2
        exit 1
    fi
fi
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv_icd" ]; then
    export VK_DRIVER_FILES=$nv_icd
fi

bin=${BLITZ_BIN:-}
if [ -z "$bin" ] && [ -f "${GPU_CHECK_PACK:-.gpu-pack.tar.xz}" ]; then
    mkdir -p /tmp/blitz-pack
    tar -C /tmp/blitz-pack -xJf "${GPU_CHECK_PACK:-.gpu-pack.tar.xz}"
    bin=/tmp/blitz-pack/blitz
fi
if [ -z "$bin" ]; then
    [ -x target/release/blitz ] || cargo build --release --locked --bin blitz
    bin=target/release/blitz
fi
pack_lib="$(dirname "$bin")/lib"
if [ -d "$pack_lib" ]; then
    export LD_LIBRARY_PATH="$pack_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

log="$out/gpu_check.log"
: >"$log"
step() {
    # step NAME ARGS...: the JSON of `blitz ARGS --json` into OUT_DIR/NAME.json, timed
    local name=$1
    shift
    local t0=$SECONDS
    echo "== $name: blitz $*" | tee -a "$log"
    if "$bin" "$@" --json >"$out/$name.json" 2>>"$log"; then
        echo "   done in $((SECONDS - t0)) s" | tee -a "$log"
    else
        echo "   FAILED (rc $?) after $((SECONDS - t0)) s; see $log" | tee -a "$log"
        echo null >"$out/$name.json"
    fi
}

step gpu-info gpu-info
cat "$out/gpu-info.json"
step bench-u8 bench --skip-cpu --engine gpu --frames "$u8_frames" --height "$side" \
    --width "$side" --dtype u8 --repeat "$repeat"
step bench-u16 bench --skip-cpu --engine gpu --frames "$u16_frames" --height "$side" \
    --width "$side" --dtype u16 --repeat "$repeat"
step display bench --display --changes "$changes"
step interactive bench --interactive --engine gpu --frames "$inter_frames" \
    --height "$side" --width "$side" --changes 10

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
names = ["gpu-info", "bench-u8", "bench-u16", "display", "interactive"]
doc = {n: json.load(open(os.path.join(out, n + ".json"))) for n in names}
json.dump(doc, open(os.path.join(out, "gpu_check.json"), "w"), indent=1)

def rows(name):
    return doc[name] or []

for name in ["bench-u8", "bench-u16"]:
    r = {x["op"]: x for x in rows(name)}
    copy = r.get("ceiling_copy_d2d")
    up = r.get("ceiling_upload_h2d")
    print(f"\n{name}: resident GB/s against the copy ceiling, with transfer against the upload")
    for op, x in r.items():
        line = f"  {op:<22} {x['gbps']:9.2f} GB/s"
        if op.startswith("ceiling"):
            print(line + f"  ({x.get('bytes', 0) / 1e9:.2f} GB moved, {x.get('timing')})")
            continue
        if copy and x.get("seconds"):
            # a reduce reads its bytes once; the copy's GB/s counts read + written
            line += f"  {x['gbps'] / copy['gbps'] * 100:5.1f} % of copy"
        if x.get("seconds_with_transfer"):
            # the stack's bytes over the time with upload, compute and readback
            nbytes = x["gbps"] * 1e9 * (x.get("seconds") or x["seconds_with_transfer"])
            rate = nbytes / x["seconds_with_transfer"] / 1e9
            line += f"  with transfer {rate:7.2f} GB/s"
            if up:
                line += f" = {rate / up['gbps'] * 100:5.1f} % of upload"
        print(line)
for x in rows("display"):
    print(f"display {x['frame']:<16} {x['dtype']:<4} median {x['ms_median']:.2f} ms")
for x in rows("interactive"):
    print(f"interactive {x['change']:<44} {x['engine']} {x['ms_median']:.2f} ms")
print(f"\nall results: {os.path.join(out, 'gpu_check.json')}")
PY
