# fathom record --pid refuses cleanly, in one line, and leaves the target
# running unchanged: a process that exits during the attach, a pid that does
# not exist, another user's process (the test drops to nobody with setpriv),
# a process traced already; and a second attach while one records.
source "$SRCDIR/tests/integration/attach-lib.sh"

# No such process.
"$FATHOM" record --pid 99999999999 2>err.txt && fail "took a pid that is no pid"
assert_contains "not a pid" "--pid takes a process id" err.txt
"$FATHOM" record --pid 4000000 2>err.txt && fail "attached to a pid that does not exist"
assert_contains "no such process" "no process 4000000" err.txt

# A process that exits during the attach: a short-lived one, attached
# again and again; every attempt either attaches or says why in one line.
for i in $(seq 5); do
	sleep 0.05 &
	sp=$!
	"$FATHOM" record -q --pid $sp --duration 0.1 -o gone$i.fdump 2>err.txt
	rc=$?
	wait $sp
	[ $rc = 0 ] || [ $rc = 1 ] || fail "exit status $rc for a process exiting during the attach"
	[ "$(wc -l <err.txt)" -le 1 ] || { cat err.txt >&2; fail "more than one line for an exiting target"; }
done

attach_start split
# Traced already: a second record while the first one's ptrace... is gone by
# then; a tracer of our own instead (strace, when installed).
if command -v strace >/dev/null; then
	strace -p "$TPID" -o /dev/null &
	ST=$!
	sleep 0.5
	"$FATHOM" record --pid "$TPID" --duration 0.2 2>err.txt && fail "attached to a traced process"
	cat err.txt >&2
	assert_contains "traced already" "traced already by process" err.txt
	kill $ST
	wait $ST 2>/dev/null
	sleep 0.2
fi
# Another user's process: as nobody, fathom may not attach.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FATHOM" record --pid "$TPID" --duration 0.2 \
		-o /tmp/never.fdump 2>err.txt && fail "nobody attached to root's process"
	cat err.txt >&2
	assert_contains "other user" "runs as uid 0" err.txt
	assert_eq "one line" 1 "$(wc -l <err.txt)"
else
	note "not root: the other-user case is not run"
fi
# While a recording runs, a second attach is refused by the agent.
"$FATHOM" record -q --pid "$TPID" --duration 2 -o first.fdump 2>err1.txt &
R1=$!
sleep 1
"$FATHOM" record --pid "$TPID" --duration 0.2 -o second.fdump 2>err.txt && fail "attached twice"
cat err.txt >&2
assert_contains "second attach refused" "being recorded already" err.txt
wait $R1 || { cat err1.txt >&2; fail "the first recording failed"; }
kill -0 "$TPID" || fail "the target died"
attach_stop
