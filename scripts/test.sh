#!/usr/bin/env bash
# The whole test suite in one command: set up, build, run every test (benchmarks
# are run separately: ctest --test-dir build -L bench -V).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# The layout first: every source as .clang-format says (FATHOM_FORMAT_CHECK=0 skips it).
[ "${FATHOM_FORMAT_CHECK:-1}" = 0 ] || bash scripts/format-check
build=${FATHOM_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j2 -LE bench --timeout 900
