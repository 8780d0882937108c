# Shared by the py- tests: the Pythons to run (Debian's python3, which every
# test needs, then pyenv's 3.12 and 3.13 where present) and the share of a
# function's total time in a report's JSON.
source "$SRCDIR/tests/lib.sh"
PYDIR="$SRCDIR/tests/integration/py"

# Debian's /usr/bin/python3 (3.11), else exit 77.
py_base() {
	local py=/usr/bin/python3
	[ -x "$py" ] || { echo "SKIP: no /usr/bin/python3" >&2; exit 77; }
	"$py" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' ||
		{ echo "SKIP: $py is not Python 3.11 to 3.13" >&2; exit 77; }
	echo "$py"
}

# Every Python to test: Debian's, then the pyenv builds present.
py_all() {
	py_base
	local v
	for v in 3.12.1 3.13.0; do
		[ -x "/root/.pyenv/versions/$v/bin/python3" ] && echo "/root/.pyenv/versions/$v/bin/python3"
	done
	return 0
}

# py_totals REPORT.json NAME... : each function's total weight, in order.
py_totals() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
tot = {e["name"]: e["total_weight"] for e in r["top_total"]}
print(*(tot.get(n, 0) for n in sys.argv[2:]))
PY
}

# py_split_shares REPORT.json TRUTH WHAT: py/split.py's three functions'
# shares of their total weight in REPORT.json, each within 5 points of the
# program's own clock (its TRUTH line: "truth a=60.0 b=29.7 c=10.3") plus
# two standard errors of a share estimated from the run's samples (the
# kernel's 250 Hz tick gives about 120 samples of weight 4 at -F 999: one
# standard error of a 30% share is 4 points, and 5 alone failed twice in
# CI), from at least 300 periods.
py_split_shares() {
	local a b c pa pb pc ta tb tc
	read -r a b c < <(py_totals "$1" split.spin_a split.spin_b split.spin_c)
	read -r pa pb pc < <(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { s = a + b + c; if (!s) s = 1;
		printf "%.1f %.1f %.1f\n", 100 * a / s, 100 * b / s, 100 * c / s }')
	ta=$(sed 's/.* a=\([0-9.]*\).*/\1/' <<<"$2")
	tb=$(sed 's/.* b=\([0-9.]*\).*/\1/' <<<"$2")
	tc=$(sed 's/.* c=\([0-9.]*\).*/\1/' <<<"$2")
	note "weights $a $b $c; spin_a $pa% (truth $ta), spin_b $pb% (truth $tb), spin_c $pc% (truth $tc)"
	[ "$((a + b + c))" -ge 300 ] || fail "only $((a + b + c)) periods in the three functions: too few"
	local n
	n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["samples"])' "$1")
	assert_near "spin_a share ($3)" "$ta" "$pa" "$(share_tol 5 "$ta" "$n")"
	assert_near "spin_b share ($3)" "$tb" "$pb" "$(share_tol 5 "$tb" "$n")"
	assert_near "spin_c share ($3)" "$tc" "$pc" "$(share_tol 5 "$tc" "$n")"
}
