# Stress: recursion 10,000 frames deep, with work and allocations at the
# bottom (stacks far deeper than the agent keeps).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run recursion -- "$PROGS/stress_recursion" 10000 3
