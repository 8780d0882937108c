#!/usr/bin/env bash
# Exports of a synthetic dump whose contents are known exactly (stress_gendump
# prints them): go tool pprof must read back every total of every sample type
# and the same top functions as fathom report; folded counts and speedscope
# weights must add up to the same totals; the SVG must parse.
source "$SRCDIR/tests/lib.sh"
GO=$(command -v go || echo /usr/lib/go/bin/go)
[ -x "$GO" ] || fail "go not found (apt-get install golang-go; scripts/test.sh does it)"
export HOME=$WORKDIR PPROF_TMPDIR=$WORKDIR GOCACHE=$WORKDIR/gocache GOFLAGS=

"$PROGS/stress_gendump" --events 40000 --stacks 400 --sample-every 2 --seed 7 syn.fdump >facts.txt ||
	fail "stress_gendump failed"
fact() { sed -n "s/^$1=//p" facts.txt; }
note "facts: $(tr '\n' ' ' <facts.txt)"

# pprof: every column's total, read by pprof's own parser (-raw lists the samples).
run "$FATHOM" export syn.fdump --format pprof -o syn.pb.gz
"$GO" tool pprof -raw syn.pb.gz >raw.txt 2>raw.err || { cat raw.err >&2; fail "go tool pprof -raw rejected the file"; }
head -c 2 syn.pb.gz | od -An -tx1 | grep -q "1f 8b" || fail "pprof output is not gzip"
header=$(grep -A1 '^Samples:' raw.txt | tail -1)
assert_eq "sample types" "samples/count cpu/nanoseconds[dflt] alloc_objects/count alloc_space/bytes temp_objects/count inuse_objects/count inuse_space/bytes peak_space/bytes" "$header"
sums=$(awk '/^Samples:/ { s = 1; getline; next } s && /^ *[0-9]/ { sub(/:.*/, ""); for (i = 1; i <= NF; i++) t[i] += $i; n++ }
	/^Locations/ { s = 0 } END { for (i = 1; i <= 8; i++) printf "%.0f ", t[i]; print n }' raw.txt)
read -r samples cpu_ns calls bytes temp inuse_obj inuse_bytes peak nsamples <<<"$sums"
assert_eq "pprof samples" "$(fact samples)" "$samples"
assert_near "pprof cpu ns (99 Hz)" "$(awk -v s="$samples" 'BEGIN { printf "%.0f", s * 1e9 / 99 }')" "$cpu_ns" "$nsamples"
assert_eq "pprof alloc_objects" "$(fact alloc_calls)" "$calls"
assert_eq "pprof alloc_space" "$(fact alloc_bytes)" "$bytes"
assert_eq "pprof inuse_objects (leaked)" "$(fact leaked_blocks)" "$inuse_obj"
assert_eq "pprof inuse_space (leaked)" "$(fact leaked_bytes)" "$inuse_bytes"
assert_eq "pprof peak_space" "$(fact peak_bytes)" "$peak"
grep -q "^Mappings" raw.txt || fail "no mappings in pprof -raw"
grep -A1 "^Mappings" raw.txt | tail -1 | grep -q "/nonexistent/stress-synthetic" ||
	fail "first mapping is not the main program"

# The top three functions by self time: pprof -top against fathom report.
"$FATHOM" report syn.fdump --json --top 3 >report.json || fail "fathom report failed"
report_top=$(python3 -c 'import json,sys; r=json.load(open("report.json")); print(" ".join(e["name"] for e in r["top_self"][:3]))')
"$GO" tool pprof -top -sample_index=samples syn.pb.gz >top.txt 2>/dev/null || fail "go tool pprof -top failed"
pprof_top=$(awk '/flat%/ { s = 1; next } s && NF >= 6 { print $6; if (++n == 3) exit }' top.txt | tr '\n' ' ' | sed 's/ $//')
[ "$(wc -w <<<"$report_top")" -eq 3 ] || fail "fathom report --json gave no top 3: '$report_top'"
assert_eq "top 3 functions (pprof vs report)" "$report_top" "$pprof_top"
note "top 3 by self: $pprof_top"
assert_contains "pprof total" "of $(fact samples) total" top.txt
"$GO" tool pprof -traces syn.pb.gz >traces.txt 2>/dev/null || fail "go tool pprof -traces failed"
[ "$(grep -c -- '-----------+' traces.txt)" -ge 100 ] || fail "pprof -traces shows too few stacks"

# Folded: the grammar flamegraph.pl reads, and the totals.
run "$FATHOM" export syn.fdump --format folded -o syn.folded
awk '!/^[^; ]([^;]*[^; ])?(;[^; ]([^;]*[^; ])?)* [0-9]+$/ { print "bad line " NR ": " $0; exit 1 }' syn.folded ||
	fail "folded grammar"
assert_eq "folded total" "$(fact samples)" "$(awk '{ s += $NF } END { printf "%.0f", s }' syn.folded)"
assert_eq "folded lines are unique" "$(cut -d' ' -f1 syn.folded | sort | uniq -d | wc -l)" 0
"$FATHOM" flame syn.fdump --folded >flame.folded || fail "fathom flame --folded failed"
cmp -s syn.folded flame.folded || fail "export --format folded and flame --folded differ"
run "$FATHOM" export syn.fdump --format folded --weight alloc-bytes -o bytes.folded
assert_eq "folded alloc-bytes total" "$(fact alloc_bytes)" "$(awk '{ s += $NF } END { printf "%.0f", s }' bytes.folded)"
run "$FATHOM" export syn.fdump --format folded --weight leaked -o leaked.folded
assert_eq "folded leaked total" "$(fact leaked_bytes)" "$(awk '{ s += $NF } END { printf "%.0f", s }' leaked.folded)"

# speedscope: the schema, and the totals of its profiles.
run "$FATHOM" export syn.fdump --format speedscope -o syn.speedscope.json
JS=$SRCDIR/tests/js
[ -d "$JS/node_modules/ajv" ] || fail "tests/js/node_modules missing: run scripts/setup.sh (npm ci in tests/js)"
node "$JS/check-speedscope.mjs" syn.speedscope.json >ss.txt || { cat ss.txt >&2; fail "speedscope check"; }
ss_total() { sed -n "s/^ok: profile \"$1\" ([a-z]*): [0-9]* stacks, total //p" ss.txt; }
assert_eq "speedscope alloc-bytes" "$(fact alloc_bytes)" "$(ss_total alloc-bytes)"
assert_eq "speedscope alloc-calls" "$(fact alloc_calls)" "$(ss_total alloc-calls)"
assert_eq "speedscope leaked-bytes" "$(fact leaked_bytes)" "$(ss_total leaked-bytes)"
assert_near "speedscope cpu ns" "$cpu_ns" "$(ss_total 'cpu: all threads')" "$nsamples"
[ "$(grep -c '^ok: profile "cpu: worker-' ss.txt)" -ge 2 ] || fail "no per-thread CPU profiles"

# SVG: well-formed XML with its script, and it says what it left out.
run "$FATHOM" flame syn.fdump -o syn.svg
if command -v xmllint >/dev/null; then
	xmllint --noout syn.svg || fail "SVG is not well-formed XML"
else
	python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' syn.svg || fail "SVG does not parse"
fi
assert_contains "svg script" "<script type=\"text/ecmascript\"><![CDATA[" syn.svg
assert_contains "svg total" "data-total=\"$(fact samples)\"" syn.svg
note "ok: pprof, folded, speedscope and SVG agree with the dump's facts"
