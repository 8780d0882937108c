#!/usr/bin/env bash
# The agent's cost per CPU sample at about 20 frames (issue 20, item 4),
# measured inside the agent (FATHOM_DEBUG_COST=1, preload/sample-cost.c):
# from the handler's entry to the sample pushed, after a warm-up of 64
# samples, on progs/stress_recursion 15 levels deep (21 frames) at 1 kHz.
# Prints the agent's own line (median, 90th percentile, mean) of each of
# BENCH_RUNS runs (default 3), with the load average. Target: <= 2 us.
source "$SRCDIR/tests/lib.sh"

RUNS=${BENCH_RUNS:-3}
prog=$PROGS/stress_recursion
[ -x "$prog" ] || fail "missing $prog"
echo "bench-sample-cost: 21-frame CPU samples at 1 kHz; $(uptime)"
for r in $(seq 1 "$RUNS"); do
	FATHOM_DEBUG_COST=1 FATHOM_HZ=1000 FATHOM_OUTPUT="$WORKDIR/r$r.fdump" LD_PRELOAD="$FATHOM_AGENT" \
		"$prog" 15 4 >/dev/null 2>"$WORKDIR/r$r.err" || fail "run $r failed"
	grep "sample cost" "$WORKDIR/r$r.err" || fail "no cost line in run $r: $(cat "$WORKDIR/r$r.err")"
done
