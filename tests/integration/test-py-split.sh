# A CPU-bound pure-Python program with a measured 60/30/10 split over three
# functions: each function's share of their total time in `fathom report`
# must be within 5 points of the program's own clock, and the hot lines are
# rows of --by line with their file:line. For every Python here.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$FATHOM" record -F 999 -o split-$v.fdump -- "$py" "$PYDIR/split.py" 10000000 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	truth=$(grep '^truth' out.txt) || fail "the program printed no truth line"
	"$FATHOM" report --top 0 --json split-$v.fdump >report.json 2>err.txt || fail "fathom report failed"
	"$FATHOM" report --by line --top 0 split-$v.fdump >lines.txt 2>>err.txt || fail "fathom report --by line failed"
	py_split_shares report.json "$truth" "$v"
	# The loop body of each is a row of its own, with file and line.
	assert_contains "spin_a's hot line ($v)" "split.py:10  split.spin_a" lines.txt
	assert_contains "spin_b's hot line ($v)" "split.py:17  split.spin_b" lines.txt
	assert_contains "spin_c's hot line ($v)" "split.py:24  split.spin_c" lines.txt
	assert_not_contains "no merge mismatch warning ($v)" "disagree" err.txt
done
