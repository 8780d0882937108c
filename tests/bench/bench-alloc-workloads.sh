#!/usr/bin/env bash
# Allocation tracking cost on real workloads (issue 20): the sqlite3 script
# (workloads/sqlite.sql), a C++ std::string/vector/map program
# (workloads/cxx_alloc.cpp), the malloc-bound micro-benchmark (progs/
# bench_alloc: 4 million malloc/free pairs of 16 sizes from four call sites
# about 10 frames deep), `git log -p` of this repository and `gcc -O2` (its compiler
# proper, cc1) of a generated C file (workloads/gen-c.sh), each run plain, under the agent in
# exact and sampled mode (CPU sampling off, as heaptrack does none) and under
# heaptrack, alternating round by round. Prints per workload the median of
# the per-round ratios to the plain run (CPU time: user + system, all
# threads, steadier than wall on a shared machine; wall too), exact's
# overhead as a share of heaptrack's ((exact - 1) / (heaptrack - 1)), and
# the dump sizes in bytes per event.
# Environment: BENCH_RUNS (rounds, default 5), BENCH_WORKLOADS (a subset of
# "sqlite cxx micro git gcc"), BENCH_CONFIGS (a subset of "plain exact
# sampled heaptrack"; plain is always run).
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

RUNS=${BENCH_RUNS:-5}
WORKLOADS=${BENCH_WORKLOADS:-sqlite cxx micro git gcc}
configs=${BENCH_CONFIGS:-exact sampled heaptrack}
command -v heaptrack >/dev/null || configs=${configs/heaptrack/}
configs="plain ${configs/plain/}"
W=$SRCDIR/tests/bench/workloads

# The workloads' command lines, built once.
wl_cmd() {
	case $1 in
	sqlite) echo "sqlite3 :memory: '.read $W/sqlite.sql'" ;;
	cxx) echo "$WORKDIR/cxx_alloc" ;;
	micro) echo "$PROGS/bench_alloc 4000000" ;;
	git) echo "git -C $SRCDIR log -p -n 3000 --no-color" ;;
	gcc) echo "$CC1 -quiet -O2 $WORKDIR/big.c -o $WORKDIR/big.s" ;;
	esac
}
for w in $WORKLOADS; do
	case $w in
	sqlite) command -v sqlite3 >/dev/null || skip "sqlite3 not installed" ;;
	cxx) g++ -O2 -g "$W/cxx_alloc.cpp" -o "$WORKDIR/cxx_alloc" || fail "cannot build cxx_alloc" ;;
	micro) [ -x "$PROGS/bench_alloc" ] || fail "missing $PROGS/bench_alloc" ;;
	git) git -C "$SRCDIR" rev-parse HEAD >/dev/null 2>&1 || skip "$SRCDIR is not a git checkout" ;;
	gcc)
		# The compiler proper, not the driver: heaptrack follows no child.
		CC1=$(gcc -print-prog-name=cc1)
		[ -x "$CC1" ] || skip "no cc1"
		bash "$W/gen-c.sh" >"$WORKDIR/big.c" ;;
	*) fail "unknown workload $w" ;;
	esac
done

# run WORKLOAD.CONFIG: one timed run.
run() {
	local w=${1%.*} cfg=${1#*.} cmd
	cmd=$(wl_cmd "$w")
	case $cfg in
	plain) eval bench_time "$1" "$cmd" ;;
	exact | sampled)
		rm -f "$WORKDIR/$w.$cfg.fdump"*
		eval bench_time "$1" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$cfg FATHOM_CPU=0 \
			FATHOM_OUTPUT="$WORKDIR/$w.$cfg.fdump" "$cmd" ;;
	heaptrack)
		rm -f "$WORKDIR/$w.ht".*
		eval bench_time "$1" heaptrack -o "$WORKDIR/$w.ht" "$cmd" ;;
	esac
}

echo "bench-alloc-workloads: $RUNS rounds side by side, median of per-round ratios to plain; $(uptime)"
printf "%-7s %-10s %8s %8s %8s %12s %9s\n" workload config cpu-x wall-x "of ht" "dump bytes" "B/event"
for w in $WORKLOADS; do
	list=()
	for c in $configs; do list+=("$w.$c"); done
	bench_rounds "$RUNS" run "${list[@]}"
	events=-
	if [ -f "$WORKDIR/$w.exact.fdump" ] && [ -x "${FATHOM:-}" ]; then
		events=$("$FATHOM" mem --json "$WORKDIR/$w.exact.fdump" 2>/dev/null |
			python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print(t["alloc_calls"] + t["frees"])' 2>/dev/null || echo -)
	fi
	htx=
	for c in $configs; do
		cx=$(bench_paired "$w.$c" "$w.plain" cpu)
		wx=$(bench_paired "$w.$c" "$w.plain" wall)
		[ "$c" = heaptrack ] && htx=$cx
		size=-
		case $c in
		exact | sampled) size=$(cat "$WORKDIR/$w.$c.fdump"* 2>/dev/null | wc -c) ;;
		heaptrack) size=$(cat "$WORKDIR/$w.ht".* 2>/dev/null | wc -c) ;;
		esac
		printf "%s %s %s %s %s %s\n" "$w" "$c" "$cx" "$wx" "$size" "$events"
	done | awk -v h="$(bench_paired "$w.heaptrack" "$w.plain" cpu 2>/dev/null)" '{
		of = "-"; if ($2 == "exact" && h > 1) of = sprintf("%.2f", ($3 - 1) / (h - 1))
		bpe = ($5 != "-" && $6 != "-" && $6 > 0) ? sprintf("%.3f", $5 / $6) : "-"
		printf "%-7s %-10s %7.2fx %7.2fx %8s %12s %9s\n", $1, $2, $3, $4, of, $5, bpe }'
done
