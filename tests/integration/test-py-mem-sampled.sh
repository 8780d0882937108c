# Python allocations in sampled mode (--alloc-sample 16k): the same
# comparison with tracemalloc as test-py-mem-tracemalloc, on 50,000 records
# (about 1,500 samples of the ~25 MB the JSON workload leaves live: a
# standard error near 3%). Bytes within 15% (5 standard errors), the same
# top 2 lines. Debian's python3 only.
source "$SRCDIR/tests/integration/py/py-lib.sh"
py=$(py_base)
for w in json dicts; do
	note "== $py, $w"
	"$py" "$PYDIR/mem_json.py" $w 50000 --tracemalloc >tm.txt || fail "the tracemalloc run failed"
	"$FATHOM" record -q --alloc-sample 16k -o $w.fdump -- "$py" "$PYDIR/mem_json.py" $w 50000 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	"$FATHOM" mem --no-symbols --json --top 0 $w.fdump >mem.json 2>err.txt || { cat err.txt >&2; fail "fathom mem failed"; }
	/usr/bin/python3 "$PYDIR/mem-compare.py" mem.json tm.txt --sampled --tol 15 --top 2 >cmp.txt ||
		{ cat cmp.txt >&2; fail "$w: sampled fathom and tracemalloc disagree"; }
	tail -2 cmp.txt >&2
done
