#!/usr/bin/env bash
# Builds the platform wheel of the Python package with the Swift `canceltrace` CLI inside (Docs/Python.md, "The
# analyzer"), so `pip install` gives `canceltrace check` without a Swift toolchain.
#   bash python/tools/build_wheel.sh [OUTDIR]          (default python/dist; prints the wheel's path)
# The CLI is a release build with the Swift standard library, zlib and libstdc++ linked statically, in its own
# scratch path (.build-wheel), so the binary needs only the C library; platform_wheel.py checks that and tags the
# wheel manylinux_2_N. CANCELTRACE_WHEEL_BINARY=PATH packs an already built binary instead of building.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
outdir="${1:-$repo/python/dist}"
binary="${CANCELTRACE_WHEEL_BINARY:-}"

if [ -z "$binary" ]; then
    scratch="$repo/.build-wheel"
    # A folder holding only static archives, searched before the system's: -lz and -lstdc++ (named by the CZlib
    # target and the static Swift runtime) then resolve to libz.a and libstdc++.a, not to the shared libraries.
    static="$scratch/static-libs"
    mkdir -p "$static"
    for lib in libz.a libstdc++.a; do
        found="$(gcc -print-file-name="$lib")"
        [ -f "$found" ] || { echo "build_wheel.sh: no static $lib (install zlib1g-dev and libstdc++-dev)" >&2; exit 1; }
        ln -sf "$found" "$static/$lib"
    done
    flags=(-c release --static-swift-stdlib --product canceltrace --scratch-path "$scratch" -Xlinker -L"$static")
    (cd "$repo" && nice -n 10 swift build "${flags[@]}" >&2)
    binary="$(cd "$repo" && swift build "${flags[@]}" --show-bin-path)/canceltrace"
fi
python3 "$repo/python/tools/platform_wheel.py" "$binary" "$outdir"
