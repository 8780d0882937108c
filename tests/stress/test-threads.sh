# Stress: 64 threads computing and allocating at once.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run threads -- "$PROGS/stress_threads" 64 20000
# 64 x 20,000 allocations by the workers, plus the few of libc and main.
stress_fact "allocation calls" "mem --no-symbols" "0 <= d['totals']['alloc_calls'] - 1280000 < 1000" True
