#!/usr/bin/env bash
# samples/threads: counting primes on one thread against four workers. The
# per-thread view must show one thread doing all the work, or four sharing it
# evenly; on two or more CPUs the workers must finish sooner.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/threads
limit=4000000
workers=4

min_speedup=0
[ "$(nproc)" -ge 2 ] && min_speedup=1.2
sample_compare $min_speedup "$prog" "slow $limit" "fast $limit $workers"
sample_same_output slow.plain fast.plain

sample_record slow -- "$prog" slow $limit
sample_record fast -- "$prog" fast $limit $workers
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow --threads
sample_json report fast --threads

assert_ge "threads slow: count_primes_blocks's total share (%)" 90 "$(sample_fact total '^count_primes_blocks$' slow.report.json)"
assert_ge "threads fast: count_primes_blocks's total share (%)" 90 "$(sample_fact total '^count_primes_blocks$' fast.report.json)"

sample_fact threads slow.report.json >slow.threads
sample_fact threads fast.report.json >fast.threads
sed 's/^/# slow: /' slow.threads >&2
sed 's/^/# fast: /' fast.threads >&2
# Slow: one thread has (nearly) every sample.
assert_ge "threads slow: the busiest thread's share (%)" 95 "$(sort -rn slow.threads | awk 'NR == 1 { print $1 }')"
# Fast: each worker has about a quarter; the main thread only waits.
for i in $(seq 0 $((workers - 1))); do
	share=$(awk -v n="worker-$i" '$3 == n { print $1 }' fast.threads)
	[ -n "$share" ] || fail "threads fast: no thread named worker-$i in the report"
	assert_near "threads fast: worker-$i's share (%)" 25 "$share" 10
done
main_share=$(awk '$3 == "threads" { print $1 }' fast.threads)
assert_le "threads fast: the main thread's share (%)" 5 "${main_share:-0}"

sample_assert_speedup "threads: speedup of $workers workers on $(nproc) CPUs" $min_speedup
note "threads: slow $t_slow s, fast $t_fast s with $workers workers on $(nproc) CPUs, ${speedup}x; per-thread CPU: $(tr '\n' ';' <fast.threads)"
