#!/usr/bin/env bash
# samples/loops: matrix multiply in i-j-k order (columns of B) against i-k-j
# (rows, vectorised). The slow profile must be matmul_column_order; the row
# order must be clearly faster.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/loops

sample_compare 1.5 "$prog" slow fast
sample_same_output slow.plain fast.plain

sample_record slow -- "$prog" slow
sample_record fast -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json report slow
sample_json report fast

read -r top top_pct <<<"$(sample_fact top-self slow.report.json)"
assert_eq "loops slow: top self function" matmul_column_order "$top"
assert_ge "loops slow: matmul_column_order's self share (%)" 70 "$top_pct"
assert_eq "loops fast: matmul_column_order's self share (%)" 0.00 "$(sample_fact self matmul_column_order fast.report.json)"
assert_ge "loops fast: row_multiply_add's total share (%)" 50 "$(sample_fact total '^row_multiply_add$' fast.report.json)"

sample_assert_speedup "loops: speedup of the row order" 1.5
note "loops: slow $t_slow s, fast $t_fast s, ${speedup}x; matmul_column_order ${top_pct}% self in the slow profile"
