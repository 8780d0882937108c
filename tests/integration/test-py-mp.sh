# multiprocessing (py/workers.py): a Pool of two workers runs crunch while the
# parent waits. The run writes one dump per process; `fathom report` on all
# of them merges them, and crunch must carry the workers' CPU there: within
# 10% of the CPU time the chunks measured themselves. Each worker's own dump
# is mostly crunch. Three ways to run a pool: forked workers ended by the
# `with` block (Pool.terminate: SIGTERM), spawned workers ended the same way,
# and forked workers that exit by themselves (close and join). Debian's
# python3 runs all three, the other Pythons the first.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
prog=$PYDIR/workers.py
untrailed=""
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	ways="fork:with"
	[ "$py" = /usr/bin/python3 ] && ways="fork:with spawn:with fork:join"
	for way in $ways; do
		method=${way%:*} end=${way#*:}
		name=mp-$v-$method-$end
		note "== $py ($v), $method, $end"
		mkdir "$name" && cd "$name" || fail "mkdir $name"
		py_record mp -- "$py" "$prog" "$method" "$end"
		assert_contains "the program's result ($name)" "sum 23999992" mp.out
		assert_contains "two workers did the work ($name)" "workers 2" mp.out
		ndumps=$(ls mp.fdump* | wc -l)
		[ "$ndumps" -ge 3 ] || fail "$name: $ndumps dumps; want one per process, 3 or more"
		"$FATHOM" report --top 0 --json mp.fdump* >report.json 2>report.err || { cat report.err >&2; fail "fathom report failed"; }
		got=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f" % (sum(e["total_ns"] for e in r["top_total"] if e["name"] == "workers.crunch") / 1e9))' report.json)
		truth=$(py_truth mp.out crunch_cpu)
		ratio=$(awk -v g="$got" -v t="$truth" 'BEGIN { printf "%.1f\n", 100 * g / t }')
		note "$name: $ndumps dumps; crunch $got s in the merged profile, $truth s measured ($ratio%)"
		# Each worker's own dump: crunch's share of that process.
		workers=0
		for d in mp.fdump.*; do
			"$FATHOM" report --top 0 --json "$d" >one.json 2>/dev/null || fail "fathom report $d failed"
			share=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f" % max([e["total_percent"] for e in r["top_total"] if e["name"] == "workers.crunch"] or [0]))' one.json)
			# About 28 samples a worker at 99 Hz: a spawned worker's start-up
			# (a fresh interpreter) takes a third of it, and one read 49%.
			[ "$share" -ge 40 ] && workers=$((workers + 1))
			note "$name: $d: crunch $share%"
		done
		assert_eq "$name: worker dumps where crunch holds 40% or more of the CPU" 2 "$workers"
		assert_ge "$name: crunch's CPU in the merged profile, % of the measured" 90 "$ratio"
		assert_le "$name: crunch's CPU in the merged profile, % of the measured" 110 "$ratio"
		# Pool.terminate(), which the `with` block calls, ends the workers
		# with SIGTERM at its default action: the agent finishes each
		# worker's dump first (preload/signal-death.c), so every dump has
		# its trailer (before, each such worker lost what its rings and the
		# writer's last 50 ms held: 19% of crunch's CPU in 40 ms chunks).
		incomplete=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for p in r["processes"] if not p["complete"]))' report.json)
		note "$name: $incomplete dumps without a trailer"
		[ "$incomplete" -eq 0 ] || untrailed+=" $name:$incomplete"
		cd .. || fail "cd"
	done
done
# Last, so that every other figure above is checked first.
[ -z "$untrailed" ] || fail "dumps without a trailer (workers ended by SIGTERM), run:count:$untrailed"
