# The program's own SIGSEGV handler (faulthandler) still sees a genuine crash
# while fathom's fault guard for the Python walk holds the signal: the same
# traceback on stderr and the same exit status (death by SIGSEGV), also at
# 10,000 Hz with the wall clock, where samples would otherwise starve the
# handler.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	rc0=0
	"$py" "$PYDIR/segv.py" >plain.txt 2>plain-err.txt || rc0=$?
	assert_eq "the crash alone ($v)" 139 "$rc0"
	assert_contains "faulthandler's report alone ($v)" "Fatal Python error: Segmentation fault" plain-err.txt
	for opt in "" "-F 10000 --clock wall"; do
		rc=0
		timeout 60 "$FATHOM" record $opt -o segv.fdump -- "$py" "$PYDIR/segv.py" >out.txt 2>err.txt || rc=$?
		note "$v ${opt:-default}: exit status $rc"
		assert_eq "exit status under fathom ($v ${opt:-default})" "$rc0" "$rc"
		cmp -s plain.txt out.txt || fail "$v: output changed"
		assert_contains "faulthandler's report ($v ${opt:-default})" "Fatal Python error: Segmentation fault" err.txt
		assert_contains "faulthandler's traceback ($v ${opt:-default})" "in crash" err.txt
	done
done
