# Shared by the tests of real Python programs (test-py-gen, -sorted, -sqlite,
# -mp, -asyncio, -pytest): recording a program for one Python and reading
# figures out of its folded stacks. Source instead of py-lib.sh (it sources it).
source "$SRCDIR/tests/integration/py/py-lib.sh"

# py_ver PY: "3.11" and the like.
py_ver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# py_record NAME [RECORD-OPTIONS...] -- PY ARGS...: records at 999 Hz into
# NAME.fdump (other processes of the run: NAME.fdump.PID), the program's
# stdout to NAME.out and stderr to NAME.err; the exit status must be 0. Then
# exports the run's folded stacks to NAME.folded.
py_record() {
	local name=$1 rc=0
	shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$FATHOM" record -F 999 "${opts[@]}" -o "$name.fdump" -- "$@" >"$name.out" 2>"$name.err" || rc=$?
	[ $rc -eq 0 ] || { sed 's/^/  | /' "$name.err" >&2; fail "fathom record $name exited $rc"; }
	"$FATHOM" export -f folded -o "$name.folded" "$name".fdump* 2>"$name.export.err" ||
		{ cat "$name.export.err" >&2; fail "fathom export $name failed"; }
}

# py_weight FOLDED REGEX: the weight (timer periods) of the stacks whose
# ;-joined frames match the extended regular expression.
py_weight() {
	awk -v rx="$2" '{ w = $NF; sub(/ [0-9]+$/, ""); if ($0 ~ rx) s += w } END { print s + 0 }' "$1"
}

# py_truth FILE KEY: KEY's value on the program's "truth k=v ..." line.
py_truth() {
	local v
	v=$(sed -n "s/^truth.* $2=\([0-9.]*\).*/\1/p" "$1" | head -1)
	[ -n "$v" ] || fail "no truth for '$2' in $1"
	echo "$v"
}

# py_pair_share REPORT.json OUT A B MIN KEY TOL WHAT: function A's share of
# the total weight of A and B in REPORT.json, within TOL points of the
# program's own figure KEY (py_truth OUT KEY), from at least MIN periods.
py_pair_share() {
	local wa wb got truth
	read -r wa wb < <(py_totals "$1" "$3" "$4")
	[ "$((wa + wb))" -ge "$5" ] || fail "$8: only $((wa + wb)) periods in $3 and $4: too few"
	got=$(awk -v a="$wa" -v b="$wb" 'BEGIN { printf "%.1f\n", 100 * a / (a + b) }')
	truth=$(py_truth "$2" "$6")
	note "$8: $3 $got% of $3 + $4 (truth $truth%)"
	assert_near "$8: $3's share of $3 + $4" "$truth" "$got" "$7"
}

# py_inner FOLDED PREFIX [UNDER]: "NAME WEIGHT" for each function whose name
# starts with PREFIX, weighted by the stacks where it is the innermost such
# frame (its own Python code and the interpreter's work for it below), among
# the stacks holding a frame named UNDER when given; then "all WEIGHT", the
# weight of the stacks considered.
py_inner() {
	/usr/bin/python3 "$SRCDIR/tests/integration/py/stacks.py" inner "$@" || fail "py_inner $*: failed"
}

# py_share NAME INNER-OUTPUT: NAME's share, percent, of the weight considered.
py_share() {
	awk -v n="$1" '$1 == n { w = $2 } $1 == "all" { a = $2 } END { printf "%.1f\n", a ? 100 * w / a : 0 }' <<<"$2"
}

# py_top_line LINES.json FUNC [SKIP-LINE...]: "file.py:N WEIGHT", FUNC's line
# with the most total weight in `fathom report --by line --json`, leaving out
# the lines numbered SKIP-LINE (a loop's header that pulls from a generator
# holds the producer's time too).
py_top_line() {
	/usr/bin/python3 "$SRCDIR/tests/integration/py/stacks.py" top-line "$@" || fail "py_top_line $*: failed"
}

# py_line_of FILE TEXT: the number of FILE's first line containing TEXT.
py_line_of() {
	local n
	n=$(grep -nF -m1 -- "$2" "$1" | cut -d: -f1)
	[ -n "$n" ] || fail "no line with '$2' in $1"
	echo "$n"
}
