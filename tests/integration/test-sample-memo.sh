#!/usr/bin/env bash
# samples/memo: naive recursion against a memo table. The slow way's profile must
# be fib_naive; the memo must be much faster; both allocate one answer each.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/memo
queries=300   # the sample's default, named here because the facts count on it

sample_compare 20 "$prog" slow fast
sample_same_output slow.plain fast.plain
assert_contains "memo output" "$queries queries" slow.plain

sample_record slow --alloc -- "$prog" slow
sample_record fast --alloc -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow
sample_json report fast
sample_json mem slow
sample_json mem fast

# CPU: the slow way is the recursion and nothing else; the fast way never calls it.
read -r top top_pct <<<"$(sample_fact top-self slow.report.json)"
assert_eq "memo slow: top self function" fib_naive "$top"
assert_ge "memo slow: fib_naive's self share (%)" 50 "$top_pct"
assert_eq "memo fast: fib_naive's self share (%)" 0.00 "$(sample_fact self fib_naive fast.report.json)"

# Heap: each answer is a struct and its text, in both ways; the memo table is
# grown twice (to 32 entries for the first query, to 64 for the first n >= 32),
# two reallocs each time.
assert_eq "memo slow: answer_new calls" $((2 * queries)) "$(sample_fact site answer_new calls slow.mem.json)"
assert_eq "memo fast: answer_new calls" $((2 * queries)) "$(sample_fact site answer_new calls fast.mem.json)"
assert_eq "memo fast: memo_grow calls" 4 "$(sample_fact site memo_grow calls fast.mem.json)"
assert_eq "memo slow: answer_new leaked" 0 "$(sample_fact site answer_new leaked_bytes slow.mem.json)"

sample_assert_speedup "memo: speedup of the memo table" 20
note "memo: slow $t_slow s, fast $t_fast s, ${speedup}x; fib_naive ${top_pct}% self in the slow profile"
