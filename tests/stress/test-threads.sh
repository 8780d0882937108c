# Stress: 64 threads computing and allocating at once.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run threads -- "$PROGS/stress_threads" 64 100000
# 64 x 100,000 allocations by the workers, plus the few of libc and main.
stress_fact "allocation calls" mem "0 <= d['totals']['alloc_calls'] - 6400000 < 1000" True
