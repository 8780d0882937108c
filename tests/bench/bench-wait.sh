#!/usr/bin/env bash
# The waiting profile's cost (issue 17): 10 million uncontended lock/unlock
# pairs on one thread, and 4 threads sharing one mutex (2 million pairs in
# all, a little work inside), each run plain (no agent), under the agent
# without waits (FATHOM_CPU=0: the interposers' pass-through alone) and
# with FATHOM_WAIT=1 (FATHOM_CPU=0 too, so that only waits differ).
# Configurations alternate within each round; the median of BENCH_RUNS
# rounds is reported, as the loop's wall time and CPU time (the process's
# CPU clock: on a busy machine the steadier one), with the ratios to
# plain. Targets (docs/AGENT.md): uncontended <= 1.15x, contended <= 1.3x.
source "$SRCDIR/tests/lib.sh"

PROG=$PROGS/wait_bench
RUNS=${BENCH_RUNS:-5}
UNC=${BENCH_PAIRS:-10000000}
CON=${BENCH_CONTENDED:-2000000}
[ -x "$PROG" ] || fail "missing $PROG"

# one CONFIG MODE N: prints "wall cpu" of the loop.
one() {
	local out
	case $1 in
	plain) out=$("$PROG" "$2" "$3") ;;
	agent) out=$(env LD_PRELOAD="$FATHOM_AGENT" FATHOM_CPU=0 FATHOM_OUTPUT="$WORKDIR/a.fdump" "$PROG" "$2" "$3") ;;
	wait) out=$(env LD_PRELOAD="$FATHOM_AGENT" FATHOM_CPU=0 FATHOM_WAIT=1 FATHOM_OUTPUT="$WORKDIR/w.fdump" \
		"$PROG" "$2" "$3") ;;
	esac || fail "$1 $2 failed"
	awk '{ print $2, $4 }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

note "load: $(uptime)"
for mode in uncontended contended; do
	n=$UNC
	[ $mode = contended ] && n=$CON
	for r in $(seq "$RUNS"); do
		for cfg in plain agent wait; do
			one $cfg $mode "$n" >>"$WORKDIR/$mode.$cfg"
		done
	done
	for cfg in plain agent wait; do
		w=$(awk '{ print $1 }' "$WORKDIR/$mode.$cfg" | median)
		c=$(awk '{ print $2 }' "$WORKDIR/$mode.$cfg" | median)
		echo "$mode $cfg $w $c" >>"$WORKDIR/medians"
	done
done
awk '{ w[$1, $2] = $3; c[$1, $2] = $4 }
	END {
		printf "%-12s %-7s %9s %9s %11s %11s\n", "pairs", "config", "wall s", "cpu s", "wall ratio", "cpu ratio"
		split("uncontended contended", ms, " ")
		split("plain agent wait", cs, " ")
		for (i = 1; i <= 2; i++)
			for (j = 1; j <= 3; j++) {
				m = ms[i]; k = cs[j]
				printf "%-12s %-7s %9.3f %9.3f %10.2fx %10.2fx\n", m, k, w[m, k], c[m, k],
					w[m, k] / w[m, "plain"], c[m, k] / c[m, "plain"]
			}
	}' "$WORKDIR/medians"
note "load: $(uptime)"
