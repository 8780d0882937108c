# Stress: a target that dies of SIGABRT or SIGSEGV while a second thread is
# allocating: fathom record exits like the plain run (134, 139) and the dump
# is still readable, with a message saying it was cut short.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run abort --crash -- "$PROGS/stress_crash" abort
assert_eq "abort: exit status" 134 "$STRESS_RC"
stress_run segv --crash -- "$PROGS/stress_crash" segv
assert_eq "segv: exit status" 139 "$STRESS_RC"
