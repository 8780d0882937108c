# Names that are not UTF-8 (a function whose symbol holds a lone surrogate
# ED A0 80, bytes F5-FF, an overlong C0 80; a thread name and a program file
# name with such bytes and a control character) still give outputs that strict
# parsers accept: the SVG (xmllint), every JSON (python3, node), pprof (go tool
# pprof), folded stacks; the bad bytes shown as U+FFFD.
. "$SRCDIR/tests/lib.sh"

CC=${CC:-cc}
command -v "$CC" >/dev/null || skip "no C compiler to build a program with such a symbol"

# The function's name comes from its ELF symbol (an asm label): compiled
# without debug information, whose DWARF name would be the C identifier.
printf '%s\n' \
	'#define _GNU_SOURCE' \
	'#include <stdio.h>' \
	'#include <sys/prctl.h>' \
	'__attribute__((noinline)) long spin(long n) __asm__("spin_\xed\xa0\x80_\xf5\xff_\xc0\x80_\xe2\x82_end");' \
	'__attribute__((noinline)) long spin(long n) { volatile long s = 0; for (long i = 0; i < n; i++) s += i; return s; }' \
	'int main(void) { prctl(PR_SET_NAME, "th\xed\xa0\x80\x01\xf8"); printf("%ld\n", spin(300000000L)); return 0; }' \
	>badname.c
bin=$'bad\xf5\x01\xed\xa0\x80name'
run "$CC" -O2 -g0 -o "$bin" badname.c
run "$FATHOM" record -q -o bad.fdump -- "./$bin" >/dev/null

# Each output must name the function (so that the check below means something).
run "$FATHOM" flame bad.fdump -o bad.svg 2>/dev/null
run "$FATHOM" flame --folded bad.fdump -o bad.folded
run "$FATHOM" export --format speedscope bad.fdump -o bad.speedscope.json
run "$FATHOM" export --format pprof --threads bad.fdump -o bad.pb.gz
run "$FATHOM" view --data-only bad.fdump -o bad.viewer.json >/dev/null 2>&1
run "$FATHOM" view bad.fdump -o bad.html >/dev/null 2>&1
"$FATHOM" report --json bad.fdump >bad.report.json || fail "report --json failed"
"$FATHOM" diff bad.fdump bad.fdump --format json -o bad.diff.json || fail "diff --format json failed"
"$FATHOM" diff bad.fdump bad.fdump --format junit -o bad.junit.xml || fail "diff --format junit failed"
"$FATHOM" diff bad.fdump bad.fdump --format markdown -o bad.diff.md || fail "diff --format markdown failed"

# The SVG and JUnit XML: well-formed (xmllint when installed, python's parser always).
for x in bad.svg bad.junit.xml; do
	if command -v xmllint >/dev/null; then
		xmllint --noout "$x" || fail "$x: xmllint rejects it"
	fi
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$x" || fail "$x: not well-formed XML"
done

# Strict UTF-8 everywhere, strict JSON without lone surrogates, and the
# function (its ASCII part) present with U+FFFD in place of the bad bytes.
python3 - bad.svg bad.folded bad.speedscope.json bad.viewer.json bad.html bad.report.json bad.diff.json bad.diff.md <<'PY' || fail "an output is not valid UTF-8 or JSON"
import json, sys
for path in sys.argv[1:]:
    raw = open(path, 'rb').read()
    text = raw.decode('utf-8')  # strict: raises on any ill-formed sequence
    if path.endswith('.json'):
        obj = json.loads(text)
        # A lone surrogate escaped as \ud800 decodes, but cannot be re-encoded.
        json.dumps(obj, ensure_ascii=False).encode('utf-8')
    if path.endswith(('.svg', '.folded', 'speedscope.json', '.html', 'viewer.json')):
        assert 'spin_\ufffd' in text, f'{path}: the function is not there as spin_\\ufffd...'
PY
if command -v node >/dev/null; then
	for j in bad.speedscope.json bad.viewer.json bad.report.json bad.diff.json; do
		node -e '
const s = require("fs").readFileSync(process.argv[1]);
const t = new TextDecoder("utf-8", { fatal: true }).decode(s);
const walk = (v) => { if (typeof v === "string") { if (!v.isWellFormed()) throw new Error("lone surrogate"); }
	else if (v && typeof v === "object") Object.values(v).forEach(walk); };
walk(JSON.parse(t));' "$j" || fail "$j: node rejects it"
	done
fi

# pprof: every string of the string table (field 6) is UTF-8.
python3 - bad.pb.gz <<'PY' || fail "bad.pb.gz: a string of the table is not UTF-8"
import gzip, sys
b = gzip.open(sys.argv[1]).read()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
i, strings = 0, []
while i < len(b):
    key, i = varint(b, i)
    field, wt = key >> 3, key & 7
    if wt == 0: _, i = varint(b, i)
    elif wt == 2:
        n, i = varint(b, i)
        if field == 6: strings.append(b[i:i + n])
        i += n
    elif wt == 1: i += 8
    elif wt == 5: i += 4
    else: raise SystemExit(f'wire type {wt}')
text = [s.decode('utf-8') for s in strings]
assert any(t.startswith('spin_\ufffd') for t in text), 'the function is not in the string table'
assert any(t.startswith('th\ufffd') for t in text), 'the thread label is not in the string table'
PY
if command -v go >/dev/null; then
	HOME=${HOME:-$WORKDIR} GOCACHE=$WORKDIR/gocache GOFLAGS=-mod=mod go tool pprof -raw bad.pb.gz >pprof.raw 2>pprof.err ||
		{ cat pprof.err >&2; fail "go tool pprof rejects bad.pb.gz"; }
	python3 -c 'import sys; t = open(sys.argv[1], "rb").read().decode("utf-8"); assert "spin_\ufffd" in t' pprof.raw ||
		fail "go tool pprof -raw: not UTF-8, or the function missing"
fi
exit 0
