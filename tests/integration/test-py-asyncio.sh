# asyncio (py/aio.py): three coroutines share one event loop, doing CPU work
# in chunks and yielding between them. Each coroutine's function is named in
# the profile with its share of the three within 5 points of the program's
# own CPU clock (60/30/10), its samples sit under the event loop's frames
# (BaseEventLoop._run_once, Handle._run, then the task's C code), and its hot
# line is its loop body. Wall clock, for a sample a millisecond. For every
# Python here.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
prog=$PYDIR/aio.py
mapfile -t body < <(grep -n 's += (i \* r) % 11' "$prog" | cut -d: -f1)
[ "${#body[@]}" -eq 3 ] || fail "aio.py: expected three loop bodies, found ${#body[@]}"
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	note "== $py ($v)"
	py_record aio-$v --clock wall -- "$py" "$prog"
	assert_contains "the program's result ($v)" "results 27239761 13618617 4539532" aio-$v.out
	"$FATHOM" report --top 0 --json aio-$v.fdump >report-$v.json 2>report.err || fail "fathom report failed"
	read -r wo wr wa < <(py_totals report-$v.json aio.orders aio.refunds aio.audit)
	all=$((wo + wr + wa))
	[ "$all" -ge 400 ] || fail "$v: only $all periods in the three coroutines: too few"
	"$FATHOM" report --by line --top 0 --json aio-$v.fdump >lines-$v.json 2>lines.err || fail "fathom report --by line failed"
	i=0
	for c in orders refunds audit; do
		w=$(py_weight aio-$v.folded "aio\\.$c(;|\$)")
		got=$(awk -v a="$w" -v s="$all" 'BEGIN { printf "%.1f\n", 100 * a / s }')
		truth=$(py_truth aio-$v.out $c)
		looped=$(py_weight aio-$v.folded "base_events\\.BaseEventLoop\\._run_once;events\\.Handle\\._run;([^;]+;)*aio\\.$c(;|\$)")
		note "$v: $c $got% (truth $truth%), $looped of its $w periods under the event loop"
		assert_near "$v: aio.$c's share of the coroutines" "$truth" "$got" 5
		assert_ge "$v: aio.$c's periods under the event loop" "$((w * 95 / 100))" "$looped"
		read -r line _ < <(py_top_line lines-$v.json aio.$c)
		assert_eq "$v: aio.$c's hot line" "aio.py:${body[$i]}" "$line"
		i=$((i + 1))
	done
done
