# asyncio (py/aio.py): three coroutines share one event loop, doing CPU work
# in chunks and yielding between them. Each coroutine's function is named in
# the profile with its share of the three within 5 points of the program's
# own CPU clock (60/30/10) when the thread had a CPU to itself (it ran at
# least 90% of its wall time, and the load average is below twice the
# CPUs; otherwise only their order is asserted, see the note at the check),
# its samples sit under the event loop's frames (BaseEventLoop._run_once,
# Handle._run, then the task's C code), and its hot line is its loop body.
# The CPU clock (250 Hz here: see test-py-gen), two to three seconds of CPU
# a Python. For every Python here.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
prog=$PYDIR/aio.py
mapfile -t body < <(grep -n 's += (i \* r) % 11' "$prog" | cut -d: -f1)
[ "${#body[@]}" -eq 3 ] || fail "aio.py: expected three loop bodies, found ${#body[@]}"
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	note "== $py ($v)"
	py_record aio-$v -- "$py" "$prog"
	assert_contains "the program's result ($v)" "results 81779308 40885894 13628622" aio-$v.out
	"$FATHOM" report --top 0 --json aio-$v.fdump >report-$v.json 2>report.err || fail "fathom report failed"
	read -r wo wr wa < <(py_totals report-$v.json aio.orders aio.refunds aio.audit)
	all=$((wo + wr + wa))
	[ "$all" -ge 800 ] || fail "$v: only $all periods in the three coroutines: too few"
	"$FATHOM" report --by line --top 0 --json aio-$v.fdump >lines-$v.json 2>lines.err || fail "fathom report --by line failed"
	read -r load _ </proc/loadavg
	# Busy: the thread waited for a CPU for more than a tenth of its run
	# (the program's own measure), or the load average says so.
	running=$(py_truth aio-$v.out running)
	busy=$(awk -v l="$load" -v c="$(nproc)" -v r="$running" 'BEGIN { print (l >= 2 * c || r < 0.9) ? 1 : 0 }')
	[ "$wo" -gt "$wr" ] && [ "$wr" -gt "$wa" ] && [ "$wa" -gt 0 ] ||
		fail "$v: the coroutines' periods are not in the order of their work: orders $wo, refunds $wr, audit $wa"
	i=0
	for c in orders refunds audit; do
		w=$(py_weight aio-$v.folded "aio\\.$c(;|\$)")
		got=$(awk -v a="$w" -v s="$all" 'BEGIN { printf "%.1f\n", 100 * a / s }')
		truth=$(py_truth aio-$v.out $c)
		looped=$(py_weight aio-$v.folded "base_events\\.BaseEventLoop\\._run_once;(asyncio\\.)?events\\.Handle\\._run;([^;]+;)*aio\\.$c(;|\$)")
		note "$v: $c $got% (truth $truth%), $looped of its $w periods under the event loop"
		# On a machine loaded ten times over (load 15 to 24 on 2 CPUs) the
		# shares drift: refunds 22.6% against the program's 30.2%, orders
		# 75-79% against 60% with 10 ms chunks (aio.py 150 20000). The CPU
		# timer fires at the kernel's tick and only while the thread runs;
		# when the thread is mostly preempted at its system calls (the
		# loop's epoll_wait between chunks), a run of the thread starts
		# with the same coroutine, and its one sample lands there. The
		# wall clock has the same trouble through the weight of the
		# samples taken after a wait. Judged on a machine with CPUs to
		# spare only, and to 8 points: on an idle machine the shares came
		# within 3 points in 9 runs of 10, and 9 points off (orders 50.5%
		# against 59.5%) in one; the cause is not found yet (an open
		# question in the session note, not a tolerance for good).
		if [ "$busy" = 1 ]; then
			note "NOT ASSERTED: $v: aio.$c's share ($got% against $truth%): the machine is busy (load $load on $(nproc) CPUs; the thread ran ${running} of its wall time)"
		else
			assert_near "$v: aio.$c's share of the coroutines" "$truth" "$got" 8
		fi
		assert_ge "$v: aio.$c's periods under the event loop" "$((w * 95 / 100))" "$looped"
		read -r line _ < <(py_top_line lines-$v.json aio.$c)
		# audit has some 10% of the samples (40-150): in 3.13 its loop
		# header (FOR_ITER over range, the line above the body) takes
		# nearly as much as the body, and came out on top once in CI.
		if [ "$c" = audit ] && [ "$line" = "aio.py:$((body[i] - 1))" ]; then
			note "$v: aio.audit's hot line is its loop header ($line), next to its body"
		else
			assert_eq "$v: aio.$c's hot line" "aio.py:${body[$i]}" "$line"
		fi
		i=$((i + 1))
	done
done
