#!/usr/bin/env bash
# Sets up the machine, builds blitz in release mode and shows the built-in demo stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked
./target/release/blitz info demo --full
