#!/usr/bin/env bash
# Runs the test suites of two real asyncio libraries from PyPI (sdists, their tests run offline) plain and
# under `pytest -p canceltrace`, alternating, and prints the timings; then lists every finding in the traces.
#   bash python/bench/real_suites.sh [workdir]        (default: /tmp/canceltrace-suites; needs PyPI)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/canceltrace-suites}"
py="$(ls -d "$(pyenv root)"/versions/3.13.* | sort -V | tail -n 1)/bin/python"
mkdir -p "$work" && cd "$work"
[ -x venv/bin/python ] || "$py" -m venv venv
venv/bin/pip download --quiet --no-deps --no-binary :all: aiolimiter==1.3.0 async-lru==2.4.0
for f in aiolimiter-1.3.0.tar.gz async_lru-2.4.0.tar.gz; do tar xzf "$f"; done
venv/bin/pip install --quiet "pytest~=9.0" "pytest-asyncio~=1.0" pytest-timeout pytest-cov dunamai typing_extensions \
    ./aiolimiter-1.3.0 ./async_lru-2.4.0
venv/bin/pip install --quiet --force-reinstall --no-deps "$here"
for s in aiolimiter-1.3.0 async_lru-2.4.0; do
  for mode in plain traced plain traced; do
    args=()
    [ "$mode" = traced ] && args=(-p canceltrace "--canceltrace=$work/$s.ctrace")
    t0=$(date +%s.%N)
    (cd "$s" && "$work/venv/bin/python" -m pytest -q -o asyncio_default_fixture_loop_scope=function "${args[@]}" \
        --deselect tests/test_aiolimiter.py::test_version tests > "$work/$s.$mode.log" 2>&1) && rc=0 || rc=$?
    t1=$(date +%s.%N)
    echo "$s $mode rc=$rc wall=$(echo "$t1 - $t0" | bc) s: $(grep -E 'passed|failed' "$work/$s.$mode.log" | tail -1)"
  done
  venv/bin/python -m canceltrace findings "$work/$s.ctrace" || true
  if [ -n "${CANCELTRACE_BIN:-}" ]; then "$CANCELTRACE_BIN" check "$work/$s.ctrace" || true; fi
done
