#!/usr/bin/env bash
# Runs the test suites of real asyncio libraries from PyPI (sdists, their tests run offline) plain and under
# `pytest --canceltrace`, and prints the timings; then checks every trace with `canceltrace check` when
# CANCELTRACE_BIN names the Swift CLI (else with the preview rules).
#   bash python/bench/real_suites.sh [workdir] [versions]     (default: /tmp/canceltrace-suites "3.9 3.13"; PyPI)
#   CANCELTRACE_SUITES="aiojobs-1.4.0 ..." chooses suites; CANCELTRACE_ROUNDS=2 runs plain/traced twice each.
# Suites and what is left out (not the recorder's doing, and the same plain):
#   aiolimiter 1.3.0, async-lru 2.4.0: all tests (aiolimiter's test_version needs a git checkout).
#   aiojobs 1.4.0: tests/test_aiohttp.py (needs an old pytest-aiohttp that breaks on pytest 8+).
#   async-timeout 5.0.1: all tests.
#   anyio 4.12.1 (the last release for 3.9): asyncio backend only (trio and uvloop are not installed, so those
#     parameters skip), -m "not network".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/canceltrace-suites}"
versions="${2:-3.9 3.13}"
suites="${CANCELTRACE_SUITES:-aiolimiter-1.3.0 async_lru-2.4.0 aiojobs-1.4.0 async_timeout-5.0.1 anyio-4.12.1}"
rounds="${CANCELTRACE_ROUNDS:-1}"
mkdir -p "$work" && cd "$work"
for s in $suites; do
    [ -d "$s" ] && continue
    name="${s%-*}"; version="${s##*-}"
    "$(ls -d "$(pyenv root)"/versions/3.13.* | sort -V | tail -n 1)/bin/python" -m pip download --quiet \
        --disable-pip-version-check --no-deps --no-binary :all: "${name//_/-}==$version"
    tar xzf "$s.tar.gz"
done

for minor in $versions; do
    py="$(ls -d "$(pyenv root)"/versions/"$minor".* | sort -V | tail -n 1)/bin/python"
    venv="$work/venv$minor"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    deps=("pytest>=8" pytest-asyncio pytest-timeout pytest-cov pytest-mock dunamai typing_extensions aiohttp
          blockbuster exceptiongroup hypothesis psutil trustme)
    [ "$minor" != 3.9 ] && deps+=(truststore)
    pkgs=()
    for s in $suites; do pkgs+=("./$s"); done
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${deps[@]}" "${pkgs[@]}"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$here"
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
            for mode in plain traced; do
                args=()
                [ "$mode" = traced ] && args=("--canceltrace=$work/$s-$minor.ctrace")
                t0=$(date +%s.%N)
                (cd "$s" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "${args[@]}" "${extra[@]}" \
                    > "$work/$s-$minor.$mode.log" 2>&1) && rc=0 || rc=$?
                t1=$(date +%s.%N)
                echo "$minor $s $mode rc=$rc wall=$(echo "$t1 - $t0" | bc) s: $(grep -E 'passed|failed' \
                    "$work/$s-$minor.$mode.log" | tail -1)"
            done
        done
        if [ -n "${CANCELTRACE_BIN:-}" ]; then
            "$CANCELTRACE_BIN" check "$work/$s-$minor.ctrace" > "$work/$s-$minor.check.txt" || true
            tail -n 1 "$work/$s-$minor.check.txt"
        else
            "$venv/bin/python" -m canceltrace findings "$work/$s-$minor.ctrace" || true
        fi
    done
done
