#!/usr/bin/env bash
# What `import canceltrace` costs (every pytest run pays it: the plugin entry point imports the package), and what
# the writer process's `_format` costs up to its first encode, for one or more source trees side by side
# (Docs/Performance.md, "Python recorder"):
#   bash python/bench/import_cost.sh PYTHON [TREE...]
# TREE is a folder holding canceltrace/ (default: this checkout's python/). To compare with main:
#   git worktree add /tmp/ct-main main
#   bash python/bench/import_cost.sh ~/.pyenv/versions/3.13.0/bin/python /tmp/ct-main/python python
# Prints per tree, in instructions (callgrind; compiled bytecode, as installed, PYTHONHASHSEED=0):
#   `import canceltrace`, `import asyncio`, their difference (canceltrace's own), and the writer's `_format`;
# then the median of IMPORT_RUNS (default 9) alternating `-X importtime` runs: canceltrace's own, in ms (this one
# moves with the machine's load).
set -euo pipefail
py="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trees=("$@"); [ ${#trees[@]} -eq 0 ] && trees=("$here")
out="$(mktemp -d)"
run() { env -u PYTHONDONTWRITEBYTECODE PYTHONHASHSEED=0 PYTHONPATH="$1" "${@:2}"; }
count() {  # TREE CODE: instructions of `python -c CODE`
    run "$1" valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$py" -c "$2" > /dev/null 2>&1
    awk '/^totals:/ {print $2}' "$out/cg"
}
for tree in "${trees[@]}"; do
    run "$tree" "$py" -c "import canceltrace; import sys; sys.path.insert(0, '$tree/canceltrace'); import _format"
    ct=$(count "$tree" "import canceltrace")
    aio=$(count "$tree" "import asyncio")
    bare=$(count "$tree" "import sys, struct, zlib, os; sys.path.insert(0, '$tree/canceltrace')")
    fmt=$(count "$tree" "import sys, struct, zlib, os; sys.path.insert(0, '$tree/canceltrace'); import _format as F
F.encode_events([(F.DROPPED, 0, 1)], bytearray())")
    awk -v t="$tree" -v ct="$ct" -v aio="$aio" -v bare="$bare" -v fmt="$fmt" 'BEGIN {
        printf "%s: import canceltrace %.1f M, import asyncio %.1f M, its own %.1f M; writer _format + first encode %.1f M\n",
               t, ct / 1e6, aio / 1e6, (ct - aio) / 1e6, (fmt - bare) / 1e6}'
done
for i in $(seq "${IMPORT_RUNS:-9}"); do
    for t in "${!trees[@]}"; do
        run "${trees[$t]}" "$py" -X importtime -c "import canceltrace" 2>&1 \
            | awk -v t="$t" '/\| canceltrace$/ {split($0, a, "|"); c = a[2]} /\|     asyncio$/ {split($0, a, "|"); s = a[2]}
                             END {print t, c - s}'
    done
done > "$out/times"
for t in "${!trees[@]}"; do
    awk -v t="$t" '$1 == t {print $2}' "$out/times" | sort -n \
        | awk -v tree="${trees[$t]}" '{v[NR] = $1} END {printf "%s: -X importtime, its own: median %.1f ms\n", tree, v[int((NR + 1) / 2)] / 1000}'
done
rm -rf "$out"
