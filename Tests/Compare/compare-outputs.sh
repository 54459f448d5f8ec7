#!/usr/bin/env bash
# Runs two builds of the canceltrace CLI over the same traces and compares every output byte for byte: events,
# stats, check (text, --no-group, json, sarif), timeline (text, svg, html) and export (perfetto, as JSON), with
# each command's stderr and exit status. For refactors that must not change what is printed (issue 13).
#
#   Tests/Compare/compare-outputs.sh OLD_CANCELTRACE NEW_CANCELTRACE [WORK_DIR]
#
# Traces: Samples/Traces, the shared vectors (Tests/Vectors), the fuzz seeds (as traces) and crashers, a
# generated trace, and damaged copies of a sample (truncated, a flipped byte, garbage in the middle), written by
# the NEW build's `generate` once and read by both. Exit status 0 when every output is the same, 1 otherwise.
set -euo pipefail
old=$1 new=$2
work=${3:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work/traces" "$work/old" "$work/new"

traces=()
for f in "$root"/Samples/Traces/*.ctrace "$root"/Tests/Vectors/*/*.ctrace; do
    [ -f "$f" ] && traces+=("$f")
done
for f in "$root"/Fuzz/crashers/*; do
    case $f in *.md) ;; *) [ -f "$f" ] && traces+=("$f") ;; esac
done
"$new" generate "$work/traces/generated.ctrace" --events 200000 --seed 7 >/dev/null
traces+=("$work/traces/generated.ctrace")
sample="$root/Samples/Traces/group-sibling-failure.ctrace"
size=$(wc -c <"$sample")
head -c $((size - 7)) "$sample" >"$work/traces/truncated.ctrace"
python3 - "$sample" "$work/traces" "$root"/Fuzz/seeds/* <<'PY'
import os, struct, sys, zlib
data = bytearray(open(sys.argv[1], "rb").read())
# The fuzz seeds as traces: a mode byte, then a file (0, 1) or record payloads split by FF FF FF FF (2), framed here.
for seed in sys.argv[3:]:
    raw = open(seed, "rb").read()
    if raw[0] % 3 == 2:
        out = b"\x89CTRACE\n" + struct.pack("<HHI", 1, 1, 0)
        for payload in raw[1:].split(b"\xff\xff\xff\xff"):
            if payload:
                body = zlib.compress(payload)
                lengths = struct.pack("<II", len(body), len(payload))
                out += b"CTCK" + lengths + struct.pack("<I", zlib.crc32(body, zlib.crc32(lengths))) + body
    else:
        out = raw[1:]
    open(os.path.join(sys.argv[2], "seed-" + os.path.basename(seed) + ".ctrace"), "wb").write(out)
flipped = bytearray(data); flipped[40] ^= 0xFF
open(sys.argv[2] + "/flipped.ctrace", "wb").write(flipped)
mid = len(data) // 2
open(sys.argv[2] + "/garbage.ctrace", "wb").write(data[:mid] + b"CTCK" + bytes(range(256)) * 4 + data[mid:])
PY
traces+=("$work/traces/truncated.ctrace" "$work/traces/flipped.ctrace" "$work/traces/garbage.ctrace" "$work"/traces/seed-*.ctrace)

run() {  # run BINARY OUT_DIR NAME ARGS...: stdout, stderr and status of one command
    local bin=$1 out=$2 name=$3
    shift 3
    set +e
    (cd "$out" && "$bin" "$@" >"$name.out" 2>"$name.err"; echo $? >"$name.status")
    set -e
}

for trace in "${traces[@]}"; do
    base=$(basename "$trace")
    for side in old new; do
        bin=${!side}
        out="$work/$side"
        run "$bin" "$out" "$base.events" events "$trace"
        run "$bin" "$out" "$base.stats" stats "$trace"
        run "$bin" "$out" "$base.check" check "$trace" --color never
        run "$bin" "$out" "$base.check-nogroup" check "$trace" --color never --no-group
        run "$bin" "$out" "$base.check-json" check "$trace" --format json
        run "$bin" "$out" "$base.check-sarif" check "$trace" --format sarif
        run "$bin" "$out" "$base.timeline" timeline "$trace" --color never --width 120
        run "$bin" "$out" "$base.timeline-svg" timeline "$trace" --format svg
        run "$bin" "$out" "$base.timeline-html" timeline "$trace" --format html
        run "$bin" "$out" "$base.perfetto" export "$trace" --format perfetto -o "$base.perfetto.json"
    done
done

compared=$(ls "$work/old" | wc -l)
if diff -r "$work/old" "$work/new" >"$work/diff.txt"; then
    echo "same bytes: $compared files (${#traces[@]} traces × 10 commands × stdout/stderr/status + perfetto files) in $work"
else
    echo "DIFFERENT: see $work/diff.txt"; head -40 "$work/diff.txt"
    exit 1
fi
