#!/usr/bin/env bash
# fathom flame on a real recording: folded stacks in flamegraph.pl's grammar
# whose totals are fathom report's, and a self-contained interactive SVG that
# parses, holds the hot functions, and works in a browser (search total, zoom).
source "$SRCDIR/tests/lib.sh"
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
folded_ok() {
	awk '!/^[^; ]([^;]*[^; ])?(;[^; ]([^;]*[^; ])?)* [0-9]+$/ { print "bad line " NR ": " $0; exit 1 }' "$1" ||
		fail "$1: not in folded grammar"
}
sum() { awk '{ s += $NF } END { printf "%.0f", s }' "$1"; }

run "$FATHOM" record --alloc -o hot.fdump -- "$PROGS/export_hot" 600 300 100 >/dev/null
run "$FATHOM" report hot.fdump --json >report.json
run "$FATHOM" mem hot.fdump --json >mem.json

# Folded: grammar, totals, and the functions' self weights.
run "$FATHOM" flame hot.fdump --folded >cpu.folded
folded_ok cpu.folded
assert_eq "folded total = report weight" "$(json report.json 'r["weight"]')" "$(sum cpu.folded)"
for f in export_hot_a export_hot_b export_hot_c; do
	want=$(json report.json "[e['self_weight'] for e in r['top_self'] if e['name'] == '$f'][0]")
	got=$(awk -v f="$f" '{ n = split($1, a, ";"); if (a[n] == f) s += $NF } END { printf "%.0f", s }' \
		<(sed 's/ \([0-9]*\)$/\t\1/' cpu.folded | tr ' ' '_' | tr '\t' ' '))
	assert_eq "folded self of $f" "$want" "$got"
done
grep -q "^_start;.*;main;export_hot_a [0-9]*$" cpu.folded || fail "no _start;...;main;export_hot_a line"
run "$FATHOM" flame hot.fdump --folded --weight alloc-bytes >bytes.folded
folded_ok bytes.folded
assert_eq "alloc-bytes total" "$(json mem.json 'r["totals"]["alloc_bytes"]')" "$(sum bytes.folded)"
assert_eq "export_churn bytes" 128000 "$(awk '/;export_churn [0-9]+$/ { s += $NF } END { print s }' bytes.folded)"
run "$FATHOM" flame hot.fdump --folded --weight leaked >leaked.folded
assert_eq "export_leak leaked" 100000 "$(awk '/;export_leak [0-9]+$/ { s += $NF } END { print s }' leaked.folded)"
wtid=$(json report.json '[t["tid"] for t in r["threads"] if t["name"] == "export-worker"][0]')
run "$FATHOM" flame hot.fdump --folded --tid "$wtid" >worker.folded
assert_eq "worker thread total" "$(json report.json "[t['weight'] for t in r['threads'] if t['tid'] == $wtid][0]")" \
	"$(sum worker.folded)"
assert_not_contains "worker thread only" export_hot_a worker.folded

# SVG: well-formed, self-contained, with the hot functions and their tooltips.
run "$FATHOM" flame hot.fdump -o cpu.svg --title "export_hot <CPU>"
if command -v xmllint >/dev/null; then
	xmllint --noout cpu.svg || fail "SVG is not well-formed XML"
else
	python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' cpu.svg || fail "SVG does not parse"
fi
assert_contains "script inline" "<script type=\"text/ecmascript\"><![CDATA[" cpu.svg
assert_contains "title escaped" "export_hot &lt;CPU&gt;" cpu.svg
assert_contains "hot function with file:line" "<title>export_hot_a
" cpu.svg
grep -A1 "<title>export_hot_a$" cpu.svg | grep -q "export_hot.c:[0-9]" || fail "no file:line in export_hot_a's tooltip"
assert_not_contains "no external script" "<script src" cpu.svg
[ "$(grep -o 'https\?://[^"]*' cpu.svg | sort -u)" = "http://www.w3.org/2000/svg" ] ||
	fail "the SVG refers to URLs: $(grep -o 'https\?://[^"]*' cpu.svg | sort -u | tr '\n' ' ')"
run "$FATHOM" flame hot.fdump --weight leaked -o leaked.svg
grep -A2 "<title>export_leak$" leaked.svg | grep -q "97.7 KiB" || fail "export_leak's tooltip lacks its 97.7 KiB"

# In a browser: searching export_hot_[ab] totals their share of the samples.
JS=$SRCDIR/tests/js
[ -d "$JS/node_modules/playwright-core" ] || fail "tests/js/node_modules missing: run scripts/setup.sh"
# The expected share comes from the folded stacks: samples with either function on the stack.
ab=$(awk -v t="$(json report.json 'r["weight"]')" '/;export_hot_[ab](;| [0-9]+$)/ { s += $NF } END { printf "%.2f", 100 * s / t }' cpu.folded)
node "$JS/check-flame-svg.mjs" cpu.svg 'export_hot_[ab]' "$ab" 0.02 main >browser.txt
rc=$?
cat browser.txt >&2
[ $rc -eq 0 ] || fail "browser check of the SVG failed ($rc)"

# Errors: exit 2 for bad usage or input, 1 when there is nothing to draw.
"$FATHOM" flame hot.fdump --weight cycles >out.txt 2>err.txt
assert_eq "bad weight status" 2 $?
assert_contains "bad weight message" "unknown weight 'cycles'" err.txt
"$FATHOM" flame hot.fdump --folder >out.txt 2>err.txt
assert_eq "bad option status" 2 $?
assert_contains "suggestion" "did you mean '--folded'?" err.txt
"$FATHOM" flame missing.fdump -o x.svg 2>err.txt
assert_eq "missing file status" 2 $?
assert_contains "missing file named" "missing.fdump" err.txt
[ ! -e x.svg ] || fail "an SVG was written for a missing input"
echo "not a dump" >bad.fdump
"$FATHOM" flame bad.fdump --folded >out.txt 2>err.txt
assert_eq "not a dump status" 2 $?
run "$FATHOM" record -o cpuonly.fdump -- "$PROGS/export_hot" 50 10 10 >/dev/null
"$FATHOM" flame cpuonly.fdump --weight alloc-bytes -o none.svg 2>err.txt
assert_eq "no allocation data status" 1 $?
assert_contains "no allocation data message" "record with --alloc" err.txt
[ ! -e none.svg ] || fail "an empty SVG was left behind"
"$FATHOM" flame hot.fdump --tid 999999 --folded >out.txt 2>err.txt
assert_eq "unknown thread status" 1 $?
note "ok: folded and SVG flame graphs"
