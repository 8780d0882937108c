#!/usr/bin/env bash
# fathom view's Source tab (issue 16 item 4): clicking a function in the
# hotspot table or the flame graph opens its source with, per line, the
# figures fathom lines --json gives (CPU self and total, allocation calls and
# bytes) and a heat bar (tests/js/test-view-source.mjs); --no-source leaves
# the text out but keeps the figures; --source-cap caps the text with a note;
# --prefix-map finds sources moved since the build; code inlined at a line
# is noted under it; a Python program's functions open their .py source.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"

json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
source_test() {
	node "$VIEW_JS/test-view-source.mjs" --chromium "$VIEW_CHROMIUM" "$@" >src.log 2>&1 || {
		sed 's/^/  | /' src.log | tail -30 >&2
		fail "the viewer's Source tab of $1 is wrong"
	}
	grep -E '^# ' src.log >&2
}

run "$FATHOM" record -q --alloc -o w.fdump -- "$PROGS/view_work" >/dev/null
run "$FATHOM" lines -q w.fdump 'view_spin|view_grow|view_hot_parse' --json --top 0 >lines.json
run "$FATHOM" view -q w.fdump -o w.html >/dev/null
assert_contains "the hot line's text is in the page" "6364136223846793005ul" w.html
source_test w.html lines.json --row view_spin --frame view_grow --frame view_hot_parse

# Inlined code (lines_demo's lines_mix, inlined at -O2 into lines_work): noted
# under the line it was inlined at, with its own lines' figures and text.
run "$FATHOM" record -q --alloc -F 999 -o demo.fdump -- "$PROGS/lines_demo" 100000000 >/dev/null
run "$FATHOM" lines -q demo.fdump lines_work --json --top 0 >demo.json
run "$FATHOM" view -q demo.fdump -o demo.html >/dev/null
source_test demo.html demo.json --inlined lines_work

# A Python program's own functions open their source, with the figures of
# fathom lines (Debian's python3: the one every machine here has).
cat >pvs.py <<'PY'
def spin(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def grow(n):
    return [bytes(1000) for _ in range(n)]


for _ in range(6):
    spin(300_000)
    grow(2000)
PY
run "$FATHOM" record -q --alloc -F 499 -o py.fdump -- /usr/bin/python3 pvs.py
run "$FATHOM" lines -q py.fdump 'pvs.spin|pvs.grow' --json --top 0 >py.json
run "$FATHOM" view -q py.fdump -o py.html >/dev/null
source_test py.html py.json --row pvs.spin --row pvs.grow

# --no-source: figures without text, and no text in the page.
run "$FATHOM" view -q --no-source w.fdump -o nosrc.html >/dev/null
assert_not_contains "no source text with --no-source" "6364136223846793005ul" nosrc.html
source_test nosrc.html lines.json --row view_spin --no-text

# --source-cap: a cap smaller than the source leaves it out, with a note.
run "$FATHOM" view -q --data-only --source-cap 0 w.fdump >cap.json
src='r["profiles"][0]["sources"]'
assert_eq "no text under a cap of 0" 0 "$(json cap.json "sum(len(s['chunks']) for s in $src)")"
assert_contains "the cap is noted" "cap of 0 KiB was reached" cap.json

# --prefix-map: the source moved since the build is read from its new place.
mkdir moved
sed 's/6364136223846793005ul/6364136223846793005ul \/\* moved \*\//' "$SRCDIR/tests/integration/progs/view_work.c" >moved/view_work.c
run "$FATHOM" view -q --data-only --prefix-map "$SRCDIR/tests/integration/progs=$PWD/moved" w.fdump >moved.json
assert_contains "the moved copy is read" "/* moved */" moved.json
"$FATHOM" view -q --prefix-map nonsense w.fdump -o x.html 2>err.txt
assert_eq "exit status on a bad --prefix-map" 2 "$?"
echo "ok: fathom view's Source tab"
