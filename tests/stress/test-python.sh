# Stress: python3 running a real script (json, re, classes) under fathom record
# --alloc gives the same output and exit status (3), and its dump reads.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run python -- /usr/bin/python3 "$SRCDIR/tests/stress/inputs/stress.py"
assert_eq "exit status of the target" 3 "$STRESS_RC"
