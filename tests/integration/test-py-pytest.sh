# pytest running a test file (python3 -m pytest, py/pyt_orders.py), which
# installs faulthandler: under fathom the run's output and exit status are
# the plain run's (the timing in pytest's last line aside), both for a
# passing run and for one with a failing test; the CPU-bound test function
# is in the profile under pytest's pytest_pyfunc_call with its CPU time
# within 10% of what it measured itself, and its helper's line is its hot
# line. For every Python here that has pytest (Debian's python3-pytest).
source "$SRCDIR/tests/integration/py/prog-lib.sh"
cp "$PYDIR/pyt_orders.py" . || fail "cp"
l_total=$(py_line_of pyt_orders.py 's += order_total(i) % 17')
# Pytest's summary line ends with the session's time: the one difference.
untimed() { sed -E 's/ in [0-9.]+s( \([0-9:]+\))? (=+)$/ in TIME \2/' "$1"; }
ran=0
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	"$py" -c 'import pytest' 2>/dev/null || { note "$v: no pytest, left out"; continue; }
	ran=$((ran + 1))
	note "== $py ($v)"
	for sel in "not fails" "fails"; do
		rc0=0 rc=0
		"$py" -m pytest -s -p no:cacheprovider pyt_orders.py -k "$sel" >plain.out 2>plain.err || rc0=$?
		"$FATHOM" record -o pt.fdump -- "$py" -m pytest -s -p no:cacheprovider pyt_orders.py -k "$sel" >pt.out 2>pt.err || rc=$?
		note "$v: -k '$sel': exit status $rc0 plainly, $rc under fathom"
		assert_eq "$v: -k '$sel': exit status under fathom" "$rc0" "$rc"
		diff <(untimed plain.out | grep -v '^truth') <(untimed pt.out | grep -v '^truth') >diff.txt ||
			{ head -20 diff.txt >&2; fail "$v: -k '$sel': pytest's output changed under fathom"; }
		cmp -s plain.err <(grep -v '^fathom' pt.err) || { cat pt.err >&2; fail "$v: -k '$sel': stderr changed"; }
	done
	assert_eq "$v: the failing test's run exits 1" 1 "$rc0"
	"$FATHOM" record -F 999 -o pass-$v.fdump -- "$py" -m pytest -s -p no:cacheprovider pyt_orders.py -k "not fails" >pass.out 2>pass.err ||
		{ cat pass.err >&2; fail "$v: the passing run failed under fathom"; }
	assert_contains "$v: every test passed" "3 passed, 1 deselected" pass.out
	"$FATHOM" export -f folded -o pass.folded pass-$v.fdump 2>/dev/null || fail "fathom export failed"
	"$FATHOM" report --top 0 --json pass-$v.fdump >report.json 2>/dev/null || fail "fathom report failed"
	got=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f" % (sum(e["total_ns"] for e in r["top_total"] if e["name"] == "pyt_orders.test_totals") / 1e9))' report.json)
	truth=$(py_truth pass.out test_totals_cpu)
	tw=$(py_weight pass.folded 'pyt_orders\.test_totals(;|$)')
	under=$(py_weight pass.folded 'python\.pytest_pyfunc_call;([^;]+;)*pyt_orders\.test_totals(;|$)')
	note "$v: test_totals $got s in the profile, $truth s measured; $under of its $tw periods under pytest_pyfunc_call"
	ratio=$(awk -v g="$got" -v t="$truth" 'BEGIN { printf "%.1f\n", 100 * g / t }')
	assert_ge "$v: test_totals's CPU in the profile, % of the measured" 90 "$ratio"
	assert_le "$v: test_totals's CPU in the profile, % of the measured" 110 "$ratio"
	[ "$tw" -ge 50 ] || fail "$v: test_totals has $tw periods"
	assert_ge "$v: test_totals's periods under pytest_pyfunc_call" "$((tw * 95 / 100))" "$under"
	"$FATHOM" report --by line --top 0 --json pass-$v.fdump >lines.json 2>/dev/null || fail "fathom report --by line failed"
	read -r line _ < <(py_top_line lines.json pyt_orders.test_totals)
	assert_eq "$v: test_totals's hot line" "pyt_orders.py:$l_total" "$line"
done
[ "$ran" -gt 0 ] || skip "no Python here has pytest (Debian: apt-get install python3-pytest)"
