# fathom lines on a Python program (split.py: three functions whose loop
# bodies are the hot lines): the source comes from the code object's file
# name, the function's extent from its indentation, and the loop body has
# the highest share of its function (total: a Python line's time is mostly
# in the interpreter's C functions it calls); moved, the source is found
# with --source-dir, or named as missing without it.
source "$SRCDIR/tests/integration/py/py-lib.sh"
py=$(py_base)
mkdir -p app
cp "$PYDIR/split.py" app/split.py
body=$(grep -n 's += i \* i % 7' app/split.py | head -1 | cut -d: -f1)
def=$(grep -n '^def spin_a' app/split.py | cut -d: -f1)
(cd app && "$FATHOM" record -F 999 -o ../split.fdump -- "$py" split.py 3000000 >/dev/null 2>../err.txt) ||
	{ cat err.txt >&2; fail "fathom record failed"; }
"$FATHOM" lines split.fdump 'spin_a$' --json >a.json 2>err.txt || { cat err.txt >&2; fail "fathom lines failed"; }
"$FATHOM" lines split.fdump 'spin_a$' >a.txt 2>>err.txt || fail "fathom lines failed"
sed 's/^/  | /' a.txt >&2
python3 - a.json "$body" "$def" "$PWD/app/split.py" <<'PY' || fail "spin_a's lines are wrong"
import json, sys
d = json.load(open(sys.argv[1]))
body, first, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
f = d["files"][0]
assert f["file"] == path and f["path"] == path, f
fn = f["functions"][0]
assert fn["name"] == "split.spin_a" and fn["line"] == first and fn["module"] == "python", fn
# The function's extent comes from its indentation: def to return.
assert (fn["first_line"], fn["last_line"]) == (first, first + 4), fn
best = max(fn["lines"], key=lambda l: l["total_weight"])
assert best["line"] == body and best["text"].strip() == "s += i * i % 7", best
assert best["total_weight"] * 2 > fn["total_weight"], (best, fn)
assert sum(l["self_weight"] for l in fn["lines"]) == fn["self_weight"], fn
PY
grep -qE "%.* $body   +s \+= i \* i % 7" a.txt || fail "the loop body's text row"
grep -q "def spin_a" a.txt || fail "the def line is not shown"
grep -q "def spin_b" a.txt && fail "spin_a's listing runs into spin_b"
# Moved: found under --source-dir, named as missing without it.
mv app moved
"$FATHOM" lines split.fdump 'spin_a$' >missing.txt 2>err.txt || fail "fathom lines failed"
assert_contains "the path looked for" "source not found: looked for $PWD/app/split.py" missing.txt
"$FATHOM" lines split.fdump 'spin_a$' --source-dir moved >moved.txt 2>err.txt || fail "fathom lines failed"
grep -qE "%.* $body   +s \+= i \* i % 7" moved.txt || fail "--source-dir did not find split.py"
exit 0
