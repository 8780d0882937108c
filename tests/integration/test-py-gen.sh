# A generator pipeline (read -> parse -> keep -> total, py/gen.py): each
# stage's share of the stream, by the innermost Python frame of each sample,
# within 6 points of the program's own clock (about 1,000 samples give +/- 3
# points, and handing items over, 1 to 3 points of the time, falls outside
# the program's clock windows but inside the consumer's frame); the samples
# in the source stage keep the whole chain of generator frames above it
# (main, total, keep, parse, read: a resumed generator's caller is the stage
# that pulled it); each stage's hot line is its work line. The wall clock samples every
# millisecond (the CPU clock's timer fires at the kernel tick, 250 Hz here),
# for enough samples in a second. For every Python here.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
prog=$PYDIR/gen.py
l_read=$(py_line_of "$prog" 'fields.append(')
l_parse=$(py_line_of "$prog" 'row = list(map(int')
l_keep=$(py_line_of "$prog" 'x += (v ^ k)')
l_parse_for=$(py_line_of "$prog" 'for line in lines:')
l_keep_for=$(py_line_of "$prog" 'for row in rows:')
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	note "== $py ($v)"
	py_record gen-$v --clock wall -- "$py" "$prog"
	assert_contains "the program's result ($v)" "sum 36783890" gen-$v.out
	inner=$(py_inner gen-$v.folded gen. gen.main)
	all=$(awk '$1 == "all" { print $2 }' <<<"$inner")
	[ "$all" -ge 400 ] || fail "$v: only $all periods under gen.main: too few"
	for stage in read parse keep total; do
		truth=$(py_truth gen-$v.out $stage)
		got=$(py_share gen.$stage "$inner")
		note "$v: $stage $got% (truth $truth%)"
		assert_near "$v: gen.$stage's share of the stream" "$truth" "$got" 6
	done
	# The source's samples under the whole chain of stages that pulled it.
	chain=$(py_weight gen-$v.folded 'gen\.main;(.*;)?gen\.total;(.*;)?gen\.keep;(.*;)?gen\.parse;(.*;)?gen\.read(;|$)')
	reads=$(awk '$1 == "gen.read" { print $2 }' <<<"$inner")
	note "$v: $chain of gen.read's $reads periods under main, total, keep and parse"
	assert_ge "$v: gen.read's periods under the whole pipeline" "$((reads * 95 / 100))" "$chain"
	"$FATHOM" report --by line --top 0 --json gen-$v.fdump >lines-$v.json 2>lines.err || fail "fathom report --by line failed"
	read -r line _ < <(py_top_line lines-$v.json gen.read)
	assert_eq "$v: gen.read's hot line" "gen.py:$l_read" "$line"
	read -r line _ < <(py_top_line lines-$v.json gen.parse "$l_parse_for")
	assert_eq "$v: gen.parse's hot line (its for line aside)" "gen.py:$l_parse" "$line"
	read -r line _ < <(py_top_line lines-$v.json gen.keep "$l_keep_for")
	assert_eq "$v: gen.keep's hot line (its for line aside)" "gen.py:$l_keep" "$line"
done
