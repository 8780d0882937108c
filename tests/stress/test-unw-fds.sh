# Stress (issue 12, item 1): the agent's sampling never touches the
# program's descriptors. A program that closes fds 3..1024 and then writes
# to a file it opens, and one that dup2's a file over fds 3..1023, are run
# UNW_RUNS times (default 20) under the agent at 10 kHz with exact
# allocation tracking; each run must end as the plain run does ("ok": every
# write succeeded, the file holds exactly what the program wrote, no fd of
# its was closed). libunwind's validation pipe failed this in several runs
# of 20: it closed and reopened its pipe over the program's files. The
# closefds program also closes the dump's descriptor: with a manifest (as
# under fathom record) the agent notes it there, not on the program's stderr.
. "$SRCDIR/tests/lib.sh"

prog=$PROGS/unw_fds
runs=${UNW_RUNS:-20}
secs=0.3
for mode in closefds dup2; do
	out=$("$prog" "$mode" "$WORKDIR/plain.$mode" "$secs" 2>&1)
	assert_eq "$mode: the plain run" ok "$out"
	bad=0
	for i in $(seq "$runs"); do
		out=$(FATHOM_HZ=10000 FATHOM_ALLOC=exact FATHOM_OUTPUT="$WORKDIR/$mode.%p.fdump" \
			FATHOM_MANIFEST="$WORKDIR/manifest" LD_PRELOAD="$FATHOM_AGENT" \
			timeout 60 "$prog" "$mode" "$WORKDIR/rec.$mode.$i" "$secs" 2>&1)
		if [ "$out" != ok ]; then
			note "$mode, run $i under the agent: $out"
			bad=$((bad + 1))
		fi
	done
	assert_eq "$mode: runs under the agent that differ from the plain run (of $runs)" 0 "$bad"
	rm -f "$WORKDIR"/rec.$mode.* "$WORKDIR"/$mode.*.fdump*
done
