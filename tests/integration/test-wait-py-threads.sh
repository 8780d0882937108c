#!/usr/bin/env bash
# Python threads that wait (py/wait_threads.py), recorded with --wait: each
# thread's top waiting site is its wait, as long as its own clock says
# (at most 1 ms more; at least 85% of it less 2 ms: the clock also holds
# the interpreter's work and its lock's re-take around the wait), of reason
# condition for Event.wait, Event.wait and Lock.acquire with a timeout and
# queue.get with a timeout (semaphore waits; the timed ones sem_clockwait),
# sleep for time.sleep. For every Python here.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	run "$FATHOM" record -q --wait -o w$v.fdump -- "$py" "$SRCDIR/tests/integration/py/wait_threads.py" >w$v.out
	while read -r _ role tid own; do
		"$FATHOM" wait --json --tid "$tid" w$v.fdump >t.json || fail "$v: fathom wait --tid $tid failed"
		got=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open("t.json"))
s = d["sites"][0] if d["sites"] else {"wait_ns": 0, "function": "-"}
r = d["threads"][0]["by_reason"] if d["threads"] else {}
print(s["wait_ns"], r.get("condition", 0), r.get("sleep", 0), s["function"])')
		set -- $got
		note "$v $role: own $own ns; top site $4 $1 ns (condition $2, sleep $3)"
		awk -v o="$own" 'BEGIN { exit !(o >= 100e6) }' || fail "$v $role: waited only $own ns by its own clock"
		awk -v o="$own" -v g="$1" 'BEGIN { exit !(g <= o + 1e6 && g >= 0.85 * o - 2e6) }' ||
			fail "$v $role: the top site waited $1 ns, the thread's own clock says $own ns"
		if [ "$role" = sleep ]; then
			assert_ge "$v $role: its sleep waits hold the top site" "$1" "$3"
		else
			assert_ge "$v $role: its condition waits hold the top site" "$1" "$2"
		fi
	done < <(grep '^truth ' w$v.out)
	assert_eq "$v: threads judged" 5 "$(grep -c '^truth ' w$v.out)"
done
exit 0
