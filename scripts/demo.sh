#!/usr/bin/env bash
# Sets up the machine, builds blitz in release mode and opens the viewer on the built-in
# demo stack. Without a display (a headless machine), the viewer runs under Xvfb for a
# few frames and writes a screenshot of its window instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec ./target/release/blitz view demo "$@"
fi
out="${BLITZ_DEMO_SCREENSHOT:-target/demo-window.png}"
echo "no display: running the viewer under Xvfb and writing a screenshot of its window"
xvfb-run -a -s "-screen 0 1400x900x24" \
    ./target/release/blitz view demo --exit-after-frames 10 --screenshot "$out" "$@"
echo "open $out to see the window (on a desktop, this script opens the window itself)"
