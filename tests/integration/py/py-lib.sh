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
