# Python allocations under stress: the stress program of test-py-stress
# (daemon threads calling small functions without end, one compressing with
# the GIL released, faulthandler installed, the daemons alive at exit) under
# --alloc and --alloc-sample 4k with CPU samples at 10,000 Hz, so that the
# sampling handler's walk interrupts the allocation hooks' own. The program
# must never crash, its output and exit status must not change, and its
# allocations must have their Python lines. For every Python here.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	"$py" "$PYDIR/stress.py" >plain.txt 2>plain-err.txt || fail "the program failed alone"
	for mode in exact sampled; do
		opt=--alloc
		[ $mode = sampled ] && opt="--alloc-sample 4k"
		rc=0
		"$FATHOM" record -F 10000 $opt -o stress-$v-$mode.fdump -- "$py" "$PYDIR/stress.py" >out.txt 2>err.txt || rc=$?
		[ "$rc" -eq 0 ] || { cat err.txt >&2; fail "$v $mode: exit status $rc"; }
		cmp -s plain.txt out.txt || { diff plain.txt out.txt | head >&2; fail "$v $mode: output changed"; }
		assert_not_contains "no crash report ($v $mode)" "Fatal Python error" err.txt
		"$FATHOM" mem --no-symbols --top 0 stress-$v-$mode.fdump >mem.txt 2>mem-err.txt || fail "fathom mem failed"
		assert_contains "the compressing daemon's buffer at its line ($v $mode)" "stress.squeeze (stress.py:" mem.txt
		assert_contains "the main thread's lines ($v $mode)" "stress.main (stress.py:" mem.txt
	done
done
