# samples/python/index.py: joining 6,000 orders to 6,000 customers by
# scanning the list against a dict. The slow way's profile must be
# find_customer_scan (the innermost Python frame of nearly all the join's
# samples), its hot line the comparison in the scan; the dict way never
# scans and must be much faster. Debian's python3.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
py=$(py_base) || exit 77   # py_base said why
src=$SRCDIR/samples/python/index.py
l_cmp=$(py_line_of "$src" 'if c[0] == cid:')
# A function, not a command line: sample_compare splits its arguments on
# spaces (and its locals would shadow a variable named prog).
index() { "$py" "$src" "$@"; }

sample_compare 3 index slow fast
sample_same_output slow.plain fast.plain
assert_contains "index.py output" "uk " slow.plain

sample_record_ways "$py" "$src"
"$FATHOM" report --by line --top 0 --json slow.fdump >slow.lines.json 2>/dev/null || fail "fathom report --by line failed"

scan=$(py_share index.find_customer_scan "$(py_inner slow.folded index. index.join_scan)")
assert_ge "index.py slow: find_customer_scan's share of the join, as the innermost Python frame (%)" 95 "$scan"
read -r line _ < <(py_top_line slow.lines.json index.find_customer_scan)
assert_eq "index.py slow: the scan's hot line" "index.py:$l_cmp" "$line"
assert_eq "index.py fast: periods in find_customer_scan" 0 "$(py_weight fast.folded 'index\.find_customer_scan(;|$)')"

sample_assert_speedup "index.py: speedup of the dict" 3
note "index.py: slow $t_slow s, fast $t_fast s, ${speedup}x; find_customer_scan ${scan}% of the slow join"
