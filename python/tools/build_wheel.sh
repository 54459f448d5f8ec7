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
    # A folder holding only static archives, searched before the system's, so that the libraries the link names
    # resolve to archives: -lstdc++ (the static Swift runtime's) to libstdc++.a, -lgcc_s (clang's, for the
    # unwinder) to libgcc_eh.a as -static-libgcc does, and -lz (the CZlib target's, through pkg-config: the
    # zlib.pc here puts this folder before the system's) to libz.a.
    static="$scratch/static-libs"
    mkdir -p "$static"
    for pair in libz.a:libz.a libstdc++.a:libstdc++.a libgcc_s.a:libgcc_eh.a; do
        found="$(gcc -print-file-name="${pair#*:}")"
        [ -f "$found" ] || { echo "build_wheel.sh: no static ${pair#*:} (install zlib1g-dev and gcc)" >&2; exit 1; }
        ln -sf "$found" "$static/${pair%%:*}"
    done
    printf 'prefix=/usr\nincludedir=${prefix}/include\n\nName: zlib\nDescription: zlib, static\nVersion: %s\n%s\n%s\n' \
        "$(pkg-config --modversion zlib)" "Libs: -L$static -lz" 'Cflags: -I${includedir}' > "$static/zlib.pc"
    export PKG_CONFIG_PATH="$static${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    flags=(-c release --static-swift-stdlib --product canceltrace --scratch-path "$scratch" -Xlinker -L"$static")
    (cd "$repo" && nice -n 10 swift build "${flags[@]}" >&2)
    binary="$(cd "$repo" && swift build "${flags[@]}" --show-bin-path)/canceltrace"
fi
python3 "$repo/python/tools/platform_wheel.py" "$binary" "$outdir"
