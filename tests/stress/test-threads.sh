# Stress: 64 threads computing and allocating at once.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run threads -- "$PROGS/stress_threads" 64 100000
