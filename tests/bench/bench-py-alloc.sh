#!/usr/bin/env bash
# Python allocation tracking cost (issue 15, item 8), with Debian's python3,
# on two workloads of py/mem_json.py:
# - json: 200,000 dicts of a number, a string and a short list; json.dumps,
#   then json.loads: the interpreter's own allocators (wrapped by the
#   agent). Run plainly, under `fathom record --alloc` (exact), exact with
#   the Python stack cache off (FATHOM_PY_ALLOC_CACHE=0: a fresh walk of the
#   Python frames per allocation), `fathom record --alloc-sample 512k`
#   (sampled) and `python3 -X tracemalloc`. Targets (docs/AGENT.md):
#   exact's slowdown at most half of tracemalloc's, sampled at most 1.2x.
# - native: 1,000,000 sqlite3 inserts in memory: C code called from Python
#   that takes its memory from malloc itself, whose allocations get the
#   thread's Python frames too. Run plainly, exact and sampled.
# Side by side in BENCH_RUNS rounds (default 5); the median of each
# configuration, as wall time and as CPU time (user + system, all threads).
source "$SRCDIR/tests/integration/py/py-lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

N=${BENCH_RECORDS:-200000}
NN=${BENCH_INSERTS:-1000000}
RUNS=${BENCH_RUNS:-5}
PY=$(py_base)
PROG="$PYDIR/mem_json.py"
configs=(plain exact exact-nocache sampled tracemalloc native-plain native-exact native-sampled)

run() {
	local cfg=$1 w=json n=$N
	case $cfg in native-*) w=native n=$NN ;; esac
	case $cfg in
	plain | native-plain) bench_time "$cfg" "$PY" "$PROG" $w "$n" ;;
	exact | native-exact) bench_time "$cfg" "$FATHOM" record -q --alloc -o "$WORKDIR/$cfg.fdump" -- \
		"$PY" "$PROG" $w "$n" ;;
	exact-nocache) bench_time "$cfg" env FATHOM_PY_ALLOC_CACHE=0 "$FATHOM" record -q --alloc \
		-o "$WORKDIR/$cfg.fdump" -- "$PY" "$PROG" $w "$n" ;;
	sampled | native-sampled) bench_time "$cfg" "$FATHOM" record -q --alloc-sample 512k \
		-o "$WORKDIR/$cfg.fdump" -- "$PY" "$PROG" $w "$n" ;;
	tracemalloc) bench_time "$cfg" "$PY" -X tracemalloc "$PROG" $w "$n" ;;
	esac
}

bench_rounds "$RUNS" run "${configs[@]}"

calls() {
	"$FATHOM" mem --no-symbols --json "$WORKDIR/$1.fdump" 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["alloc_calls"])'
}
echo "bench-py-alloc: $("$PY" -V 2>&1), $RUNS rounds side by side, medians; load average $(cut -d' ' -f1 /proc/loadavg)"
echo "json: $N records, $(calls exact) allocation calls recorded (exact);" \
	"native: $NN sqlite3 inserts, $(calls native-exact) allocation calls recorded (exact)"
printf "%-14s %9s %7s %9s %7s\n" config wall x cpu x
for cfg in "${configs[@]}"; do
	base=plain
	case $cfg in native-*) base=native-plain ;; esac
	awk -v c="$cfg" -v w="$(bench_fig "$cfg" wall)" -v u="$(bench_fig "$cfg" cpu)" -v w0="$(bench_fig $base wall)" \
		-v u0="$(bench_fig $base cpu)" 'BEGIN { printf "%-14s %8.2fs %6.2fx %8.2fs %6.2fx\n", c, w, w / w0, u, u / u0 }'
done
awk -v e="$(bench_fig exact cpu)" -v t="$(bench_fig tracemalloc cpu)" -v s="$(bench_fig sampled cpu)" \
	-v p="$(bench_fig plain cpu)" 'BEGIN {
	printf "exact slowdown (CPU) %.2fx against tracemalloc %.2fx: %.0f%% of tracemalloc'"'"'s added cost (target <= 50%%)\n",
		e / p, t / p, 100 * (e - p) / (t - p)
	printf "sampled %.2fx (target <= 1.2x)\n", s / p }'
