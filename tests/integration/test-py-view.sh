# The Python-only view (--python, a common option): in report, mem, flame,
# view, export (pprof, speedscope, folded) the interpreter's own frames are gone,
# stacks start at the outermost Python frame, native code called from Python
# stays under its Python line (zlib's deflate in libz), a native allocation
# is charged to its Python line, and Python frames carry their file and line
# in every output (a node per line in trees: view.spin (view.py:8)). Without --python the mixed stacks are as before. For
# every Python here (the exports with Debian's only).
source "$SRCDIR/tests/integration/py/py-lib.sh"
cat >view.py <<'EOF'
import sys
import zlib


def spin(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def squeeze(data, rounds):
    for _ in range(rounds):
        zlib.compress(data, 9)


def big():
    buf = bytearray(10_000_000)
    return len(buf)


def main():
    n = int(sys.argv[1])
    data = bytes(range(256)) * 4096
    for _ in range(n):
        spin(600_000)
        squeeze(data, 3)
        big()


main()
EOF
SPIN=$(grep -n 's += i \* i % 7' view.py | cut -d: -f1)
SQUEEZE=$(grep -n 'zlib.compress(data, 9)' view.py | cut -d: -f1)
BIG=$(grep -n 'bytearray(10_000_000)' view.py | cut -d: -f1)
ROOT=$(grep -n '^main()' view.py | cut -d: -f1)
have_go=1
command -v go >/dev/null || have_go=0
pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$FATHOM" record -q -F 499 --alloc -o v-$v.fdump -- "$py" view.py 3 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }

	# report: no row of the interpreter's module in the view; there without it.
	"$FATHOM" report --json --by module --top 0 v-$v.fdump >mixed.json 2>err.txt || fail "fathom report failed"
	"$FATHOM" report --python --json --by module --top 0 v-$v.fdump >view.json 2>err.txt ||
		fail "fathom report --python failed"
	read -r interp mixed_rows view_rows mism < <(/usr/bin/python3 - mixed.json view.json <<'PY'
import json, os, sys
m, w = (json.load(open(f)) for f in sys.argv[1:3])
py = m["processes"][0]["python"]
name = os.path.basename(os.path.realpath(py["interpreter"]))
rows = lambda r: sum(1 for e in r["top_total"] if e["name"] == name)
print(name, rows(m), rows(w), py["mismatched_weight"])
PY
)
	note "interpreter $interp: module rows $mixed_rows without --python, $view_rows with; mismatched weight $mism"
	assert_eq "the interpreter's module in the mixed view ($v)" 1 "$mixed_rows"
	assert_eq "the interpreter's module in the Python view ($v)" 0 "$view_rows"
	assert_contains "the report's Python view names the program's module ($v)" '"name":"view"' view.json

	# flame --folded: Python frames with file and line, the root at the
	# outermost Python frame, libz's deflate under the compress line.
	"$FATHOM" flame --folded --python v-$v.fdump >view.folded 2>err.txt || fail "fathom flame --python failed"
	"$FATHOM" flame --folded v-$v.fdump >mixed.folded 2>err.txt || fail "fathom flame failed"
	assert_contains "spin's hot line in the folded view ($v)" \
		"view.<module> (view.py:$ROOT);view.main (view.py:" view.folded
	assert_contains "spin's hot line ($v)" "view.spin (view.py:$SPIN)" view.folded
	grep -E "view\.squeeze \(view\.py:$SQUEEZE\);.*deflate" view.folded >/dev/null ||
		fail "no libz deflate under view.squeeze (view.py:$SQUEEZE) in the Python view ($v)"
	bad=$(grep 'view\.' view.folded | grep -cv '^view\.<module> ' || true)
	assert_eq "stacks through view.py that do not start at its module code ($v)" 0 "$bad"
	# (A stack with no frame of the interpreter, such as the exit handlers
	# after Py_BytesMain returned, is left as it is.)
	for f in _PyEval_EvalFrameDefault Py_RunMain Py_BytesMain PyObject_Vectorcall; do
		assert_not_contains "$f folded away ($v)" "$f" view.folded
	done
	grep -qE 'Py_RunMain|Py_BytesMain' mixed.folded || fail "the mixed view lost the interpreter's frames ($v)"
	assert_contains "Python frames by function in the mixed view ($v)" "view.main;view.spin;" mixed.folded

	# mem: the 10 MB bytearray is charged to its line, not to the interpreter.
	"$FATHOM" mem --python --json --top 0 v-$v.fdump >mem.json 2>err.txt || fail "fathom mem --python failed"
	site=$(/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = max(d["sites"], key=lambda s: s["peak_bytes"])
print("%s:%s:%d:%d" % (s["function"], (s["file"] or "").rsplit("/", 1)[-1], s["line"], s["bytes"] >= 3 * 10000000))' mem.json)
	assert_eq "the peak's site in the Python view ($v)" "view.big:view.py:$BIG:1" "$site"

	# The outputs' handling of Python frames does not depend on the
	# version: once, with Debian's.
	[ "$py" = /usr/bin/python3 ] || continue

	# speedscope: a frame per Python line, with the file and the line.
	"$FATHOM" export -f speedscope --python -o view.speedscope.json v-$v.fdump 2>err.txt ||
		fail "fathom export speedscope failed"
	got=$(/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
fr = [f for f in d["shared"]["frames"] if f["name"] == "view.spin (view.py:%s)" % sys.argv[2]]
cpu = d["profiles"][0]
roots = {d["shared"]["frames"][s[0]]["name"] for s in cpu["samples"] if len(s) > 2}
print(len(fr), fr and fr[0].get("file", "").endswith("/view.py"), fr and fr[0].get("line"),
      "view.<module> (view.py:%s)" % sys.argv[3] in roots)' view.speedscope.json "$SPIN" "$ROOT")
	assert_eq "speedscope's frame of spin's hot line: count, file, line, root ($v)" "1 True $SPIN True" "$got"

	# The HTML viewer's data: spin with its file and line, no function of
	# the interpreter (the eval loop, or python3.11+0x... in Debian's
	# stripped build) under --python; the mixed view has them.
	"$FATHOM" view -q --python --data-only v-$v.fdump >view.data.json 2>err.txt || fail "fathom view --python failed"
	"$FATHOM" view -q --data-only v-$v.fdump >mixed.data.json 2>err.txt || fail "fathom view failed"
	funcs() { /usr/bin/python3 -c 'import json, os, sys
f = json.load(open(sys.argv[1]))["profiles"][0]["funcs"]
rows = list(zip(f["name"], f["file"], f["line"]))
spin = [r for r in rows if r[0] == "view.spin"]
interp = sum(1 for n, _, _ in rows if n.startswith(("_PyEval_", "python3.", "Py_BytesMain")))
print(len(spin), spin and os.path.basename(spin[0][1] or ""), interp > 0)' "$1"; }
	assert_eq "view --python: spin's function, its file, the interpreter's functions ($v)" "1 view.py False" \
		"$(funcs view.data.json)"
	assert_eq "view: the mixed view keeps the interpreter's functions ($v)" "True" "$(funcs mixed.data.json | cut -d' ' -f3)"

	# SVG: the hot line is a box of its own.
	"$FATHOM" flame --python -o view.svg v-$v.fdump 2>err.txt || fail "fathom flame --python (SVG) failed"
	assert_contains "the SVG's box of spin's hot line ($v)" "view.spin (view.py:$SPIN)" view.svg

	# pprof read by go tool pprof: the Python function, and its lines.
	[ $have_go = 1 ] || { note "go not found: pprof not read back"; continue; }
	"$FATHOM" export -f pprof --python -o view.pb.gz v-$v.fdump 2>err.txt || fail "fathom export pprof failed"
	go tool pprof -top -sample_index=0 view.pb.gz >top.txt 2>err.txt || { cat err.txt >&2; fail "go tool pprof -top failed"; }
	assert_contains "pprof -top names view.spin ($v)" "view.spin" top.txt
	assert_not_contains "pprof -top: no eval loop ($v)" "_PyEval_EvalFrameDefault" top.txt
	go tool pprof -list '^view\.spin$' -sample_index=0 view.pb.gz >list.txt 2>err.txt ||
		{ cat err.txt >&2; fail "go tool pprof -list failed"; }
	assert_contains "pprof -list: the function's file ($v)" "ROUTINE ======================== view.spin in $PWD/view.py" list.txt
	# The hot line has flat weight (a figure, not '.').
	grep -E "^ +[0-9][0-9.]*[a-z]* +[0-9][0-9.]*[a-z]* +$SPIN:" list.txt >/dev/null ||
		{ cat list.txt >&2; fail "pprof -list: no weight on view.py:$SPIN ($v)"; }
done
