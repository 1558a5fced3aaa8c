#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of blitz's header parsers (cargo-fuzz / libFuzzer on
# stable Rust, no sanitizer): each target of fuzz/ runs SECONDS (default 60) from its
# seeds (fuzz/seeds/TARGET, committed) and the inputs earlier runs found (fuzz/corpus/
# TARGET, not committed). An input that crashes is copied to tests/fuzz_crashes/TARGET/,
# which `cargo test --test fuzz_corpus` replays in the normal test suite.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (needs: cargo install cargo-fuzz)
set -u
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(npy tiff ascii cine mraw spe fits)
fi
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
(cd fuzz && cargo fuzz build -s none) >/dev/null 2>&1 || { echo "cargo fuzz build failed" >&2; exit 2; }
status=0
printf '%-6s %10s %8s %8s %s\n' target runs seconds crashes corpus
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "tests/fuzz_crashes/$t"
    log="fuzz/artifacts/$t/run.log"
    (cd fuzz && cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/") >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    crashes=0
    for a in fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/oom-* fuzz/artifacts/"$t"/timeout-*; do
        [ -e "$a" ] || continue
        cp "$a" "tests/fuzz_crashes/$t/"
        crashes=$((crashes + 1))
    done
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    printf '%-6s %10s %8s %8s %s\n' "$t" "${runs:-?}" "$secs" "$crashes" "$corpus"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        echo "  $t: exit $rc, see $log" >&2
        status=1
    fi
done
exit $status
