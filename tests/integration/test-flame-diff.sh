#!/usr/bin/env bash
# fathom flame --diff BASE NEW: a differential flame graph of NEW whose frames
# are red where their share of the total grew and blue where it shrank, with
# both profiles in the tooltip. NEW gives export_hot_c 4x the CPU of BASE.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -o base.fdump -- "$PROGS/export_hot" 600 300 100 >/dev/null
run "$FATHOM" record -o new.fdump -- "$PROGS/export_hot" 600 300 400 >/dev/null
run "$FATHOM" flame --diff base.fdump new.fdump -o diff.svg
if command -v xmllint >/dev/null; then
	xmllint --noout diff.svg || fail "diff SVG is not well-formed XML"
fi
assert_contains "diff title" "Differential flame graph: export_hot, cpu" diff.svg

# name -> "fill|share now|share before|change", from each frame's <g>.
frame() {
	python3 - diff.svg "$1" <<'EOF'
import re, sys
svg = open(sys.argv[1]).read()
for g in re.finditer(r'<g data-o="\d+" data-v="\d+"><title>(.*?)</title><rect [^>]*fill="([^"]+)"', svg, re.S):
    lines = g.group(1).split("\n")
    if lines[0] != sys.argv[2]:
        continue
    now = re.search(r"\(([0-9.]+)%\)$", [l for l in lines[1:] if l.endswith("%)") and not l.startswith("base:")][0]).group(1)
    base = re.search(r"^base: .*\(([0-9.]+)%\)$", "\n".join(lines), re.M).group(1)
    change = re.search(r"^change: ([-+][0-9.]+) points", "\n".join(lines), re.M).group(1)
    print("%s|%s|%s|%s" % (g.group(2), now, base, change))
    break
EOF
}
IFS='|' read -r c_fill c_now c_base c_change <<<"$(frame export_hot_c)"
IFS='|' read -r a_fill a_now a_base a_change <<<"$(frame export_hot_a)"
note "export_hot_c: $c_base% -> $c_now% ($c_change), $c_fill; export_hot_a: $a_base% -> $a_now% ($a_change), $a_fill"
[ -n "$c_fill" ] && [ -n "$a_fill" ] || fail "export_hot_c or export_hot_a missing from the diff graph"
# 100 of 1000 ms before, 400 of 1300 ms now: about 10% -> 31%.
assert_near "export_hot_c share before" 10 "$c_base" 4
assert_near "export_hot_c share now" 31 "$c_now" 5
assert_near "export_hot_c change" "$(awk -v a="$c_now" -v b="$c_base" 'BEGIN { print a - b }')" "$c_change" 0.011
[[ $c_fill =~ ^rgb\(255,([0-9]+),([0-9]+)\)$ ]] && [ "${BASH_REMATCH[1]}" -lt 200 ] ||
	fail "export_hot_c grew but is not red: $c_fill"
[[ $a_fill =~ ^rgb\(([0-9]+),([0-9]+),255\)$ ]] && [ "${BASH_REMATCH[1]}" -lt 250 ] ||
	fail "export_hot_a shrank but is not blue: $a_fill"
# The same recording against itself: nothing changed, everything is white.
run "$FATHOM" flame --diff base.fdump base.fdump -o same.svg
[ "$(grep -o 'fill="rgb([0-9,]*)" rx' same.svg | sort -u)" = 'fill="rgb(255,255,255)" rx' ] ||
	fail "a recording against itself is not white: $(grep -o 'fill="rgb([0-9,]*)" rx' same.svg | sort -u | head -3)"

"$FATHOM" flame --diff base.fdump -o x.svg 2>err.txt
assert_eq "--diff without NEW" 2 $?
assert_contains "message" "no dump file given" err.txt
# --folded --diff: "STACK BASE NEW" lines, as flamegraph.pl's difffolded.pl writes them.
run "$FATHOM" flame --diff base.fdump new.fdump --folded >diff.folded
awk '!/^[^; ]([^;]*[^; ])?(;[^; ]([^;]*[^; ])?)* [0-9]+ [0-9]+$/ { print "bad line " NR ": " $0; exit 1 }' diff.folded ||
	fail "differential folded grammar"
run "$FATHOM" report base.fdump --json >base.json
run "$FATHOM" report new.fdump --json >new.json
weight() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["weight"])' "$1"; }
assert_eq "base column total" "$(weight base.json)" "$(awk '{ s += $(NF - 1) } END { print s }' diff.folded)"
assert_eq "new column total" "$(weight new.json)" "$(awk '{ s += $NF } END { print s }' diff.folded)"
# Inclusive: a sample taken in cpu_ms's clock_gettime system call, inside
# export_hot_c's loop, is export_hot_c's too (a loaded machine makes that
# system call slow enough to take a quarter of the samples).
read -r cb cn <<<"$(awk '/;export_hot_c(;| [0-9]+ [0-9]+$)/ { b += $(NF - 1); n += $NF } END { print b, n }' diff.folded)"
assert_near "export_hot_c samples before (100 ms at 99 Hz)" 10 "$cb" 4
assert_near "export_hot_c samples now (400 ms)" 40 "$cn" 8
note "ok: differential flame graph"
