#!/usr/bin/env bash
# Builds trace-fuzzer: a libFuzzer binary (-sanitize=fuzzer,address by default) that feeds bytes to TraceReader and
# TraceAnalyzer. TraceFormat, TraceAnalysis and the harness are instrumented; their dependencies (HdrHistogram,
# swift-numerics) are compiled optimized without instrumentation, straight from SwiftPM's checkouts.
#
#   Fuzz/build.sh                    # SCRATCH=.build (the package's default scratch path)
#   SCRATCH=.build-hardening Fuzz/build.sh
#
#   SANITIZERS=fuzzer Fuzz/build.sh  # without AddressSanitizer: several times faster, for long runs
#
# Output: $SCRATCH/fuzz/<sanitizers>/trace-fuzzer. Prints its path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${SCRATCH:-.build}
SANITIZERS=${SANITIZERS:-fuzzer,address}
OUT=$ROOT/$SCRATCH/fuzz/${SANITIZERS//,/-}
CHECKOUTS=$ROOT/$SCRATCH/checkouts
mkdir -p "$OUT/modules"

if [ ! -d "$CHECKOUTS/hdrhistogram-swift" ] || [ ! -d "$CHECKOUTS/swift-numerics" ]; then
    swift package resolve --scratch-path "$SCRATCH" >&2
fi
NUMERICS=$CHECKOUTS/swift-numerics/Sources
HISTOGRAM=$CHECKOUTS/hdrhistogram-swift/Sources/Histogram

SWIFTC=(swiftc -parse-as-library -wmo -O -g -cross-module-optimization -I "$OUT/modules" -I "$ROOT/Sources/CZlib" -I "$NUMERICS/_NumericsShims/include")

# module NAME FLAGS... -- SOURCES...: compiles one module to $OUT/NAME.o and its .swiftmodule, when a source changed.
module() {
    local name=$1; shift
    local flags=()
    while [ "$1" != "--" ]; do flags+=("$1"); shift; done
    shift
    local object=$OUT/$name.o
    if [ -f "$object" ] && [ -z "$(find "$@" "$0" -newer "$object" 2>/dev/null | head -1)" ]; then return; fi
    echo "compiling $name" >&2
    "${SWIFTC[@]}" "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" \
        -c "$@" -o "$object" 2> >(grep -v "warning: Cannot export local symbol" >&2)
}

module RealModule -- "$NUMERICS"/RealModule/*.swift
module ComplexModule -- "$NUMERICS"/ComplexModule/*.swift
module Numerics -- "$NUMERICS"/Numerics/*.swift
module Histogram -- "$HISTOGRAM"/*.swift
module TraceFormat -sanitize="$SANITIZERS" -- "$ROOT"/Sources/TraceFormat/*.swift
module TraceAnalysis -sanitize="$SANITIZERS" -- "$ROOT"/Sources/TraceAnalysis/*.swift "$ROOT"/Sources/TraceAnalysis/Rules/*.swift
module TraceFuzzer -sanitize="$SANITIZERS" -- "$ROOT"/Fuzz/TraceFuzzer.swift

BINARY=$OUT/trace-fuzzer
if [ ! -x "$BINARY" ] || [ -n "$(find "$OUT" -name '*.o' -newer "$BINARY" | head -1)" ]; then
    echo "linking trace-fuzzer" >&2
    swiftc -sanitize="$SANITIZERS" "$OUT"/{RealModule,ComplexModule,Numerics,Histogram,TraceFormat,TraceAnalysis,TraceFuzzer}.o \
        -lz -o "$BINARY" 2> >(grep -v "warning: Cannot export local symbol" >&2)
fi
echo "$BINARY"
