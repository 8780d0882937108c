#!/usr/bin/env bash
# Installs what fathom needs on Debian 12 (only what is missing), then configures
# and builds it in ./build. Used by scripts/demo.sh and scripts/test.sh.
#   setup.sh                  what building and running fathom needs; no tests built
#   setup.sh --test           that, plus what the test suite needs (a browser, Go,
#                             valgrind, clang, the node packages); tests built
#   setup.sh [--test] --list  print the Debian packages it would want, one a line
set -euo pipefail
cd "$(dirname "$0")/.."
tests=0 list=0
for a in "$@"; do
	case $a in
	--test) tests=1 ;;
	--list) list=1 ;;
	*) echo "usage: setup.sh [--test] [--list]" >&2; exit 2 ;;
	esac
done

# Building and running fathom: a C compiler, CMake, and the analyzer's libraries.
pkgs=(build-essential cmake pkg-config libdw-dev libelf-dev libzstd-dev zlib1g-dev)
if [ $tests = 1 ]; then
	# The tests only: cmocka (unit tests), libunwind (the unwinder's oracle),
	# clang and its libFuzzer runtime (fuzzing), and the real programs and
	# consumers the integration tests run (Go's pprof, heaptrack, a browser,
	# pytest for test-py-pytest, a debuginfod server and curl for
	# test-debuginfod-fetch, libc6-dbg for test-debugpkg-libc ...), and
	# clang-format (the layout check).
	pkgs+=(libcmocka-dev libunwind-dev python3 python3-pytest clang clang-format libclang-rt-14-dev golang-go heaptrack libgoogle-perftools4 sqlite3 perl git
	       xz-utils chromium valgrind debuginfod curl libc6-dbg)
	# Node.js may come from outside Debian (its npm then conflicts with
	# Debian's): install Debian's only when the commands are missing.
	command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
	command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
if [ $list = 1 ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
fi
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
if [ $tests = 1 ] && [ "${FATHOM_SETUP_NODE:-1}" = 1 ] && [ -f tests/js/package.json ] &&
	[ ! -d tests/js/node_modules ]; then
	(cd tests/js && npm ci --no-audit --no-fund --loglevel=error >&2) ||
		echo "setup: npm ci failed; tests that need node packages will fail" >&2
fi

build=${FATHOM_BUILD_DIR:-build}
testopt=OFF
[ $tests = 0 ] || testopt=ON
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFATHOM_TESTS=$testopt >/dev/null
cmake --build "$build" -j"$(nproc)" >&2
