#!/usr/bin/env bash
# Python allocation tracking cost (issue 15, item 8): the JSON workload
# (200,000 dicts of a number, a string and a short list; json.dumps, then
# json.loads: py/mem_json.py) with Debian's python3, run plain, under
# `fathom record --alloc` (exact), exact with the Python stack cache off
# (FATHOM_PY_ALLOC_CACHE=0: a fresh walk of the Python frames per
# allocation), `fathom record --alloc-sample 512k` (sampled) and
# `python3 -X tracemalloc`. Runs alternate between the configurations; the
# median of BENCH_RUNS (5) runs of each is reported, as wall time and as CPU
# time (user + system, all threads). Targets (docs/AGENT.md): exact's
# slowdown at most half of tracemalloc's, sampled at most 1.2x.
source "$SRCDIR/tests/integration/py/py-lib.sh"

N=${BENCH_RECORDS:-200000}
RUNS=${BENCH_RUNS:-5}
PY=$(py_base)
PROG="$PYDIR/mem_json.py"
configs="plain exact exact-nocache sampled tracemalloc"

# run CONFIG RUN: prints "wall cpu" seconds.
run() {
	local cfg=$1 r=$2 t=$WORKDIR/time.$cfg.$r
	case $cfg in
	plain) /usr/bin/time -o "$t" -f "%e %U %S" "$PY" "$PROG" json "$N" >/dev/null ;;
	exact) /usr/bin/time -o "$t" -f "%e %U %S" "$FATHOM" record -q --alloc -o "$WORKDIR/e.fdump" -- \
		"$PY" "$PROG" json "$N" >/dev/null ;;
	exact-nocache) /usr/bin/time -o "$t" -f "%e %U %S" env FATHOM_PY_ALLOC_CACHE=0 "$FATHOM" record -q \
		--alloc -o "$WORKDIR/n.fdump" -- "$PY" "$PROG" json "$N" >/dev/null ;;
	sampled) /usr/bin/time -o "$t" -f "%e %U %S" "$FATHOM" record -q --alloc-sample 512k \
		-o "$WORKDIR/s.fdump" -- "$PY" "$PROG" json "$N" >/dev/null ;;
	tracemalloc) /usr/bin/time -o "$t" -f "%e %U %S" "$PY" -X tracemalloc "$PROG" json "$N" >/dev/null ;;
	esac || fail "$cfg run failed"
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$t"
}

for r in $(seq 1 "$RUNS"); do
	for cfg in $configs; do
		run "$cfg" "$r" >>"$WORKDIR/results.$cfg"
	done
done

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A wall cpu
for cfg in $configs; do
	wall[$cfg]=$(cut -d' ' -f1 "$WORKDIR/results.$cfg" | median)
	cpu[$cfg]=$(cut -d' ' -f2 "$WORKDIR/results.$cfg" | median)
done

events=$("$FATHOM" mem --no-symbols --json "$WORKDIR/e.fdump" 2>/dev/null |
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["alloc_calls"])')
echo "bench-py-alloc: JSON workload, $N records, $("$PY" -V 2>&1), $RUNS runs each, median;" \
	"$events allocation calls recorded (exact); load average $(cut -d' ' -f1 /proc/loadavg)"
printf "%-14s %9s %7s %9s %7s\n" config wall x cpu x
for cfg in $configs; do
	awk -v c="$cfg" -v w="${wall[$cfg]}" -v u="${cpu[$cfg]}" -v w0="${wall[plain]}" -v u0="${cpu[plain]}" \
		'BEGIN { printf "%-14s %8.2fs %6.2fx %8.2fs %6.2fx\n", c, w, w / w0, u, u / u0 }'
done
awk -v e="${cpu[exact]}" -v t="${cpu[tracemalloc]}" -v s="${cpu[sampled]}" -v p="${cpu[plain]}" 'BEGIN {
	printf "exact slowdown (CPU) %.2fx against tracemalloc %.2fx: %.0f%% of tracemalloc'"'"'s added cost (target <= 50%%)\n",
		e / p, t / p, 100 * (e - p) / (t - p)
	printf "sampled %.2fx (target <= 1.2x)\n", s / p }'
