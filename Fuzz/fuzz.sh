#!/usr/bin/env bash
# Runs the trace fuzzer (see Fuzz/README.md and Docs/Reliability.md, "Fuzzing").
#
#   Fuzz/fuzz.sh [libFuzzer flags…]     # e.g. -runs=10000000, -max_total_time=600
#   Fuzz/fuzz.sh seeds                   # rewrites Fuzz/seeds from Fuzz/TraceFuzzer.swift's seed scenarios
#
# Environment: SCRATCH (SwiftPM scratch path, default .build), SANITIZERS (default fuzzer,address; "fuzzer" runs
# several times faster without AddressSanitizer), CORPUS (the growing corpus, default $SCRATCH/fuzz/corpus).
# Crashing inputs are written to Fuzz/crashers/; commit each there, named after what it found (crashers/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export SCRATCH=${SCRATCH:-.build}
BINARY=$(Fuzz/build.sh | tail -1)
export SWIFT_BACKTRACE=enable=no   # a crash report, not a 30 s symbolicating backtrace, per crashing input

if [ "${1:-}" = seeds ]; then
    rm -rf Fuzz/seeds && mkdir -p Fuzz/seeds
    CANCELTRACE_FUZZ_WRITE_SEEDS=Fuzz/seeds "$BINARY"
    ls Fuzz/seeds | wc -l | xargs echo "seeds written:"
    exit 0
fi

CORPUS=${CORPUS:-$SCRATCH/fuzz/corpus}
mkdir -p "$CORPUS" Fuzz/crashers
exec "$BINARY" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=Fuzz/crashers/ -print_final_stats=1 \
    "$@" "$CORPUS" Fuzz/seeds
