#!/usr/bin/env bash
# Instruction counts of churn.py under callgrind (Docs/Performance.md, "Task churn") for one or more source trees,
# side by side: each of the four measurements runs for every tree in turn before the next one starts.
#   bash python/bench/callgrind.sh PYTHON [TREE...]
# TREE is a folder holding canceltrace/ and bench/churn.py (default: this checkout's python/). To compare with main:
#   git worktree add /tmp/ct-main main
#   bash python/bench/callgrind.sh ~/.pyenv/versions/3.13.0/bin/python /tmp/ct-main/python python
# Prints per tree: instructions per task plain and recorded, and the ratio (rec − rec0) / (plain − base).
# CHURN_TASKS (default 5000) sets the tasks per round. Counts repeat to within 1 % whatever the machine's load.
set -euo pipefail
py="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trees=("$@"); [ ${#trees[@]} -eq 0 ] && trees=("$here")
tasks="${CHURN_TASKS:-5000}"
out="$(mktemp -d)"
for kind in "rec0 recorded 0" "rec recorded $tasks" "base plain 0" "plain plain $tasks"; do
    set -- $kind
    for i in "${!trees[@]}"; do
        valgrind --tool=callgrind --callgrind-out-file="$out/$i.$1" "$py" "${trees[$i]}/bench/churn.py" \
            --once "$2" --tasks "$3" --out "$out/churn.ctrace" > /dev/null 2> "$out/$i.$1.err"
    done
done
for i in "${!trees[@]}"; do
    t() { awk '/^totals:/ {print $2}' "$out/$i.$1"; }
    python3 - "${trees[$i]}" "$tasks" "$(t base)" "$(t plain)" "$(t rec0)" "$(t rec)" <<'PY'
import sys
tree, n, base, plain, rec0, rec = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
p, r = (plain - base) / n, (rec - rec0) / n
print("%s: plain %.1f k/task, recorded %.1f k/task (overhead %.1f k), ratio %.3fx; start+stop %.1f M"
      % (tree, p / 1e3, r / 1e3, (r - p) / 1e3, r / p, (rec0 - base) / 1e6))
PY
done
rm -rf "$out"
