# Deep recursion (200 Python frames): samples keep the leaf and as many
# recursive frames as a stack holds (the outermost ones cut), never crash,
# and the leaf's hot line is found. 120 rounds (~0.4 s of leaf): with 30,
# the 250 Hz tick gave some 40 samples, and the interpreter's start-up
# (a fixed ~50 ms) brought the leaf's share near the 50% judged (45% once
# in CI).
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$py" "$PYDIR/recursion.py" 200 120 >plain.txt || fail "the program failed alone"
	"$FATHOM" record -F 999 -o rec-$v.fdump -- "$py" "$PYDIR/recursion.py" 200 120 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	cmp -s plain.txt out.txt || fail "the program's output changed under fathom"
	"$FATHOM" export -f folded -o rec.folded rec-$v.fdump 2>err.txt || fail "fathom export failed"
	"$FATHOM" report --by line rec-$v.fdump >lines.txt 2>>err.txt || fail "fathom report failed"
	# The deepest stack through the leaf: how many recurse frames it holds.
	deepest=$(awk '/recursion.leaf/ { n = gsub(/recursion\.recurse/, "&"); if (n > m) m = n } END { print m + 0 }' rec.folded)
	leafw=$(awk '/recursion\.leaf/ { s += $NF } END { print s + 0 }' rec.folded)
	allw=$(awk '{ s += $NF } END { print s + 0 }' rec.folded)
	note "deepest stack: $deepest recurse frames; leaf $leafw of $allw periods"
	[ "$deepest" -ge 60 ] || fail "the deepest stack holds $deepest recurse frames (want 60 or more of 200)"
	awk -v l="$leafw" -v a="$allw" 'BEGIN { exit !(l * 2 >= a) }' || fail "the leaf has $leafw of $allw periods"
	assert_contains "the leaf's hot line ($v)" "recursion.py:10  recursion.leaf" lines.txt
done
