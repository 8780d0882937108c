#!/usr/bin/env bash
# samples/locks: four threads updating shared histograms under one mutex
# against per-thread shards. Wall-clock sampling must show the slow way's
# threads waiting for the lock, and the fast way's not; the shards are faster.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/locks
waiting='^(pthread_mutex_lock|___pthread_mutex_lock|__pthread_mutex_lock|__lll_lock_wait|futex_wait|__futex_abstimed_wait_common.*)$'

t_slow=$(sample_time slow.plain "$prog" slow)
t_fast=$(sample_best_time 3 fast.plain "$prog" fast)
sample_same_output slow.plain fast.plain

sample_record slow --clock wall -- "$prog" slow
sample_record fast --clock wall -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow
sample_json report fast

wait_slow=$(sample_fact total "$waiting" slow.report.json)
wait_fast=$(sample_fact total "$waiting" fast.report.json)
assert_ge "locks slow: wall time waiting for the mutex (%)" 25 "$wait_slow"
assert_le "locks fast: wall time waiting for the mutex (%)" 5 "$wait_fast"
assert_ge "locks slow: count_items_global_lock's total share (%)" 50 "$(sample_fact total '^count_items_global_lock$' slow.report.json)"

speedup=$(sample_ratio "$t_slow" "$t_fast")
assert_ge "locks: speedup of the shards" 1.5 "$speedup"
note "locks: slow $t_slow s, fast $t_fast s, ${speedup}x; waiting on the mutex ${wait_slow}% of wall samples vs ${wait_fast}%"
