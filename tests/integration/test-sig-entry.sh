# The program's signals are its own: SIGPROF set through every libc entry
# point (and the raw rt_sigaction syscall), or blocked and read with signalfd
# or sigwaitinfo, behaves under the agent exactly as without it; and the
# agent's own sampling signal, set by the program through the same entry
# points, reports what the program set, runs its handler for its own
# signals only, and keeps the agent sampling.
. "$SRCDIR/tests/lib.sh"

cd "$WORKDIR" || exit 1
prog=$PROGS/sig_entry

# compare NAME ARGS...: plain and recorded runs print the same and exit the
# same; leaves the recording's summary line in $WORKDIR/NAME.sum. Every case
# runs; those that differ are listed at the end.
failed=""
compare() {
	local name=$1 prc rrc
	shift
	timeout -k 5 60 "$prog" "$@" >"$name.plain" 2>&1
	prc=$?
	timeout -k 5 60 "$FATHOM" record -F 1000 -o "$name.fdump" -- "$prog" "$@" >"$name.rec" 2>"$name.err"
	rrc=$?
	grep '^fathom:' "$name.err" >"$name.sum"
	grep -v '^fathom:' "$name.err" >>"$name.rec"
	if ! cmp -s "$name.plain" "$name.rec" || [ "$prc" != "$rrc" ]; then
		note "$name: differs under the agent (exit $prc plain, $rrc recorded)"
		diff "$name.plain" "$name.rec" | sed 's/^/  | /' >&2
		failed="$failed $name"
	fi
}

for mode in sysv sigset bsd signal sigaction raw signalfd sigwaitinfo dfl; do
	compare "prof-$mode" "$mode"
done
[ -z "$failed" ] || fail "the program's signals changed under the agent:$failed"
# The program arms nothing: it must see none of the agent's signals.
assert_contains "signalfd reads only its own" "signalfd: 0 signals before sending any, 3 of its own 3" prof-signalfd.rec
assert_contains "sigwaitinfo reads only its own" "sigwaitinfo: 0 signals before sending any, 3 of its own 3" prof-sigwaitinfo.rec
assert_contains "sigset's handler sees only its own" "sigset: 0 signals handled before sending any" prof-sigset.rec

# The agent's own signal, named explicitly so that the program knows it.
rtmax=$(kill -l SIGRTMAX 2>/dev/null) || rtmax=64
sig=$((rtmax - 3))
export FATHOM_SIGNAL=$sig
for mode in sysv sigset bsd signal sigaction raw dfl; do
	compare "own-$mode" "$mode" "$sig"
	[ -z "$failed" ] || fail "the program's view of the agent's signal differs:$failed"
	samples=$(sed -n 's/^fathom: \([0-9,]*\) samples.*/\1/p' "own-$mode.sum" | tr -d ,)
	[ "${samples:-0}" -gt 5 ] || fail "own-$mode: the agent's handler stopped sampling (${samples:-no} samples)"
done
assert_contains "raw rt_sigaction reads back the program's handler" "raw: reads back its handler yes" own-raw.rec
assert_contains "siginterrupt is seen by sigaction" "after siginterrupt: SA_RESTART off, handler ours yes" own-sigaction.rec

# A number outside the real-time range is refused with one message.
FATHOM_SIGNAL=5 "$FATHOM" record -o bad.fdump -- "$prog" signal >/dev/null 2>bad.err
assert_contains "a bad FATHOM_SIGNAL is named" "FATHOM_SIGNAL='5' is not a real-time signal number" bad.err
