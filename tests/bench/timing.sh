# Shared by the benchmarks (bench-*.sh): timed runs of configurations that
# alternate round by round, and their medians. Source after tests/lib.sh
# (or py-lib.sh). A configuration's runs go to $WORKDIR/results.CONFIG, one
# "WALL CPU" line a round, in seconds: CPU is user + system of the whole
# command, all threads, which stays meaningful on a busy machine.

# bench_time CONFIG CMD...: runs CMD under /usr/bin/time (stdout discarded,
# stderr to $WORKDIR/CONFIG.err) and appends its figures to CONFIG's results.
bench_time() {
	local cfg=$1 t=$WORKDIR/time.$1
	shift
	/usr/bin/time -o "$t" -f "%e %U %S" "$@" >/dev/null 2>"$WORKDIR/$cfg.err" ||
		{ tail -5 "$WORKDIR/$cfg.err" >&2; fail "$cfg run failed: $*"; }
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$t" >>"$WORKDIR/results.$cfg"
}

# bench_rounds RUNS FUNC CONFIG...: RUNS rounds, each calling FUNC CONFIG
# for every CONFIG in turn (FUNC runs bench_time once), the order reversed
# every other round: the configurations of a round see about the same load,
# and none always runs first, or always right after another.
bench_rounds() {
	local runs=$1 fn=$2 r cfg order
	shift 2
	for r in $(seq 1 "$runs"); do
		order=("$@")
		[ $((r % 2)) = 0 ] && order=($(printf '%s\n' "$@" | tac))
		for cfg in "${order[@]}"; do
			"$fn" "$cfg"
		done
	done
}

# bench_median: the median of the numbers on stdin.
bench_median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench_fig CONFIG wall|cpu: the median over CONFIG's runs.
bench_fig() {
	local col=1
	[ "$2" = cpu ] && col=2
	cut -d' ' -f$col "$WORKDIR/results.$1" | bench_median
}

# bench_paired CONFIG BASE wall|cpu: the median of each round's ratio of
# CONFIG to BASE (steadier than the ratio of the medians on a busy machine).
bench_paired() {
	local col=1
	[ "$3" = cpu ] && col=2
	paste -d' ' "$WORKDIR/results.$1" "$WORKDIR/results.$2" | awk -v c=$col '{ print $c / $(c + 2) }' | bench_median
}

# bench_spread CONFIG BASE cpu|wall: the smallest and largest of those
# ratios, "MIN MAX": how far a single pair can be trusted.
bench_spread() {
	local col=1
	[ "$3" = cpu ] && col=2
	paste -d' ' "$WORKDIR/results.$1" "$WORKDIR/results.$2" | awk -v c=$col '{ print $c / $(c + 2) }' | sort -g |
		awk 'NR == 1 { a = $1 } { b = $1 } END { print a, b }'
}
