#!/usr/bin/env bash
# The CI fuzz step: builds the fuzzer with AddressSanitizer and runs a fixed number of inputs (FUZZ_RUNS, default
# 100000) with a fixed seed, starting from Fuzz/seeds in a scratch corpus. Fails on any crash, trap, sanitizer
# report, timeout (10 s per input) or RSS over 2 GiB, and prints the input as hex for a regression test.
#
#   SCRATCH=.build bash Fuzz/ci.sh      # SCRATCH: the SwiftPM scratch path whose checkouts to use (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
export SCRATCH=${SCRATCH:-.build}
RUNS=${FUZZ_RUNS:-100000}
BINARY=$(Fuzz/build.sh | tail -1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus" "$WORK/artifacts"
export SWIFT_BACKTRACE=enable=no

start=$(date +%s)
if ! "$BINARY" -runs="$RUNS" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$WORK/artifacts/" "$WORK/corpus" Fuzz/seeds > "$WORK/log" 2>&1; then
    grep -v '^#[0-9]' "$WORK/log" | tail -60
    for artifact in "$WORK"/artifacts/*; do
        [ -f "$artifact" ] || continue
        echo "crashing input $(basename "$artifact") ($(wc -c < "$artifact") bytes):"
        od -An -tx1 -v "$artifact"
    done
    echo "fuzz: FAILED (add the input above to Tests/TraceFormatTests/FuzzRegressionTests.swift)"
    exit 1
fi
grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ *DONE' "$WORK/log" || true
echo "fuzz: $RUNS inputs, no crash ($(( $(date +%s) - start )) s)"
