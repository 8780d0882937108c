# A stress run at 10,000 Hz, CPU and wall clock: daemon threads call small
# functions without end (the frame push the sampler races with) and one
# compresses with the GIL released; they are alive at exit, during the
# interpreter's finalization. The program must never crash, its output and
# exit status must not change, and its Python frames must be in the profile.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	"$py" "$PYDIR/stress.py" >plain.txt 2>plain-err.txt || fail "the program failed alone"
	for clock in cpu wall; do
		for run in 1; do
			rc=0
			"$FATHOM" record -F 10000 --clock $clock -o stress-$v-$clock-$run.fdump -- \
				"$py" "$PYDIR/stress.py" >out.txt 2>err.txt || rc=$?
			[ "$rc" -eq 0 ] || { cat err.txt >&2; fail "$v $clock run $run: exit status $rc"; }
			cmp -s plain.txt out.txt || { diff plain.txt out.txt | head >&2; fail "$v $clock run $run: output changed"; }
			assert_not_contains "no crash report ($v $clock)" "Fatal Python error" err.txt
		done
	done
	"$FATHOM" report --top 0 stress-$v-cpu-1.fdump >report.txt 2>report-err.txt || fail "fathom report failed"
	assert_contains "the daemons' Python frames ($v)" "stress.churn" report.txt
	assert_contains "the compressing daemon's Python frame ($v)" "stress.squeeze" report.txt
	assert_contains "the main thread's Python frames ($v)" "stress.main" report.txt
	note "$v: $(grep -m1 '^total:' report.txt)"
done
