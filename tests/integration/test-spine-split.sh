# A 2-thread program with a measured 60/30/10 CPU split over three noinline
# functions: the report's self shares must be within 5 points of the truth.
source "$SRCDIR/tests/lib.sh"

"$FATHOM" record -F 1000 -o split.fdump -- "$PROGS/spine_split" 250000000 >out.txt 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record failed"; }
cat err.txt >&2
assert_contains "summary line" "fathom: " err.txt
assert_contains "summary names the dump" "split.fdump" err.txt
truth=$(grep '^truth' out.txt) || fail "the program printed no truth line"
"$FATHOM" report --json split.fdump >report.json || fail "fathom report failed"
"$FATHOM" report split.fdump >report.txt || fail "fathom report (text) failed"
sed 's/^/  | /' report.txt | head -20 >&2

read -r samples a b c < <(python3 - report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
share = {e["name"]: e["self_percent"] for e in r["top_self"]}
print(r["samples"], *(share.get(f, 0.0) for f in ("spine_a", "spine_b", "spine_c")))
PY
)
ta=$(sed 's/.* a=\([0-9.]*\).*/\1/' <<<"$truth")
tb=$(sed 's/.* b=\([0-9.]*\).*/\1/' <<<"$truth")
tc=$(sed 's/.* c=\([0-9.]*\).*/\1/' <<<"$truth")
note "samples $samples; spine_a $a% (truth $ta), spine_b $b% (truth $tb), spine_c $c% (truth $tc)"
[ "$samples" -ge 300 ] || fail "only $samples samples: too few for the test to mean something"
assert_near "spine_a share" "$ta" "$a" 5
assert_near "spine_b share" "$tb" "$b" 5
assert_near "spine_c share" "$tc" "$c" 5
# Each function is a row with its source file and line.
assert_contains "spine_a located" "spine_split.c:" report.txt
