#!/usr/bin/env bash
# The samples' figures for samples/README.md: each sample's slow and fast way
# run plainly BENCH_RUNS times (default 5), alternating, with the median wall
# time, the median CPU time (user + system, all threads: still meaningful on a
# busy machine) and the largest RSS; then the slow way once more under
# `fathom record` (--alloc where the sample is about memory, --clock wall for
# locks) for the profiler's overhead on it. Prints a Markdown table. The
# Python samples (samples/python, py-NAME in the table) run with Debian's
# /usr/bin/python3 when it is there.
source "$SRCDIR/tests/lib.sh"

RUNS=${BENCH_RUNS:-5}   # BENCH_SAMPLES (below) picks the samples
"$SAMPLES/stream" gen "$WORKDIR/input.csv" 32 || fail "stream gen failed"
PY=/usr/bin/python3
PYSAMPLES=$SRCDIR/samples/python
pynames=""
if [ -x "$PY" ]; then
	"$PY" "$PYSAMPLES/stream.py" gen "$WORKDIR/input-py.csv" 2 || fail "stream.py gen failed"
	pynames="py-memo py-stream py-compact py-threads py-index"
fi

# args NAME WAY: the sample's command line.
args() {
	case $1 in
	stream) echo "$SAMPLES/stream $2 $WORKDIR/input.csv" ;;
	py-stream) echo "$PY $PYSAMPLES/stream.py $2 $WORKDIR/input-py.csv" ;;
	py-*) echo "$PY $PYSAMPLES/${1#py-}.py $2" ;;
	*) echo "$SAMPLES/$1 $2" ;;
	esac
}

# median FILE COLUMN
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# timed OUTFILE CMD...: appends "wall cpu maxrss_kib" to OUTFILE; the wall time
# from date +%s%N (time(1) rounds it to 10 ms), the rest from time(1).
timed() {
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -o "$WORKDIR/t" -f "%U %S %M" "$@" >/dev/null || fail "run failed: $*"
	t1=$(date +%s%N)
	awk -v w="$(((t1 - t0) / 1000))" '{ printf "%.4f %.3f %s\n", w / 1e6, $1 + $2, $3 }' "$WORKDIR/t" >>"$out"
}

note "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $RUNS runs each"
echo "| sample | slow wall | fast wall | wall gain | slow CPU | fast CPU | slow RSS | fast RSS | recorded slow wall (overhead) |"
echo "|---|---|---|---|---|---|---|---|---|"
# BENCH_SAMPLES="py-memo py-index" measures only those.
for name in ${BENCH_SAMPLES:-memo lru loops stream compact threads index churn locks $pynames}; do
	rm -f "$WORKDIR"/slow.t "$WORKDIR"/fast.t "$WORKDIR"/rec.t
	for ((r = 0; r < RUNS; r++)); do
		# shellcheck disable=SC2046
		timed "$WORKDIR/slow.t" $(args $name slow)
		# shellcheck disable=SC2046
		timed "$WORKDIR/fast.t" $(args $name fast)
	done
	case $name in
	lru | stream | compact | churn | memo | py-stream | py-compact) rec=(--alloc) ;;
	locks) rec=(--clock wall) ;;
	*) rec=() ;;
	esac
	# shellcheck disable=SC2046
	timed "$WORKDIR/rec.t" "$FATHOM" record "${rec[@]}" -o "$WORKDIR/$name.fdump" -- $(args $name slow)
	ws=$(median "$WORKDIR/slow.t" 1) wf=$(median "$WORKDIR/fast.t" 1)
	cs=$(median "$WORKDIR/slow.t" 2) cf=$(median "$WORKDIR/fast.t" 2)
	rs=$(awk '$3 > m { m = $3 } END { print m }' "$WORKDIR/slow.t")
	rf=$(awk '$3 > m { m = $3 } END { print m }' "$WORKDIR/fast.t")
	wr=$(median "$WORKDIR/rec.t" 1)
	awk -v n="$name" -v ws="$ws" -v wf="$wf" -v cs="$cs" -v cf="$cf" -v rs="$rs" -v rf="$rf" -v wr="$wr" -v rec="${rec[*]}" 'BEGIN {
		g = ws / wf
		printf "| %s | %.2f s | %.3f s | %.*fx | %.2f s | %.2f s | %.1f MiB | %.1f MiB | %.2f s (%+.0f%%%s) |\n",
			n, ws, wf, g < 10 ? 1 : 0, g, cs, cf, rs / 1024, rf / 1024, wr, 100 * (wr / ws - 1), rec == "" ? "" : ", " rec
	}'
done
rm -f "$WORKDIR/input.csv" "$WORKDIR/input-py.csv"
note "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
