# Stress: the process ends from a thread other than main: exit(7) from a worker
# while others allocate, and pthread_exit from main.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

# Each run takes about a second; a hang must not cost two minutes.
STRESS_TIMEOUT=60
stress_run exit -- "$PROGS/stress_thread_exit" exit
assert_eq "exit status of exit(7) from a thread" 7 "$STRESS_RC"
stress_run pthread-exit -- "$PROGS/stress_thread_exit" pthread_exit
assert_eq "exit status after pthread_exit from main" 0 "$STRESS_RC"
assert_contains "the workers finished" "worker 2 " "$STRESS_DIR/rec.out"
