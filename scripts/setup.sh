#!/usr/bin/env bash
# Installs what fathom needs on Debian 12 (only what is missing), then configures
# and builds it in ./build. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and test dependencies, as Debian packages.
pkgs=(build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev libzstd-dev zlib1g-dev
      libcmocka-dev python3 clang libclang-rt-14-dev golang-go heaptrack sqlite3 perl git xz-utils
      chromium valgrind)
# Node.js may come from outside Debian (its npm then conflicts with Debian's):
# install Debian's only when the commands are missing.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq || echo "setup: apt-get update failed; trying the install anyway" >&2
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Node packages for the tests that use real consumers (speedscope, a browser).
if [ "${FATHOM_SETUP_NODE:-1}" = 1 ] && [ -f tests/js/package.json ] && [ ! -d tests/js/node_modules ]; then
	(cd tests/js && npm ci --no-audit --no-fund --loglevel=error >&2) ||
		echo "setup: npm ci failed; tests that need node packages will be skipped" >&2
fi

build=${FATHOM_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >&2
