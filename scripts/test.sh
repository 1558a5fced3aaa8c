#!/usr/bin/env bash
# Sets up the machine (system packages) and runs the whole test suite: formatting,
# lints, every unit, integration and doc test, and the Python package's pytest suite. CI calls this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TERM_COLOR=never
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --all-targets --locked
cargo test --locked 2>&1 | tee /tmp/blitz-test.log
# a visible closing line: the counts over every test binary
awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {printf "%d passed, %d failed, %d skipped\n", p, f, i}' /tmp/blitz-test.log
# the Python package: built into .venv, its pytest suite (ends with pytest's summary line)
bash scripts/python.sh test
