#!/usr/bin/env bash
# CPU sampling cost: a CPU-bound program (two threads of floating point and
# integer work, about a second) run plain and under the agent at 99 (the
# default), 250 and 1000 Hz. Runs alternate between the configurations; the
# median of BENCH_RUNS runs is reported as wall time and as CPU time (user +
# system), with the overhead against the plain run. Target: <= 1% at 99 Hz.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

RUNS=${BENCH_RUNS:-9}
cc -O2 -g -pthread -o "$WORKDIR/cpu_bound" "$SRCDIR/tests/bench/workloads/cpu_bound.c" || fail "cannot build the workload"
PROG=$WORKDIR/cpu_bound
configs="plain 99 250 1000"

run() {
	local cfg=$1
	rm -f "$WORKDIR"/hz*.fdump*
	if [ "$cfg" = plain ]; then
		bench_time plain "$PROG"
	else
		bench_time "$cfg" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_HZ="$cfg" FATHOM_OUTPUT="$WORKDIR/hz$cfg.fdump" "$PROG"
	fi
}

bench_rounds "$RUNS" run $configs

echo "bench-cpu-overhead: $RUNS rounds side by side, medians; load average $(cut -d' ' -f1 /proc/loadavg)"
printf "%-8s %9s %9s %9s %9s\n" rate wall overhead cpu overhead
w0=$(bench_fig plain wall)
c0=$(bench_fig plain cpu)
for cfg in $configs; do
	w=$(bench_fig $cfg wall)
	c=$(bench_fig $cfg cpu)
	awk -v n="$cfg" -v w="$w" -v w0="$w0" -v c="$c" -v c0="$c0" \
		'BEGIN { printf "%-8s %8.3fs %+8.2f%% %8.3fs %+8.2f%%\n", n (n == "plain" ? "" : " Hz"), w, (w / w0 - 1) * 100, c, (c / c0 - 1) * 100 }'
done
