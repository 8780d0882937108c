# Stress: threads cancelled while waiting, sleeping, reading and computing.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run cancel -- "$PROGS/stress_cancel" 20
assert_contains "all threads cancelled" "cancelled 100 of 100" "$STRESS_DIR/rec.out"
