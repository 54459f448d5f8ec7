#!/usr/bin/env bash
# Installs the platform wheel (build_wheel.sh) into a fresh venv per Python and uses it the way a Python user
# without Swift would: PATH holds only the venv and /usr/bin:/bin (no swift), no LD_LIBRARY_PATH. Records a
# program that swallows a cancellation, then expects `canceltrace check` from the wheel and `python -m
# canceltrace check` to report it (exit 1) and a clean program to give exit 0. No network.
#   bash python/tools/check_wheel.sh WHEEL [PYTHON...]      (default: the newest 3.9 and 3.13 under pyenv)
# Prints "N passed, M failed" and exits 1 when a check failed.
set -uo pipefail
wheel="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift
pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for minor in 3.9 3.13; do
        pythons+=("$(ls -d "$root"/versions/"$minor".* 2>/dev/null | sort -V | tail -n 1)/bin/python")
    done
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...
    local name="$1"; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

cat > "$work/swallow.py" <<'PY'
import asyncio
async def stubborn():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass
async def main():
    t = asyncio.create_task(stubborn()); await asyncio.sleep(0); t.cancel(); await t
asyncio.run(main())
PY
cat > "$work/clean.py" <<'PY'
import asyncio
async def polite():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        raise
async def main():
    t = asyncio.create_task(polite()); await asyncio.sleep(0); t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        pass
asyncio.run(main())
PY

for py in "${pythons[@]}"; do
    v="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    venv="$work/venv$v"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$wheel" \
        || { failed=$((failed + 1)); echo "FAIL $v: pip install $wheel"; continue; }
    # What the user has: the venv's bin and the system's, no Swift toolchain, no Swift libraries.
    run() { env -i HOME="$work" PATH="$venv/bin:/usr/bin:/bin" "$@"; }
    check "$v: no swift on PATH" bash -c '! env -i PATH="$0/bin:/usr/bin:/bin" bash -c "command -v swift" >/dev/null' "$venv"
    check "$v: canceltrace installed into the venv" test -x "$venv/bin/canceltrace"
    check "$v: needs only the C library" bash -c '! ldd "$0" | grep -v -E "linux-vdso|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux"' "$venv/bin/canceltrace"
    check "$v: canceltrace --version" bash -c '[ "$("$@" --version)" = "$("$(dirname "$1")"/python -c "import canceltrace; print(canceltrace.__version__)")" ]' _ "$venv/bin/canceltrace"
    (cd "$work" && run python -m canceltrace run --output "$work/swallow-$v.ctrace" swallow.py \
        && run python -m canceltrace run --output "$work/clean-$v.ctrace" clean.py) > "$work/run.log" 2>&1
    check "$v: recorded two traces" test -s "$work/swallow-$v.ctrace" -a -s "$work/clean-$v.ctrace"
    (cd "$work" && run canceltrace check "swallow-$v.ctrace" --color never) > "$work/check.txt" 2>&1
    status=$?
    check "$v: canceltrace check finds the swallow (exit 1)" \
        bash -c '[ "$0" = 1 ] && grep -q "^error\[swallowed-cancellation\]: task \"stubborn\"" "$1"' "$status" "$work/check.txt"
    (cd "$work" && run python -m canceltrace check "swallow-$v.ctrace" --color never) > "$work/check-m.txt" 2>&1
    status=$?
    check "$v: python -m canceltrace check is the same" \
        bash -c '[ "$0" = 1 ] && cmp -s "$1" "$2"' "$status" "$work/check.txt" "$work/check-m.txt"
    (cd "$work" && run canceltrace check "clean-$v.ctrace" --color never) > "$work/clean.txt" 2>&1
    check "$v: a clean program checks clean (exit 0)" test $? = 0
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
