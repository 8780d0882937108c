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
	read -r a b c < <(py_totals report.json split.spin_a split.spin_b split.spin_c)
	read -r pa pb pc < <(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { s = a + b + c; if (!s) s = 1;
		printf "%.1f %.1f %.1f\n", 100 * a / s, 100 * b / s, 100 * c / s }')
	ta=$(sed 's/.* a=\([0-9.]*\).*/\1/' <<<"$truth")
	tb=$(sed 's/.* b=\([0-9.]*\).*/\1/' <<<"$truth")
	tc=$(sed 's/.* c=\([0-9.]*\).*/\1/' <<<"$truth")
	note "weights $a $b $c; spin_a $pa% (truth $ta), spin_b $pb% (truth $tb), spin_c $pc% (truth $tc)"
	[ "$((a + b + c))" -ge 300 ] || fail "only $((a + b + c)) periods in the three functions: too few"
	assert_near "spin_a share ($v)" "$ta" "$pa" 5
	assert_near "spin_b share ($v)" "$tb" "$pb" 5
	assert_near "spin_c share ($v)" "$tc" "$pc" 5
	# The loop body of each is a row of its own, with file and line.
	assert_contains "spin_a's hot line ($v)" "split.py:10  split.spin_a" lines.txt
	assert_contains "spin_b's hot line ($v)" "split.py:17  split.spin_b" lines.txt
	assert_contains "spin_c's hot line ($v)" "split.py:24  split.spin_c" lines.txt
	assert_not_contains "no merge mismatch warning ($v)" "disagree" err.txt
done
