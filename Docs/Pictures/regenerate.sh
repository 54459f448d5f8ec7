#!/usr/bin/env bash
# Redraws Docs/Pictures/<scenario>.svg from the committed scenario traces, with the same command a user runs.
# CancelTraceCLITests checks that the committed pictures equal what this produces.
#   bash Docs/Pictures/regenerate.sh            (builds canceltrace first)
#   CANCELTRACE_BIN=path/to/canceltrace bash Docs/Pictures/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${CANCELTRACE_BIN:-}" ]; then
    swift build --product canceltrace >&2
    CANCELTRACE_BIN="$(swift build --show-bin-path)/canceltrace"
fi
for trace in Samples/Traces/*.ctrace; do
    scenario="$(basename "$trace" .ctrace)"
    "$CANCELTRACE_BIN" timeline "$trace" --format svg --quiet -o "Docs/Pictures/$scenario.svg"
    echo "Docs/Pictures/$scenario.svg"
done
