#!/usr/bin/env bash
# CPU sampling cost on pure Python (issue 15, item 8; target: at most 2% at
# 99 Hz): a CPU-bound program (py/split.py, three Python functions, about
# four seconds of CPU with Debian's python3, so that the agent's fixed cost
# of start and final dump stays a small part) run plainly, under the agent
# alone at the default rate (LD_PRELOAD, 99 Hz: the sampling and the dump)
# and under `fathom record` (the same plus fathom's launcher and summary),
# side by side in BENCH_RUNS rounds (default 7, at least 5) whose order
# reverses every other round. Reported: the median of each configuration's
# wall and CPU time (user + system of the whole command) with its overhead,
# and the figure to judge: the median of each round's own ratio to its
# plain run (a round's runs see about the same load), with the spread of
# those ratios. BENCH_PY picks another Python, BENCH_PY_N the iterations,
# BENCH_HZ adds rates for the agent alone (e.g. "999").
source "$SRCDIR/tests/integration/py/py-lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

RUNS=${BENCH_RUNS:-7}
[ "$RUNS" -ge 5 ] || RUNS=5
PY=${BENCH_PY:-$(py_base)} || exit 77
N=${BENCH_PY_N:-80000000}
PROG=$PYDIR/split.py
configs=(plain 99 record ${BENCH_HZ:-})

run() {
	local cfg=$1
	rm -f "$WORKDIR"/rec.fdump* "$WORKDIR"/hz.fdump*
	case $cfg in
	plain) bench_time plain "$PY" "$PROG" "$N" ;;
	record) bench_time record "$FATHOM" record -o "$WORKDIR/rec.fdump" -- "$PY" "$PROG" "$N" ;;
	*) bench_time "$cfg" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_HZ="$cfg" FATHOM_OUTPUT="$WORKDIR/hz.fdump" \
		"$PY" "$PROG" "$N" ;;
	esac
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_rounds "$RUNS" run "${configs[@]}"

echo "bench-py-cpu: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY), split.py $N; $RUNS rounds side by side, medians"
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
printf "%-15s %9s %9s %9s %9s %12s %12s %17s\n" run wall overhead cpu overhead "paired wall" "paired cpu" "cpu pairs min/max"
w0=$(bench_fig plain wall)
c0=$(bench_fig plain cpu)
for cfg in "${configs[@]}"; do
	w=$(bench_fig "$cfg" wall)
	c=$(bench_fig "$cfg" cpu)
	pw=$(bench_paired "$cfg" plain wall)
	pc=$(bench_paired "$cfg" plain cpu)
	read -r lo hi < <(bench_spread "$cfg" plain cpu)
	awk -v n="$cfg" -v w="$w" -v w0="$w0" -v c="$c" -v c0="$c0" -v pw="$pw" -v pc="$pc" -v lo="$lo" -v hi="$hi" \
		'BEGIN { printf "%-15s %8.3fs %+8.2f%% %8.3fs %+8.2f%% %+11.2f%% %+11.2f%% %+7.1f%%/%+.1f%%\n",
			n == "plain" ? n : n == "record" ? "fathom record" : "agent " n " Hz", w, (w / w0 - 1) * 100,
			c, (c / c0 - 1) * 100, (pw - 1) * 100, (pc - 1) * 100, (lo - 1) * 100, (hi - 1) * 100 }'
done
