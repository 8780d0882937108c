#!/usr/bin/env bash
# samples/index: a linear scan of the customer table per order against a hash
# index. The slow profile must be find_customer_scan; the index far faster.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/index

sample_compare 20 "$prog" slow fast
sample_same_output slow.plain fast.plain

sample_record slow -- "$prog" slow
sample_record fast -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow
sample_json report fast

read -r top top_pct <<<"$(sample_fact top-self slow.report.json)"
assert_eq "index slow: top self function" find_customer_scan "$top"
assert_ge "index slow: find_customer_scan's self share (%)" 80 "$top_pct"
assert_eq "index fast: find_customer_scan's self share (%)" 0.00 "$(sample_fact self find_customer_scan fast.report.json)"

sample_assert_speedup "index: speedup of the hash index" 20
note "index: slow $t_slow s, fast $t_fast s, ${speedup}x; find_customer_scan ${top_pct}% self in the slow profile"
