# A sqlite3 user-defined function (py/udf.py): Python calls libsqlite3, which
# calls Python back. Every sample in the UDF (score) has the Python caller
# (scored), then sqlite3's native frames (sqlite3_step, sqlite3VdbeExec), then
# the UDF, in that order; the query sqlite answers alone (plain) is sqlite3's
# native code under its Python caller; the two queries' shares are within
# 5 points of the program's CPU clock, and the UDF's share of its query
# between two bounds on its own code's time that the program measures (the
# calls into it are C code of sqlite3 and the _sqlite3 module: see udf.py),
# 4 points of sampling error allowed either side; the UDF's hot line is its
# loop body.
# The CPU clock (250 Hz here: see test-py-gen), about three seconds of CPU a
# Python. For every Python here.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
prog=$PYDIR/udf.py
l_score=$(py_line_of "$prog" 's += (x * i + 7) % 13')
pys=$(py_all) || exit 77   # no Python 3.11 at /usr/bin/python3: py_base said why
for py in $pys; do
	v=$(py_ver "$py")
	"$py" -c 'import sqlite3' 2>/dev/null || { note "$v: no sqlite3 module, left out"; continue; }
	note "== $py ($v)"
	py_record udf-$v -- "$py" "$prog"
	assert_contains "the program's result ($v)" "results 1470039 (1009, 508536)" udf-$v.out
	"$FATHOM" report --top 0 --json udf-$v.fdump >report-$v.json 2>report.err || fail "fathom report failed"
	py_pair_share report-$v.json udf-$v.out udf.scored udf.plain 600 scored 5 "$v"
	got=$(py_share udf.score "$(py_inner udf-$v.folded udf. udf.scored)")
	low=$(py_truth udf-$v.out score_low)
	high=$(py_truth udf-$v.out score_high)
	note "$v: score $got% of scored (truth between $low% and $high%)"
	assert_ge "$v: the UDF's share of its query" "$(awk -v l="$low" 'BEGIN { print l - 4 }')" "$got"
	assert_le "$v: the UDF's share of its query" "$(awk -v h="$high" 'BEGIN { print h + 4 }')" "$got"
	# Python, then sqlite3, then Python: every sample of the UDF.
	sw=$(py_weight udf-$v.folded 'udf\.scored;.*udf\.score(;|$)')
	mixed=$(py_weight udf-$v.folded 'udf\.scored;([^;]+;)*sqlite3_step;([^;]+;)*sqlite3VdbeExec;([^;]+;)*udf\.score(;|$)')
	note "$v: $mixed of score's $sw periods under scored, sqlite3_step and sqlite3VdbeExec"
	[ "$sw" -ge 200 ] || fail "$v: score has $sw periods under scored"
	assert_ge "$v: score's periods under sqlite3's native frames" "$((sw * 95 / 100))" "$mixed"
	# The other query: sqlite3's own code, no Python below the caller.
	inplain=$(py_weight udf-$v.folded 'udf\.plain;([^;]+;)*sqlite3VdbeExec(;[^;]+)*$')
	read -r wp < <(py_totals report-$v.json udf.plain)
	note "$v: $inplain of plain's $wp periods in sqlite3's virtual machine"
	assert_ge "$v: plain's periods in sqlite3's virtual machine" "$((wp * 80 / 100))" "$inplain"
	"$FATHOM" report --by line --top 0 --json udf-$v.fdump >lines-$v.json 2>lines.err || fail "fathom report --by line failed"
	read -r line _ < <(py_top_line lines-$v.json udf.score)
	assert_eq "$v: score's hot line" "udf.py:$l_score" "$line"
done
