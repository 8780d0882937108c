#!/usr/bin/env bash
# Exports of big profiles: 1,000,000 CPU samples over ~100,000 distinct stacks
# of real libc functions (export_gendump), and the same sample count over
# 100,000 stacks of ~1.8M distinct unsymbolized addresses (stress_gendump, the
# worst case for function and location tables). Prints the time of each
# export next to the time of loading alone (fathom report), and checks that
# the results are still read by their consumers with the right totals.
source "$SRCDIR/tests/lib.sh"
LIMIT=${BENCH_EXPORT_LIMIT:-30}   # seconds an export may take before this fails

now() { date +%s.%N; }
# timed LABEL CMD...: runs CMD (its stdout to cmd.out), prints its wall and
# user+sys seconds (and its peak RSS when /usr/bin/time is there), and fails
# when it takes longer than LIMIT.
timed() {
	local label=$1
	shift
	local t0 t1 u s kb=""
	t0=$(now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%U %S %M" -o time.txt "$@" >cmd.out || fail "$label: command failed: $*"
		read -r u s kb <time.txt
	else
		local TIMEFORMAT="%U %S"
		{ time "$@" >cmd.out 2>cmd.err; } 2>time.txt || { cat cmd.err >&2; fail "$label: command failed: $*"; }
		read -r u s <time.txt
	fi
	t1=$(now)
	local wall cpu
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	printf "%-34s %7s s wall %7s s cpu%s\n" "$label" "$wall" "$cpu" "${kb:+ $(printf "%8d" "$kb") KB max RSS}"
	[ -n "${NO_LIMIT:-}" ] || assert_le "$label (s)" "$LIMIT" "$wall"
}
# consumer LABEL CMD...: the same for other tools reading our output; their time is theirs, not limited.
consumer() { NO_LIMIT=1 timed "$@"; }
size() { printf "%-34s %10d bytes\n" "  $1" "$(stat -c %s "$1")"; }

libc=$(ldd "$FATHOM" | awk '/libc\.so/ { print $3 }')
[ -f "$libc" ] || fail "libc not found"
nm -D --defined-only "$libc" | awk '$2 ~ /^[Tt]$/ { print $1 }' | sort -u >funcs.txt
"$PROGS/export_gendump" --module "$libc" --funcs funcs.txt --samples 1000000 --stacks 100000 real.fdump >facts.txt ||
	fail "export_gendump failed"
note "real-shaped dump: $(tr '\n' ' ' <facts.txt)($(wc -l <funcs.txt) libc functions)"
echo "== 1,000,000 samples, $(sed -n 's/^stacks=//p' facts.txt) distinct stacks of libc functions"
timed "load only (fathom report)" "$FATHOM" report real.fdump --top 1
timed "export --format pprof" "$FATHOM" export real.fdump --format pprof -o real.pb.gz
size real.pb.gz
timed "export --format speedscope" "$FATHOM" export real.fdump --format speedscope -o real.json
size real.json
timed "export --format folded" "$FATHOM" export real.fdump --format folded -o real.folded
size real.folded
timed "flame (SVG)" "$FATHOM" flame real.fdump -o real.svg
size real.svg
note "$(grep -o '[0-9]* frames narrower[^<]*' real.svg)"

GO=$(command -v go || echo /usr/lib/go/bin/go)
export HOME=$WORKDIR PPROF_TMPDIR=$WORKDIR GOCACHE=$WORKDIR/gocache GOFLAGS=
consumer "go tool pprof -top (reading it)" "$GO" tool pprof -top -sample_index=samples -output top.txt real.pb.gz
assert_contains "pprof total" "of 1000000 total" top.txt
assert_eq "folded total" 1000000 "$(awk '{ s += $NF } END { printf "%.0f", s }' real.folded)"
timed "export --format pprof --threads" "$FATHOM" export real.fdump --format pprof --threads -o threads.pb.gz
size threads.pb.gz
consumer "go tool pprof -top (labelled)" "$GO" tool pprof -top -sample_index=samples -output top2.txt threads.pb.gz
assert_contains "labelled pprof total" "of 1000000 total" top2.txt
if [ -d "$SRCDIR/tests/js/node_modules/ajv" ]; then
	consumer "speedscope schema check (node)" node "$SRCDIR/tests/js/check-speedscope.mjs" real.json
fi
xmllint --noout real.svg 2>/dev/null || python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' real.svg ||
	fail "big SVG does not parse"

"$PROGS/stress_gendump" --events 2000000 --stacks 100000 --sample-every 2 --seed 3 worst.fdump >worst.txt ||
	fail "stress_gendump failed"
echo "== 1,000,000 samples, 100,000 stacks of random addresses (no symbols: every address a function)"
timed "load only (fathom report)" "$FATHOM" report --no-symbols worst.fdump --top 1
timed "export --format pprof" "$FATHOM" export --no-symbols worst.fdump --format pprof -o worst.pb.gz
size worst.pb.gz
timed "export --format speedscope" "$FATHOM" export --no-symbols worst.fdump --format speedscope -o worst.json
size worst.json
timed "export --format folded" "$FATHOM" export --no-symbols worst.fdump --format folded -o worst.folded
timed "flame (SVG)" "$FATHOM" flame --no-symbols worst.fdump -o worst.svg
assert_eq "worst-case folded total" "$(sed -n 's/^samples=//p' worst.txt)" \
	"$(awk '{ s += $NF } END { printf "%.0f", s }' worst.folded)"
note "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
