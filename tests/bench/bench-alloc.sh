#!/usr/bin/env bash
# Allocation tracking cost: 10 million malloc/free pairs (16 sizes, about 10
# frames deep, 15 leaks; progs/bench_alloc.c) run plain, under the agent in
# exact and sampled mode, and under heaptrack when it is installed. Runs
# alternate between the configurations; the median of BENCH_RUNS runs of each
# is reported, as wall time and as CPU time (user + system, all threads),
# which stays meaningful on a busy machine. Also: dump bytes per event, and
# the analyzer's time against heaptrack_print's. CPU sampling is off under
# the agent, as heaptrack does none: the dumps then hold the same facts.
# Targets (docs/AGENT.md): exact <= 1/3 of heaptrack's slowdown, sampled <=
# 1.1x, bytes/event <= heaptrack's compressed file.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/bench/timing.sh"

PAIRS=${BENCH_PAIRS:-10000000}
RUNS=${BENCH_RUNS:-3}
PROG=$PROGS/bench_alloc
EVENTS=$((2 * PAIRS + 15))
[ -x "$PROG" ] || fail "missing $PROG"
have_heaptrack=0
command -v heaptrack >/dev/null && have_heaptrack=1

configs="plain exact sampled"
[ $have_heaptrack = 1 ] && configs="$configs heaptrack"

run() {
	local cfg=$1
	case $cfg in
	plain) bench_time plain "$PROG" "$PAIRS" ;;
	exact | sampled)
		rm -f "$WORKDIR/$cfg.fdump"
		bench_time $cfg env LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$cfg FATHOM_CPU=0 \
			FATHOM_OUTPUT="$WORKDIR/$cfg.fdump" "$PROG" "$PAIRS" ;;
	heaptrack)
		rm -f "$WORKDIR"/ht.*
		bench_time heaptrack heaptrack -o "$WORKDIR/ht" "$PROG" "$PAIRS" ;;
	esac
}

bench_rounds "$RUNS" run $configs

wall=()
cpu=()
for cfg in $configs; do
	wall[${#wall[@]}]=$(bench_fig $cfg wall)
	cpu[${#cpu[@]}]=$(bench_fig $cfg cpu)
done

echo "bench-alloc: $PAIRS malloc/free pairs, $RUNS rounds side by side, medians; load average $(cut -d' ' -f1 /proc/loadavg)"
printf "%-10s %9s %7s %9s %7s %12s %10s\n" config wall x cpu x "dump bytes" "B/event"
i=0
for cfg in $configs; do
	size=-
	case $cfg in
	exact | sampled) size=$(stat -c %s "$WORKDIR/$cfg.fdump") ;;
	heaptrack) size=$(stat -c %s "$WORKDIR"/ht.* | head -1) ;;
	esac
	bpe=-
	[ "$size" != - ] && bpe=$(awk -v s="$size" -v e="$EVENTS" 'BEGIN { printf "%.4f", s / e }')
	awk -v c="$cfg" -v w="${wall[$i]}" -v w0="${wall[0]}" -v u="${cpu[$i]}" -v u0="${cpu[0]}" -v s="$size" -v b="$bpe" \
		'BEGIN { printf "%-10s %8.2fs %6.2fx %8.2fs %6.2fx %12s %10s\n", c, w, w / w0, u, u / u0, s, b }'
	i=$((i + 1))
done

# The analyzer on the same run, against heaptrack_print, when both exist.
if [ -x "${FATHOM:-}" ]; then
	/usr/bin/time -o "$WORKDIR/mem.time" -f "%e %M" "$FATHOM" mem "$WORKDIR/exact.fdump" >"$WORKDIR/mem.out" 2>&1 &&
		awk '{ printf "fathom mem (exact dump): %.2fs, %d MB max RSS\n", $1, $2 / 1024 }' "$WORKDIR/mem.time"
fi
if [ $have_heaptrack = 1 ] && command -v heaptrack_print >/dev/null; then
	/usr/bin/time -o "$WORKDIR/htp.time" -f "%e %M" heaptrack_print "$WORKDIR"/ht.* >"$WORKDIR/htp.out" 2>&1 &&
		awk '{ printf "heaptrack_print:          %.2fs, %d MB max RSS\n", $1, $2 / 1024 }' "$WORKDIR/htp.time"
fi
