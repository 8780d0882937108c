#!/usr/bin/env bash
# CPU sampling cost on pure Python: a CPU-bound program (py/split.py, three
# Python functions, about two seconds of CPU, so that fathom's fixed cost,
# some 40 ms of CPU to start the agent and write the summary, stays near 2%)
# run plainly, under the agent alone at the default rate (LD_PRELOAD, 99 Hz:
# the sampling and the dump) and under `fathom record` (the same plus
# fathom's launcher and its summary), in rounds that alternate, with
# Debian's /usr/bin/python3. The median of
# BENCH_RUNS rounds (default 7, at least 5) is reported as wall time and as
# CPU time (user + system of the whole command), with the overhead against
# the plain run, and the median of each round's own ratio to its plain run
# (steadier on a busy machine: the runs of a round see about the same load).
# Target: at most 2% at 99 Hz. BENCH_PY picks another Python, BENCH_HZ adds
# rates for the agent alone (e.g. "999").
source "$SRCDIR/tests/integration/py/py-lib.sh"

RUNS=${BENCH_RUNS:-7}
[ "$RUNS" -ge 5 ] || RUNS=5
PY=${BENCH_PY:-$(py_base)} || exit 77
N=${BENCH_PY_N:-40000000}
PROG=$PYDIR/split.py
configs="plain record 99 ${BENCH_HZ:-}"

run() {
	local cfg=$1 t=$WORKDIR/time
	rm -f "$WORKDIR"/rec.fdump* "$WORKDIR"/hz.fdump*
	case $cfg in
	plain) /usr/bin/time -o "$t" -f "%e %U %S" "$PY" "$PROG" "$N" >/dev/null ;;
	record)
		/usr/bin/time -o "$t" -f "%e %U %S" "$FATHOM" record -o "$WORKDIR/rec.fdump" -- \
			"$PY" "$PROG" "$N" >/dev/null 2>"$WORKDIR/rec.err" ;;
	*)
		/usr/bin/time -o "$t" -f "%e %U %S" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_HZ="$cfg" \
			FATHOM_OUTPUT="$WORKDIR/hz.fdump" "$PY" "$PROG" "$N" >/dev/null ;;
	esac || fail "$cfg run failed"
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$t"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
	for cfg in $configs; do
		run "$cfg" >>"$WORKDIR/results.$cfg"
	done
done

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "bench-py-cpu: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY), split.py $N; $RUNS alternating rounds, medians"
echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
printf "%-15s %9s %9s %9s %9s %14s %14s\n" run wall overhead cpu overhead "round wall" "round cpu"
w0=$(cut -d' ' -f1 "$WORKDIR/results.plain" | median)
c0=$(cut -d' ' -f2 "$WORKDIR/results.plain" | median)
for cfg in $configs; do
	w=$(cut -d' ' -f1 "$WORKDIR/results.$cfg" | median)
	c=$(cut -d' ' -f2 "$WORKDIR/results.$cfg" | median)
	pw=$(paste -d' ' "$WORKDIR/results.$cfg" "$WORKDIR/results.plain" | awk '{ print $1 / $3 }' | median)
	pc=$(paste -d' ' "$WORKDIR/results.$cfg" "$WORKDIR/results.plain" | awk '{ print $2 / $4 }' | median)
	awk -v n="$cfg" -v w="$w" -v w0="$w0" -v c="$c" -v c0="$c0" -v pw="$pw" -v pc="$pc" \
		'BEGIN { printf "%-15s %8.3fs %+8.2f%% %8.3fs %+8.2f%% %+13.2f%% %+13.2f%%\n", n == "plain" ? n : n == "record" ? "fathom record" : "agent " n " Hz", w, (w / w0 - 1) * 100, c, (c / c0 - 1) * 100, (pw - 1) * 100, (pc - 1) * 100 }'
done
