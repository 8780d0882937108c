# fathom record --pid and seccomp (issue 21, item 3): a process whose filter
# kills at a call the agent needs (timer_create) is refused with one line
# naming the call, before anything changes in it, and runs on; one whose
# filter kills only at a call the agent never makes (acct) is attached and
# recorded; and a filter fathom cannot read (as nobody: reading filters
# needs CAP_SYS_ADMIN) refuses the attach too, the process running on.
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start seccomp-kill
grep -q "^Seccomp:[[:space:]]*2" /proc/$TPID/status || skip "no seccomp filter here ($(cat target.err))"
"$FATHOM" record --pid "$TPID" --duration 0.3 -o kill.fdump 2>err.txt && fail "attached to a process whose filter kills at timer_create"
cat err.txt >&2
assert_contains "the refusal names the call" "kills the process at timer_create" err.txt
assert_eq "one line" 1 "$(wc -l <err.txt)"
sleep 0.2
kill -0 "$TPID" || fail "the target died"
attach_stop

attach_start seccomp-ok
run "$FATHOM" record -F 1000 --pid "$TPID" --duration 0.5 -o ok.fdump 2>err.txt
n=$("$FATHOM" report --json ok.fdump | python3 -c 'import json, sys; print(json.load(sys.stdin)["samples"])')
note "a harmless filter: $n samples"
# 0.5 s gives 100-125 samples on a quiet machine, 11 at load 17: any
# number proves the attach records; 5 asks for more than chance.
assert_ge "samples of a process with a harmless filter" 5 "$n"
kill -0 "$TPID" || fail "the target died"
attach_stop

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PROGS/attach_target" seccomp-ok </dev/null >target.out 2>target.err &
	TPID=$!
	for _ in $(seq 100); do grep -q ready target.out 2>/dev/null && break; sleep 0.05; done
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FATHOM" record --pid "$TPID" --duration 0.2 \
		-o /tmp/never-seccomp.fdump 2>err.txt && fail "nobody attached to a filtered process it cannot check"
	cat err.txt >&2
	if grep -q "ptrace not permitted" err.txt; then
		note "ptrace between two nobody processes is not allowed here: the unreadable-filter case is not run"
	else
		assert_contains "an unreadable filter refuses" "cannot read" err.txt
	fi
	kill -0 "$TPID" || fail "the target died"
	attach_stop
else
	note "not root: the unreadable-filter case is not run"
fi
