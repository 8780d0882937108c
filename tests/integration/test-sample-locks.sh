#!/usr/bin/env bash
# samples/locks: four threads updating shared histograms under one mutex
# against per-thread shards. Wall-clock sampling must show the slow way's
# threads waiting for the lock, and the fast way's not; the shards are faster.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/locks
# The lock's slow path, by the names glibc 2.36 gives it (lll_mutex_* are
# inlined into pthread_mutex_lock/unlock, futex_wait into __lll_lock_wait).
# The functions nest, so the largest total share is the share of the path.
locking='^(pthread_mutex_lock|___pthread_mutex_lock|__pthread_mutex_lock|lll_mutex_lock_optimized|__lll_lock_wait)$'
unlocking='^(pthread_mutex_unlock|___pthread_mutex_unlock|__pthread_mutex_unlock_usercnt|lll_mutex_unlock_optimized|__lll_lock_wake)$'

sample_compare 1.5 "$prog" slow fast
sample_same_output slow.plain fast.plain

sample_record slow --clock wall -- "$prog" slow
sample_record fast --clock wall -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow
sample_json report fast

lock_slow=$(sample_fact total "$locking" slow.report.json)
unlock_slow=$(sample_fact total "$unlocking" slow.report.json)
lock_fast=$(sample_fact total "$locking" fast.report.json)
unlock_fast=$(sample_fact total "$unlocking" fast.report.json)
both_slow=$(awk -v a="$lock_slow" -v b="$unlock_slow" 'BEGIN { print a + b }')
both_fast=$(awk -v a="$lock_fast" -v b="$unlock_fast" 'BEGIN { print a + b }')
# Waiting for the lock, and waking the waiters on unlock (a futex system call
# each time), are where the slow way's threads spend their wall time.
assert_ge "locks slow: wall time locking (%)" 15 "$lock_slow"
assert_ge "locks slow: wall time locking and unlocking (%)" 30 "$both_slow"
assert_le "locks fast: wall time locking and unlocking (%)" 5 "$both_fast"
assert_ge "locks slow: count_items_global_lock's total share (%)" 50 "$(sample_fact total '^count_items_global_lock$' slow.report.json)"

sample_assert_speedup "locks: speedup of the shards" 1.5
note "locks: slow $t_slow s, fast $t_fast s, ${speedup}x; in the mutex ${both_slow}% of wall samples (locking $lock_slow%, unlocking $unlock_slow%) vs ${both_fast}%"
