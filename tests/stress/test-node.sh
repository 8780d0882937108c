# Stress: node -e running a small script (classes, Map, JSON, zlib on the
# libuv thread pool, a promise chain, exit code 5).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

command -v node >/dev/null || fail "node is not installed (scripts/test.sh installs it)"
stress_run node -- node -e "$(cat "$SRCDIR/tests/stress/inputs/stress.js")"
assert_eq "exit status of the target" 5 "$STRESS_RC"
