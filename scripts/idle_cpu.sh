#!/usr/bin/env bash
# Functional check: the viewer left alone uses (almost) no CPU. Opens `blitz view demo`
# under Xvfb, lets it load and settle, then counts the CPU time (user + system, from
# /proc/PID/stat) it uses over IDLE_SECONDS without input, and fails above BUDGET_PCT of
# one core. Usage: scripts/idle_cpu.sh [path/to/blitz]  (default target/release/blitz,
# else target/debug/blitz). Needs Xvfb (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ]; then
    if [ -x target/release/blitz ]; then bin=target/release/blitz; else bin=target/debug/blitz; fi
fi
# the demo stack is generated at start: seconds in a release build, about half a minute
# in a debug one; the measurement starts after that
case "$bin" in *debug*) settle_default=40 ;; *) settle_default=8 ;; esac
settle="${SETTLE_SECONDS:-$settle_default}"
idle="${IDLE_SECONDS:-10}"
budget="${BUDGET_PCT:-5}"
tmp="$(mktemp -d)"
trap 'kill "$xpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
# the X server runs in its own process so that the viewer's pid is the one measured
Xvfb -displayfd 3 -screen 0 1400x900x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xlog" &
xpid=$!
for _ in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.2; done
[ -s "$tmp/display" ] || { echo "idle_cpu: Xvfb did not start" >&2; exit 2; }
DISPLAY=":$(cat "$tmp/display")" "$bin" view demo >"$tmp/log" 2>&1 &
vpid=$!
trap 'kill "$vpid" 2>/dev/null || true; kill "$xpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
sleep "$settle"
kill -0 "$vpid" 2>/dev/null || { echo "idle_cpu: the viewer exited:" >&2; cat "$tmp/log" >&2; exit 2; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"
t0="$(ticks "$vpid")"
sleep "$idle"
t1="$(ticks "$vpid")"
kill "$vpid"
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$idle" -v lim="$budget" 'BEGIN {
    cpu = (b - a) / hz; pct = 100 * cpu / s;
    printf "idle_cpu: %.2f s of CPU in %d s idle = %.1f %% of one core (budget %s %%)\n", cpu, s, pct, lim;
    exit (pct <= lim) ? 0 : 1 }'
