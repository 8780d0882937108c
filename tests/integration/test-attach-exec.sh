# A process that execs while attached (fathom record --pid): the dump ends
# at the exec (with a trailer) with the samples before it, fathom stops
# waiting at once (not at --duration's end), and the new image runs without
# the agent, its output as without fathom.
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start exec
sleep 0.3
start=$(date +%s%N)
"$FATHOM" record -F 1000 --pid "$TPID" --duration 20 -o ex.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid failed"; }
took=$(( ($(date +%s%N) - start) / 1000000 ))
cat err.txt >&2
note "fathom record --pid returned after $took ms"
assert_le "fathom stopped waiting at the exec (ms)" 10000 "$took"
wait "$TPID" || fail "the new image failed"
TPID=
assert_contains "the new image ran" "exec ok" target.out
"$FATHOM" report ex.fdump >report.txt 2>&1 || fail "fathom report failed"
sed 's/^/  | /' report.txt | head -12 >&2
assert_contains "samples before the exec" "hot60" report.txt
assert_not_contains "the dump is whole (a trailer)" "no trailer" report.txt
assert_not_contains "the dump is whole" "truncated" report.txt
