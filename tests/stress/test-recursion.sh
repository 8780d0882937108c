# Stress: recursion 10,000 frames deep, with work and allocations at the
# bottom (stacks far deeper than the agent keeps).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run recursion -- "$PROGS/stress_recursion" 10000 3
stress_fact "the hot function at the bottom of the recursion" report "d['top_self'][0]['name']" bottom
stress_fact "the recursive function in total time" report "'descend' in [r['name'] for r in d['top_total']]" True
