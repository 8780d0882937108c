#!/usr/bin/env bash
# fathom's main job in one command: set up, build, profile a sample, print its reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${FATHOM_BUILD_DIR:-build}
out=$(mktemp -d)
echo "== fathom record --alloc -- samples/memo (naive recursion against a cache)" >&2
"$build"/bin/fathom record --alloc -o "$out/demo.fdump" -- "$build"/samples/memo slow
echo
"$build"/bin/fathom report "$out"/demo.fdump*
echo
"$build"/bin/fathom mem "$out"/demo.fdump*
