# Shared helpers for the shell tests: source "$SRCDIR/tests/lib.sh".
# Each assertion prints both sides and fails the test at once.
set -u -o pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
# skip WHY: the test cannot run (or cannot finish) here, for a reason outside
# fathom (a tool missing, not root). Exits 77, which CTest reports as skipped
# (SKIP_RETURN_CODE), never as passed; a test that skips must never exit 0.
skip() { echo "SKIP: $*" >&2; exit 77; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
# assert_contains WHAT NEEDLE FILE
assert_contains() { grep -qF -- "$2" "$3" || { sed 's/^/  | /' "$3" | head -40 >&2; fail "$1: '$2' not found in $3"; }; }
assert_not_contains() { ! grep -qF -- "$2" "$3" || fail "$1: '$2' unexpectedly found in $3"; }
# assert_near WHAT EXPECTED ACTUAL TOLERANCE (numbers, absolute)
assert_near() {
	awk -v e="$2" -v a="$3" -v t="$4" 'BEGIN { d = e - a; if (d < 0) d = -d; exit !(d <= t) }' ||
		fail "$1: expected $2 +/- $4, got $3"
}
# share_tol BASE PERCENT SAMPLES: BASE points plus two standard errors of
# a share of PERCENT% estimated from SAMPLES samples (a tolerance for a CPU
# share that counts its sampling noise).
share_tol() { awk -v b="$1" -v q="$2" -v n="$3" 'BEGIN { q /= 100; if (n < 1) n = 1; printf "%.1f\n", b + 200 * sqrt(q * (1 - q) / n) }'; }
# assert_le WHAT LIMIT ACTUAL
assert_le() { awk -v l="$2" -v a="$3" 'BEGIN { exit !(a <= l) }' || fail "$1: $3 is above the limit $2"; }
# assert_ge WHAT LIMIT ACTUAL
assert_ge() { awk -v l="$2" -v a="$3" 'BEGIN { exit !(a >= l) }' || fail "$1: $3 is below the limit $2"; }
# Runs a command, which must succeed.
run() { "$@" || fail "command failed ($?): $*"; }

# dump_pid DUMP: the pid of the process DUMP recorded.
dump_pid() {
	"$FATHOM" report --json "$1" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["pid"])' 2>/dev/null
}
# perf_maps_removed_at_exit: for a test whose programs write perf maps
# (/tmp/perf-PID.map: node's, Python's, jit_synth's). When the test exits,
# passed, failed or skipped, the map of each process recorded in a dump of
# the working directory is removed, unless a process of that pid still
# runs (its map is not the test's): a later process of the same pid would
# find the map stale (fathom warns of it; a CI run failed on that once).
perf_maps_removed_at_exit() { trap _perf_maps_remove EXIT; }
_perf_maps_remove() {
	local d pid
	for d in *.fdump *.fdump.*; do
		[ -f "$d" ] || continue
		pid=$(dump_pid "$d") && [ -n "$pid" ] || continue
		[ -e "/proc/$pid" ] || rm -f "/tmp/perf-$pid.map"
	done
}

# ctl_base UID: the directory of UID's control channels when XDG_RUNTIME_DIR
# is not set, as include/fathom-ctl.h picks it: /dev/shm/fathom-UID when
# /dev/shm is a world-writable sticky directory, else /tmp/fathom-UID.
ctl_base() {
	if [ -d /dev/shm ] && [ ! -L /dev/shm ] && [ -k /dev/shm ] &&
		[ "$(stat -c %a /dev/shm)" = 1777 ]; then
		echo "/dev/shm/fathom-$1"
	else
		echo "/tmp/fathom-$1"
	fi
}
