# Python allocations against tracemalloc: a JSON workload (dicts of a
# number, a string and a short list; json.dumps, then json.loads) and a
# list of dicts built in a loop, each run under `fathom record --alloc` and
# under the program's own tracemalloc. What the workload left live at exit
# (fathom mem's leaked bytes per site, tracemalloc's live bytes per line,
# both charged to the innermost line outside Python's library) must agree:
# bytes and blocks within 10%, the same top 3 lines. For every Python here.
source "$SRCDIR/tests/integration/py/py-lib.sh"
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	for w in json dicts; do
		note "== $py ($v), $w"
		"$py" "$PYDIR/mem_json.py" $w 5000 --tracemalloc >tm.txt || fail "the tracemalloc run failed"
		"$FATHOM" record -q --alloc -o $w-$v.fdump -- "$py" "$PYDIR/mem_json.py" $w 5000 >out.txt 2>err.txt ||
			{ cat err.txt >&2; fail "fathom record failed"; }
		"$FATHOM" mem --no-symbols --json --top 0 $w-$v.fdump >mem.json 2>err.txt || { cat err.txt >&2; fail "fathom mem failed"; }
		/usr/bin/python3 "$PYDIR/mem-compare.py" mem.json tm.txt >cmp.txt || { cat cmp.txt >&2; fail "$w ($v): fathom and tracemalloc disagree"; }
		tail -2 cmp.txt >&2
		[ "$py" = /usr/bin/python3 ] || continue
		# The text report names the lines: peak, sites, temporaries.
		"$FATHOM" mem $w-$v.fdump >mem.txt 2>err.txt || fail "fathom mem failed"
		enc=$(grep -n 'return json.dumps(data)' "$PYDIR/mem_json.py" | cut -d: -f1)
		rec=$(grep -n 'return {"id": i' "$PYDIR/mem_json.py" | cut -d: -f1)
		if [ $w = json ]; then
			sed -n '/^Peak heap/,/^Leaked/p' mem.txt >peak.txt
			assert_contains "the peak's stacks name a Python line" "mem_json.make_record (mem_json.py:$rec)" peak.txt
			sed -n '/^Top allocation sites by bytes/,/^Allocation sizes/p' mem.txt >sites.txt
			assert_contains "the top site by bytes is json.dumps's line" "mem_json.encode (mem_json.py:$enc)" <(sed -n 3p sites.txt)
			sed -n '/^Temporary/,/^Top/p' mem.txt >temp.txt
			assert_contains "temporaries at a Python line" "(mem_json.py:" temp.txt
		fi
	done
done
