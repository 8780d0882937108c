#!/usr/bin/env bash
# samples/churn: a heap block for every field of every record against one
# reused scratch buffer. The slow way must make millions of allocation calls,
# nearly all temporary, at field_copy and path_normalize_alloc; the fast way
# a handful.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/churn
records=1500000   # the sample's default, named here because the facts count on it

sample_compare 1.1 "$prog" slow fast
sample_same_output slow.plain fast.plain
assert_contains "churn output" "$records records" slow.plain

sample_record slow --alloc -- "$prog" slow
sample_record fast --alloc -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json mem slow
sample_json mem fast

# Four fields a record, and one normalised path: exact counts in exact mode.
assert_eq "churn slow: field_copy calls" $((4 * records)) "$(sample_fact site field_copy calls slow.mem.json)"
assert_eq "churn slow: path_normalize_alloc calls" "$records" "$(sample_fact site path_normalize_alloc calls slow.mem.json)"
calls_slow=$(sample_fact mem totals.alloc_calls slow.mem.json)
calls_fast=$(sample_fact mem totals.alloc_calls fast.mem.json)
temps=$(sample_fact mem totals.temp_calls slow.mem.json)
# Each path's shape is made while its field is alive, so only the field is not
# a temporary when freed: 4 of the 5 blocks of a record are.
assert_ge "churn slow: temporary allocations" $((4 * records)) "$temps"
assert_le "churn fast: allocation calls" 100 "$calls_fast"

fewer=$(sample_ratio "$calls_slow" "$calls_fast")
assert_ge "churn: fewer allocation calls" 10000 "$fewer"
sample_assert_speedup "churn: speedup of reuse" 1.1
note "churn: $calls_slow allocation calls ($temps temporary) vs $calls_fast, ${fewer}x fewer; slow $t_slow s, fast $t_fast s, ${speedup}x"
