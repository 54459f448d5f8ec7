#!/usr/bin/env bash
# CI hook for the Python recorder; .ci/run calls it from the repo root:  bash python/ci.sh
# Installs the package into one venv per supported edge version (oldest 3.9, newest 3.13, from pyenv) and
# runs its tests. Cross-language tests run when CANCELTRACE_BIN points at a built `canceltrace`; else they skip.
# Network: PyPI only (pip install pytest, anyio, async-timeout, pytest-asyncio). Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
versions=("${CANCELTRACE_PYTHONS:-3.9 3.13}")
status=0

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
    # anyio, async-timeout and pytest-asyncio (backports.asyncio.runner on 3.9/3.10): the false-alarm regressions
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7" anyio async-timeout pytest-asyncio
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$here"
    echo "== Python $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'): canceltrace tests"
    # Run from the tests folder against the installed package (not the source tree).
    if ! (cd "$here/tests" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"); then
        status=1
    fi
done
exit $status
