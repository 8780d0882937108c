# Benchmark (issue 8, item 4): the analyzer reads a big dump streaming, with
# memory bounded by distinct stacks and live blocks, not by events. Writes a
# synthetic ~1 GB dump (BENCH_DUMP_BYTES) with a fixed number of stacks and a
# bounded live set, and one an eighth of its size with the same stacks and
# live set; prints time and max RSS of `fathom report` and `fathom mem` on both
# (/usr/bin/time -v), and fails when RSS grows with the number of events or
# when `fathom mem` misses the facts the generator put in the dump.
. "$SRCDIR/tests/lib.sh"

BYTES=${BENCH_DUMP_BYTES:-1G}
STACKS=${BENCH_STACKS:-5000}
LIVE=${BENCH_LIVE:-100000}
GEN=$PROGS/stress_gendump
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (apt-get install time)"

# BYTES may end in K, M or G; the small dump is an eighth of it.
small_bytes=$(awk -v b="$BYTES" 'BEGIN {
	n = b + 0; u = substr(b, length(b)); if (u == "G") n *= 1073741824; else if (u == "M") n *= 1048576; else if (u == "K") n *= 1024;
	printf "%d", n / 8 }')

gen() { # gen NAME SIZE
	local t0 t1
	t0=$(date +%s.%N)
	"$GEN" --bytes "$2" --stacks "$STACKS" --live "$LIVE" --threads 8 "$WORKDIR/$1.fdump" >"$WORKDIR/$1.facts" ||
		fail "stress_gendump failed"
	t1=$(date +%s.%N)
	note "$1: $(grep -E '^(file_bytes|events)=' "$WORKDIR/$1.facts" | tr '\n' ' ')written in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
}
fact() { sed -n "s/^$2=//p" "$WORKDIR/$1.facts"; }

# measure NAME CMD: runs `fathom CMD dump`, sets SECS and RSS_KB.
measure() {
	/usr/bin/time -v -o "$WORKDIR/$1.$2.time" "$FATHOM" "$2" "${@:3}" "$WORKDIR/$1.fdump" >"$WORKDIR/$1.$2.out" 2>"$WORKDIR/$1.$2.err" ||
		{ cat "$WORKDIR/$1.$2.err" >&2; fail "fathom $2 failed on $1.fdump"; }
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$WORKDIR/$1.$2.time")
	RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORKDIR/$1.$2.time")
}

gen small "$small_bytes"
gen big "$BYTES"
printf '%-8s %-7s %12s %14s %10s %12s %12s\n' dump command "dump MB" events seconds "MB/s" "max RSS MB"
declare -A rss
for d in small big; do
	mb=$(awk -v b="$(fact "$d" file_bytes)" 'BEGIN { printf "%.0f", b / 1048576 }')
	for cmd in report mem; do
		# mem in JSON, so that its facts can be checked below.
		if [ "$cmd" = mem ]; then measure "$d" mem --json; else measure "$d" report; fi
		rss[$d.$cmd]=$RSS_KB
		printf '%-8s %-7s %12s %14s %10.1f %12.1f %12.1f\n' "$d" "$cmd" "$mb" "$(fact "$d" events)" "$SECS" \
			"$(awk -v m="$mb" -v s="$SECS" 'BEGIN { print (s > 0 ? m / s : 0) }')" "$(awk -v k="$RSS_KB" 'BEGIN { print k / 1024 }')"
	done
done

# Eight times the events with the same stacks and live set may not cost
# anywhere near eight times the memory: allow 1.5x plus 16 MB of slack.
for cmd in report mem; do
	limit=$(awk -v s="${rss[small.$cmd]}" 'BEGIN { printf "%d", s * 1.5 + 16384 }')
	assert_le "fathom $cmd max RSS (KB) on the big dump vs the small one (${rss[small.$cmd]} KB)" "$limit" "${rss[big.$cmd]}"
done

# The facts the generator wrote must come out of the big dump, exactly.
for pair in alloc_calls:totals.alloc_calls alloc_bytes:totals.alloc_bytes frees:totals.frees \
	peak_bytes:peak.bytes leaked_bytes:leaks.bytes leaked_blocks:leaks.blocks; do
	got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[k]
print(d)' "$WORKDIR/big.mem.out" "${pair#*:}") || fail "cannot read ${pair#*:} from fathom mem --json"
	assert_eq "big dump: ${pair%%:*}" "$(fact big "${pair%%:*}")" "$got"
done
rm -f "$WORKDIR"/*.fdump
