#!/usr/bin/env bash
# CPU sampling cost: a CPU-bound program (two threads of floating point and
# integer work, about a second) run plain and under the agent at 99 (the
# default), 250 and 1000 Hz. Runs alternate between the configurations; the
# median of BENCH_RUNS runs is reported as wall time and as CPU time (user +
# system), with the overhead against the plain run. Target: <= 1% at 99 Hz.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

RUNS=${BENCH_RUNS:-9}
cat >"$WORKDIR/cpu_bound.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static volatile double sink;
__attribute__((noinline)) static double fp_work(long n)
{
	double s = 0;
	for (long i = 1; i < n; i++)
		s += 1.0 / (double)i * (i & 1 ? 1 : -1);
	return s;
}
__attribute__((noinline)) static unsigned long int_work(long n)
{
	unsigned long h = 1469598103934665603ul;
	for (long i = 0; i < n; i++)
		h = (h ^ (unsigned long)i) * 1099511628211ul;
	return h;
}
static void *thread_main(void *arg)
{
	sink += (double)int_work((long)arg);
	return NULL;
}
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000000;
	pthread_t t;
	pthread_create(&t, NULL, thread_main, (void *)(n * 2));
	sink += fp_work(n);
	pthread_join(t, NULL);
	printf("%d\n", sink != 0);
	return 0;
}
C
cc -O2 -g -pthread -o "$WORKDIR/cpu_bound" "$WORKDIR/cpu_bound.c" || fail "cannot build the workload"
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
