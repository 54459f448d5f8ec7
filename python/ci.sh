#!/usr/bin/env bash
# CI hook for the Python recorder; .ci/run calls it from the repo root:  bash python/ci.sh
# Installs the package into one venv per supported edge version (oldest 3.9, newest 3.13, from pyenv) and
# runs its tests. Tests that need the analyzer run when one is found (CANCELTRACE_BIN, the wheel's, PATH); else
# they skip. CANCELTRACE_WHEEL=path installs that platform wheel (python/tools/build_wheel.sh) instead of the
# source package, and its bundled analyzer is the one the tests use (CANCELTRACE_BIN is ignored then).
# CANCELTRACE_WHEEL_BUILD=1 (the default when CI=true): first build the platform wheel (tools/build_wheel.sh: a
# static release build of the CLI in .build-wheel) and check it in fresh venvs with no Swift on PATH
# (tools/check_wheel.sh); the newest Python's tests then run against that wheel, the others against the source
# package and CANCELTRACE_BIN, so both ways of finding the analyzer are tested.
# Network: PyPI only (pip install pytest, pytest-xdist, anyio, async-timeout, pytest-asyncio; setuptools for the
# wheel). Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
versions=("${CANCELTRACE_PYTHONS:-3.9 3.13}")
status=0
wheel_for=""                    # the version tested against the freshly built wheel

build="${CANCELTRACE_WHEEL_BUILD:-${CI:-0}}"
if [ "$build" = 1 ] || [ "$build" = true ]; then
    echo "== platform wheel: build (python/tools/build_wheel.sh) and check without Swift (check_wheel.sh)"
    t0=$(date +%s)
    built="$(bash "$here/tools/build_wheel.sh" "$here/dist" | tail -n 1)"
    echo "built $built in $(( $(date +%s) - t0 )) s"
    bash "$here/tools/check_wheel.sh" "$built" || status=1
    if [ -z "${CANCELTRACE_WHEEL:-}" ]; then
        wheel_for="$(echo ${versions[@]} | awk '{print $NF}')"
    fi
fi

for minor in ${versions[@]}; do
    py="$(ls -d "$root"/versions/"$minor".* 2>/dev/null | sort -V | tail -n 1)/bin/python"
    if [ ! -x "$py" ]; then
        echo "python/ci.sh: no Python $minor under $root/versions" >&2
        exit 1
    fi
    venv="$here/.venv-$minor"
    if [ ! -x "$venv/bin/python" ]; then
        "$py" -m venv "$venv"
    fi
    # anyio, async-timeout and pytest-asyncio (backports.asyncio.runner on 3.9/3.10): the false-alarm regressions;
    # pytest-xdist: the per-worker summary
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7" pytest-xdist anyio \
        async-timeout pytest-asyncio
    "$venv/bin/python" -m pip uninstall --quiet --yes canceltrace >/dev/null 2>&1 || true
    wheel="${CANCELTRACE_WHEEL:-}"
    [ "$minor" = "$wheel_for" ] && wheel="$built"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "${wheel:-$here}"
    envs=()
    [ -n "$wheel" ] && envs=(-u CANCELTRACE_BIN)
    echo "== Python $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'): canceltrace tests" \
         "(analyzer: $(env "${envs[@]}" "$venv/bin/python" -c 'from canceltrace import _analyzer; print(_analyzer.find())'))"
    # Run from the tests folder against the installed package (not the source tree).
    if ! (cd "$here/tests" && env "${envs[@]}" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"); then
        status=1
    fi
done
exit $status
