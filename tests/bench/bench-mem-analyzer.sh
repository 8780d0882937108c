# Benchmark (issue 3, item 6, analyzer side): `fathom mem` on the dump of the
# 10M malloc/free-pair workload (bench_alloc) against heaptrack_print on
# heaptrack's file of the same program. Prints wall time, CPU time and max RSS
# of both (best of BENCH_RUNS runs, /usr/bin/time -v); the target is at most a
# third of heaptrack_print's CPU time with less memory. Both must agree on the
# allocation calls and the leaks. BENCH_PAIRS changes the workload's size.
. "$SRCDIR/tests/lib.sh"

PAIRS=${BENCH_PAIRS:-10000000}
RUNS=${BENCH_RUNS:-3}
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (apt-get install time)"
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
	skip "heaptrack is not installed; nothing to compare with"

run "$FATHOM" record -q --alloc --no-cpu -o bench.fdump -- "$PROGS/bench_alloc" "$PAIRS" >/dev/null 2>record.err
heaptrack -o bench.heaptrack "$PROGS/bench_alloc" "$PAIRS" >heaptrack.out 2>&1 || fail "heaptrack failed"
htfile=$(ls bench.heaptrack.* | head -1)
[ -n "$htfile" ] || fail "heaptrack wrote no file"

# best NAME CMD...: runs CMD RUNS times; sets SECS, CPU and RSS_KB of the fastest run.
best() {
	local name=$1 i s c r
	shift
	SECS=
	for i in $(seq "$RUNS"); do
		/usr/bin/time -v -o "$name.time" "$@" >"$name.out" 2>"$name.err" ||
			{ tail -5 "$name.err" >&2; fail "$name failed: $*"; }
		s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); t = 0; for (i = 1; i <= n; i++) t = t * 60 + a[i]; print t }' "$name.time")
		c=$(awk -F': ' '/User time/ { u = $2 } /System time/ { k = $2 } END { print u + k }' "$name.time")
		r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$name.time")
		if [ -z "$SECS" ] || awk -v a="$s" -v b="$SECS" 'BEGIN { exit !(a < b) }'; then
			SECS=$s CPU=$c RSS_KB=$r
		fi
	done
}

best fathom-mem "$FATHOM" mem bench.fdump
f_secs=$SECS f_cpu=$CPU f_rss=$RSS_KB
best heaptrack-print heaptrack_print "$htfile"
h_secs=$SECS h_cpu=$CPU h_rss=$RSS_KB
run "$FATHOM" mem --json bench.fdump >bench.json

f_calls=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["alloc_calls"])' bench.json)
f_leak=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["leaks"]["blocks"])' bench.json)
h_calls=$(sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p' heaptrack-print.out)
dump_bytes=$(stat -c %s bench.fdump)
ht_bytes=$(stat -c %s "$htfile")

printf '\n%-28s %10s %10s %10s %14s %12s\n' "analyzer ($PAIRS pairs)" "wall s" "cpu s" "max RSS" "input bytes" "alloc calls"
printf '%-28s %10s %10s %7d MB %14d %12s\n' "fathom mem" "$f_secs" "$f_cpu" $((f_rss / 1024)) "$dump_bytes" "$f_calls"
printf '%-28s %10s %10s %7d MB %14d %12s\n' "heaptrack_print" "$h_secs" "$h_cpu" $((h_rss / 1024)) "$ht_bytes" "$h_calls"
ratio=$(awk -v a="$f_secs" -v b="$h_secs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
cratio=$(awk -v a="$f_cpu" -v b="$h_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
printf 'fathom mem takes %s of heaptrack_print'"'"'s wall time and %s of its CPU time (target <= 0.33),\nand %s of its memory (target < 1)\n\n' \
	"$ratio" "$cratio" "$(awk -v a="$f_rss" -v b="$h_rss" 'BEGIN { printf "%.2f", a / b }')"

# Both count the workload's pairs plus what libc and the loader allocate.
assert_near "allocation calls, fathom vs heaptrack" "$h_calls" "$f_calls" "$((h_calls / 1000 + 10))"
[ "$f_leak" -ge 15 ] || fail "bench_alloc leaks 15 blocks; fathom mem found $f_leak"
# Both are single-threaded: CPU time is the fair measure on a busy machine.
assert_le "fathom mem CPU time vs a third of heaptrack_print's" "$(awk -v b="$h_cpu" 'BEGIN { print b / 3 }')" "$f_cpu"
assert_le "fathom mem max RSS vs heaptrack_print's" "$h_rss" "$f_rss"
echo "ok"
