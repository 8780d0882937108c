# Threads where two run Python and two run C with the GIL released (hashlib
# on a big buffer): the C threads' samples keep their Python frames above
# the native ones (the thread's own frames, not the GIL holder's), and the
# Python threads' samples name their own function.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$FATHOM" record -F 999 -o thr-$v.fdump -- "$py" "$PYDIR/threads.py" >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	assert_contains "the program ran" "done" out.txt
	"$FATHOM" export -f folded -o thr.folded thr-$v.fdump 2>err.txt || fail "fathom export failed"
	"$FATHOM" report --threads --json thr-$v.fdump >threads.json 2>>err.txt || fail "fathom report failed"
	# Hashing: c_worker's own frame, then native code of the hash below it.
	cw=$(awk '/threads\.c_worker[ ;]/ { s += $NF } END { print s + 0 }' thr.folded)
	ch=$(awk '/threads\.c_worker[ ;].*(sha|SHA)/ { s += $NF } END { print s + 0 }' thr.folded)
	pw=$(awk '/threads\.py_worker/ { s += $NF } END { print s + 0 }' thr.folded)
	# Python frames that belong to another thread: a hashing stack under py_worker.
	wrong=$(awk '/threads\.py_worker.*(sha256|SHA256)/ { s += $NF } END { print s + 0 }' thr.folded)
	note "c_worker $cw periods ($ch in the hash), py_worker $pw, hash under py_worker $wrong"
	[ "$cw" -ge 50 ] || fail "c_worker has $cw periods: its Python frames were lost while the GIL was released"
	awk -v a="$ch" -v b="$cw" 'BEGIN { exit !(a * 10 >= b * 7) }' || fail "only $ch of c_worker's $cw periods are in the hash"
	[ "$pw" -ge 50 ] || fail "py_worker has $pw periods"
	[ "$wrong" -eq 0 ] || fail "$wrong periods of hashing under py_worker: another thread's frames"
done
