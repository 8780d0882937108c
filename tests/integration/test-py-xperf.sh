# -X perf (PYTHONPERFSUPPORT=1, which `fathom record --jit` sets) on Python 3.12+: every call of the eval
# loop goes through a trampoline without unwind information, so native
# unwinding stops at the innermost one. The agent notes the trampolines in
# the dump (a PYTHON PERF record), the Python frames stay complete (the
# 60/30/10 split of py/split.py within 5 points, its hot lines), the report
# says once that native frames stop there, and the merge counts no
# mismatch for it. A run without -X perf says nothing of the kind.
source "$SRCDIR/tests/integration/py/py-lib.sh"
# Python's perf map stays in /tmp (as with perf): the test's own are removed.
perf_maps_removed_at_exit
pys=()
for v in 3.12.1 3.13.0; do
	[ -x "/root/.pyenv/versions/$v/bin/python3" ] && pys+=("/root/.pyenv/versions/$v/bin/python3")
done
[ ${#pys[@]} -gt 0 ] || skip "no Python 3.12 or 3.13 (pyenv 3.12.1, 3.13.0) here"
first=1
for py in "${pys[@]}"; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	# -X perf on the first, record --jit (the environment variable) on the next.
	if [ $first = 1 ]; then
		how="-X perf"
		"$FATHOM" record -F 999 -o xp-$v.fdump -- "$py" -X perf "$PYDIR/split.py" 10000000 >out.txt 2>err.txt
	else
		how="record --jit (PYTHONPERFSUPPORT=1)"
		env -u PYTHONPERFSUPPORT "$FATHOM" record --jit -F 999 -o xp-$v.fdump -- "$py" "$PYDIR/split.py" 10000000 \
			>out.txt 2>err.txt
	fi || { cat err.txt >&2; fail "fathom record failed"; }
	note "== $py ($v), $how"
	truth=$(grep '^truth' out.txt) || fail "the program printed no truth line"
	"$FATHOM" report --top 0 --json xp-$v.fdump >report.json 2>err.txt || fail "fathom report failed"
	"$FATHOM" report --by line --top 0 xp-$v.fdump >lines.txt 2>>err.txt || fail "fathom report --by line failed"
	assert_contains "the report says native frames stop at the trampolines ($v)" \
		"Python ran with -X perf: native frames stop at its perf trampolines" lines.txt
	assert_not_contains "no merge mismatch warning ($v)" "disagree" err.txt
	read -r perf cut weight mism < <(/usr/bin/python3 -c 'import json, sys
py = json.load(open(sys.argv[1]))["processes"][0]["python"]
print(py["perf_trampolines"], py["trampoline_cut_weight"], py["weight"], py["mismatched_weight"])' report.json)
	note "perf_trampolines $perf; weight $weight, cut at a trampoline $cut, mismatched $mism"
	assert_eq "the dump notes the trampolines ($v)" True "$perf"
	assert_ge "stacks cut at a trampoline ($v)" "$((weight / 2))" "$cut"
	assert_le "mismatched weight ($v)" "$((weight / 20))" "$mism"
	py_split_shares report.json "$truth" "$v"
	assert_contains "spin_a's hot line ($v)" "split.py:10  split.spin_a" lines.txt
	# The Python frames' outer calls at the root, in order; the trampoline's
	# address (in no module) is no frame.
	"$FATHOM" flame --folded xp-$v.fdump >xp.folded 2>/dev/null || fail "fathom flame failed"
	assert_contains "main's calls under the module code ($v)" \
		"split.<module>;split.main;split.spin_a " xp.folded
	assert_not_contains "no trampoline frame ($v)" "[unknown]+0x" xp.folded
	if [ $first = 1 ]; then
		# Without -X perf: nothing said, nothing noted.
		"$FATHOM" record -q -F 999 -o plain.fdump -- "$py" "$PYDIR/split.py" 1000000 >out.txt 2>err.txt ||
			{ cat err.txt >&2; fail "fathom record (plain) failed"; }
		"$FATHOM" report --json plain.fdump >plain.json 2>err.txt || fail "fathom report (plain) failed"
		"$FATHOM" report plain.fdump >plain.txt 2>>err.txt || fail "fathom report (plain) failed"
		assert_not_contains "no -X perf line without it" "-X perf" plain.txt
		assert_not_contains "no -X perf warning without it" "-X perf" err.txt
		assert_contains "perf_trampolines false without it" '"perf_trampolines":false' plain.json
	fi
	first=0
done
