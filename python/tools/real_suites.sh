#!/usr/bin/env bash
# Runs the test suites of real asyncio libraries from PyPI (sdists, their tests run offline) plain and under
# `pytest --canceltrace`, prints the timings and outcomes, then `canceltrace check` of every trace (the analyzer
# the package finds: CANCELTRACE_BIN, the platform wheel's, or PATH; Docs/Python.md "The analyzer").
#   bash python/tools/real_suites.sh [workdir] [versions]    (default: /tmp/canceltrace-suites "3.9 3.13"; PyPI)
#   CANCELTRACE_SUITES="aiojobs-1.4.0 ..." chooses suites; CANCELTRACE_MODES="traced" skips the plain runs ("" only installs);
#   CANCELTRACE_ROUNDS=2 runs each mode twice; CANCELTRACE_WHEEL=path installs that platform wheel instead of
#   the package from source (then its bundled analyzer checks the traces).
# A traced run's time includes the plugin's summary (`canceltrace check` of the trace: ~0.2 s for anyio's).
# Test dependencies are pinned per Python (real_suites-py3.X.txt beside this script, the versions the suites were
# judged with): unpinned, pip's resolver spent more than 14 minutes on the 3.9 set. Other versions use the 3.13 pins.
# Suites and what is left out (not the recorder's doing, and the same plain):
#   aiolimiter 1.3.0, async-lru 2.4.0: all tests (aiolimiter's test_version needs a git checkout).
#   aiojobs 1.4.0: tests/test_aiohttp.py (needs an old pytest-aiohttp that breaks on pytest 8+).
#   async-timeout 5.0.1: all tests.
#   anyio 4.12.1 (the last release for 3.9): asyncio backend only (trio and uvloop are not installed, so those
#     parameters skip), -m "not network".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(dirname "$here")"
work="${1:-/tmp/canceltrace-suites}"
versions="${2:-3.9 3.13}"
suites="${CANCELTRACE_SUITES:-aiolimiter-1.3.0 async_lru-2.4.0 aiojobs-1.4.0 async_timeout-5.0.1 anyio-4.12.1}"
modes="${CANCELTRACE_MODES-plain traced}"
rounds="${CANCELTRACE_ROUNDS:-1}"
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
newest() { ls -d "$root"/versions/"$1".* | sort -V | tail -n 1; }
mkdir -p "$work" && cd "$work"
for s in $suites; do
    [ -d "$s" ] && continue
    name="${s%-*}"; version="${s##*-}"
    "$(newest 3.13)/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        "${name//_/-}==$version"
    tar xzf "$s.tar.gz"
done

for minor in $versions; do
    venv="$work/venv$minor"
    [ -x "$venv/bin/python" ] || "$(newest "$minor")/bin/python" -m venv "$venv"
    pins="$here/real_suites-py$minor.txt"
    [ -f "$pins" ] || pins="$here/real_suites-py3.13.txt"
    deps=("pytest>=8" pytest-asyncio pytest-timeout pytest-cov pytest-mock dunamai typing_extensions aiohttp
          blockbuster exceptiongroup hypothesis psutil trustme)
    [ "$minor" != 3.9 ] && deps+=(truststore)
    pkgs=()
    for s in $suites; do pkgs+=("./$s"); done
    "$venv/bin/pip" install --quiet --disable-pip-version-check -c "$pins" "${deps[@]}" "${pkgs[@]}"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps \
        "${CANCELTRACE_WHEEL:-$package}"
    for s in $suites; do
        case $s in
            aiolimiter-*) extra=(-o asyncio_default_fixture_loop_scope=function
                                 --deselect tests/test_aiolimiter.py::test_version tests) ;;
            async_lru-*) extra=(-o asyncio_default_fixture_loop_scope=function tests) ;;
            aiojobs-*) extra=(-o addopts= -o asyncio_mode=auto --ignore tests/test_aiohttp.py tests) ;;
            async_timeout-*) extra=(-o addopts= -o asyncio_mode=strict tests) ;;
            anyio-*) extra=(-o addopts= -W ignore -m "not network" tests) ;;
            *) extra=(tests) ;;
        esac
        for _ in $(seq "$rounds"); do
            for mode in $modes; do
                args=(-p no:cacheprovider)
                [ "$mode" = traced ] && args+=("--canceltrace=$work/$s-$minor.ctrace")
                t0=$(date +%s.%N)
                (cd "$s" && "$venv/bin/python" -m pytest -q "${args[@]}" "${extra[@]}" \
                    > "$work/$s-$minor.$mode.log" 2>&1) && rc=0 || rc=$?
                t1=$(date +%s.%N)
                echo "$minor $s $mode rc=$rc wall=$(echo "$t1 - $t0" | bc) s: $(grep -E '(passed|failed)' \
                    "$work/$s-$minor.$mode.log" | grep -v '^canceltrace' | tail -1)"
            done
        done
        if [[ " $modes " == *" traced "* ]]; then
            "$venv/bin/python" -m canceltrace check "$work/$s-$minor.ctrace" --color never --no-group \
                > "$work/$s-$minor.check.txt" 2>&1 || true
            echo "$minor $s check: $(tail -n 1 "$work/$s-$minor.check.txt")"
        fi
    done
done
