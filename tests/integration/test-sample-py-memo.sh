# samples/python/memo.py: naive recursion against functools.lru_cache. The
# slow way's profile must be fib and nothing else (the innermost Python frame
# of ~every sample), its hot line the recursive call; the cached way never
# calls fib; the cache must be much faster. Debian's python3.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
py=$(py_base) || exit 77   # py_base said why
src=$SRCDIR/samples/python/memo.py
queries=60   # the sample's default, named here because the facts count on it
l_rec=$(py_line_of "$src" 'return fib(n - 1) + fib(n - 2)')

# A function, not a command line: sample_compare splits its arguments on
# spaces (and its locals would shadow a variable named prog).
memo() { "$py" "$src" "$@"; }
sample_compare 5 memo slow fast
sample_same_output slow.plain fast.plain
assert_contains "memo output" "$queries queries" slow.plain

sample_record_ways "$py" "$src"
sample_json report slow
sample_json report slow --by line
mv slow.report.json slow.lines.json
sample_json report slow

# CPU: the slow way is the recursion: fib is the innermost Python frame of
# nearly every sample of the program's own code (under main), and holds
# nearly all of the run (the rest is the interpreter starting and ending).
inner=$(py_inner slow.folded memo. memo.main)
fib_inner=$(py_share memo.fib "$inner")
fib_total=$(sample_fact total '^memo\.fib$' slow.report.json)
assert_ge "memo slow: fib's share as the innermost Python frame (%)" 98 "$fib_inner"
assert_ge "memo slow: fib's total share of the whole run (%)" 90 "$fib_total"
read -r line _ < <(py_top_line slow.lines.json memo.fib)
assert_eq "memo slow: fib's hot line" "memo.py:$l_rec" "$line"
# The cached way: fib is never called.
assert_eq "memo fast: periods in fib" 0 "$(py_weight fast.folded 'memo\.fib(;|$)')"

sample_assert_speedup "memo.py: speedup of lru_cache" 5
note "memo.py: slow $t_slow s, fast $t_fast s, ${speedup}x; fib ${fib_inner}% as the innermost Python frame, ${fib_total}% total in the slow profile"
