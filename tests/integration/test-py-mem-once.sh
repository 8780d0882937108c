# A Python allocation is counted once, at its Python line: one 10 MB bytes
# object (which pymalloc passes to malloc) is one allocation of
# 10,000,033 bytes (the object's header included, as tracemalloc counts
# it) at `blob = bytes(n)`, not a second one through the malloc hooks.
# And under PYTHONMALLOC=malloc and -X dev (allocators the interpreter
# sets up itself at start, under the wrapper), allocations still have
# their Python lines. The 10 MB object for every Python here; the
# allocators' set-ups with Debian's python3 (run by hand on 3.12.1 and
# 3.13.0 too: the same figures).
source "$SRCDIR/tests/integration/py/py-lib.sh"
line=$(grep -n 'blob = bytes(n)' "$PYDIR/mem_json.py" | cut -d: -f1)
row=$(grep -n 'row\["values"\] = ' "$PYDIR/mem_json.py" | cut -d: -f1)
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$FATHOM" record -q --alloc -o big-$v.fdump -- "$py" "$PYDIR/mem_json.py" big 10000000 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	"$FATHOM" mem --no-symbols --json --top 0 big-$v.fdump >mem.json 2>err.txt || fail "fathom mem failed"
	read -r big site < <(/usr/bin/python3 - mem.json "$line" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
big = [h for h in d["histogram"] if h["max"] >= 10000000 and h["min"] <= 10000033]
at = [s for s in d["sites"] if (s.get("file") or "").endswith("mem_json.py") and s["line"] == int(sys.argv[2])]
print("%d/%d" % (big[0]["calls"], big[0]["bytes"]) if big else "0/0",
      "%d/%d" % (at[0]["calls"], at[0]["bytes"]) if at else "none")
PY
)
	assert_eq "allocations of 10 MB, calls/bytes ($v)" "1/10000033" "$big"
	assert_eq "the site mem_json.py:$line, calls/bytes ($v)" "1/10000033" "$site"
	# The allocators' set-ups: Debian's python3 (the suite's time).
	[ "$py" = /usr/bin/python3 ] || continue
	for how in PYTHONMALLOC=malloc -Xdev; do
		if [ $how = -Xdev ]; then
			"$FATHOM" record -q --alloc -o d.fdump -- "$py" -X dev "$PYDIR/mem_json.py" dicts 5000 >out.txt 2>err.txt
		else
			env $how "$FATHOM" record -q --alloc -o d.fdump -- "$py" "$PYDIR/mem_json.py" dicts 5000 >out.txt 2>err.txt
		fi || { cat err.txt >&2; fail "fathom record ($how) failed"; }
		"$FATHOM" mem --no-symbols --json --top 0 d.fdump >mem.json 2>err.txt || fail "fathom mem ($how) failed"
		# 5,000 lists of two floats: 4 allocations each (the list, its
		# items, two floats) at that line.
		calls=$(/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(s["calls"] for s in d["sites"] if (s.get("file") or "").endswith("mem_json.py") and s["line"] == int(sys.argv[2])))' mem.json "$row")
		note "$how: $calls calls at mem_json.py:$row"
		assert_near "calls at mem_json.py:$row under $how ($v)" 20000 "${calls:-0}" 100
	done
done
