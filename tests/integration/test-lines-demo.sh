# fathom lines on a program with a hot loop on one line, a cold branch, a
# helper inlined at -O2 and an allocating line: the hot line has the highest
# self share, the cold lines have blank figures, the inlined helper's line is
# noted under the line it was inlined at and shown at its own source, the
# allocating line carries exactly its calls, bytes, bytes at the peak and
# leaks; long stretches are elided with --context; colours only on request
# or a terminal; a pattern that matches nothing lists the closest names.
source "$SRCDIR/tests/lib.sh"

src="$SRCDIR/tests/integration/progs/lines_demo.c"
line_of() { grep -n "LINE:$1 " "$src" | cut -d: -f1; }
hot=$(line_of hot) cold=$(line_of cold) inl=$(line_of inlined) call=$(line_of call) alloc=$(line_of alloc)
run "$FATHOM" record --alloc -F 999 -o demo.fdump -- "$PROGS/lines_demo" 100000000 >/dev/null 2>err.txt
"$FATHOM" lines demo.fdump --json >all.json 2>err.txt || { cat err.txt >&2; fail "fathom lines --json failed"; }
"$FATHOM" lines demo.fdump --top 0 >all.txt 2>err.txt || { cat err.txt >&2; fail "fathom lines failed"; }
sed 's/^/  | /' all.txt | head -40 >&2

python3 - all.json "$src" "$hot" "$cold" "$inl" "$call" <<'PY' || fail "the figures by line are wrong (above)"
import json, sys
d = json.load(open(sys.argv[1]))
src, hot, cold, inl, call = sys.argv[2], *map(int, sys.argv[3:])
files = {f["file"]: f for f in d["files"]}
assert src in files, list(files)
funcs = {fn["name"]: fn for fn in files[src]["functions"]}
assert "lines_work" in funcs and "lines_mix" in funcs, list(funcs)
# The hot line has the highest self share of every line shown.
best = max((l for f in d["files"] for fn in f["functions"] for l in fn["lines"]), key=lambda l: l["self_weight"])
assert best["line"] == hot and best["self_percent"] > 40, best
work = {l["line"]: l for l in funcs["lines_work"]["lines"]}
assert cold not in work, work.get(cold)
# The inlined helper: noted under the call line with its own line, and at its own source.
assert work[call]["self_weight"] == 0 and work[call]["total_weight"] > 0, work[call]
notes = work[call]["inlined"]
assert notes and notes[0]["function"] == "lines_mix" and notes[0]["line"] == inl, notes
mix = {l["line"]: l for l in funcs["lines_mix"]["lines"]}
assert mix[inl]["self_weight"] == notes[0]["self_weight"] > 0, (mix, notes)
assert funcs["lines_mix"]["inlined_into"][0]["call_line"] == call, funcs["lines_mix"]["inlined_into"]
# Shares add up: the function's self is the sum of its lines' self.
assert sum(l["self_weight"] for l in funcs["lines_work"]["lines"]) == funcs["lines_work"]["self_weight"]
print("hot line %d: %.1f%% self; inlined line %d: %.1f%%" % (hot, best["self_percent"], inl, mix[inl]["self_percent"]), file=sys.stderr)
PY

# The text: the hot line's row has figures, the cold line's none.
row() { grep -E "^ .* +$1 [ +>] " "$2" | head -1; }
hotrow=$(row "$hot" all.txt) || fail "no row of line $hot"
case "$hotrow" in *%*) ;; *) fail "the hot line $hot has no share: $hotrow" ;; esac
coldrow=$(row "$cold" all.txt) || fail "the cold line $cold is not shown"
case "$coldrow" in *%* | *" ms"*) fail "the cold line $cold has figures: $coldrow" ;; esac
grep -qE "^ .* +$inl \+ .*LINE:inlined" all.txt || fail "the inlined line $inl is not noted under line $call"
grep -q "+ inlined lines_mix" all.txt || fail "no 'inlined lines_mix' note"
grep -q "inlined into lines_work at lines_demo.c:$call" all.txt || fail "lines_mix does not say where it was inlined"

# The allocating line carries exactly its bytes: 5,000 calls of 1,000 bytes, 10 leaked.
"$FATHOM" lines demo.fdump lines_alloc --json >alloc.json || fail "fathom lines lines_alloc failed"
python3 - alloc.json "$alloc" <<'PY' || fail "the allocating line's figures are wrong"
import json, sys
d = json.load(open(sys.argv[1]))
fn = d["files"][0]["functions"][0]
lines = {l["line"]: l for l in fn["lines"]}
a = lines[int(sys.argv[2])]
assert (a["alloc_calls"], a["alloc_bytes"], a["leaked_bytes"]) == (5000, 5000000, 10000), a
assert (a["self_alloc_calls"], a["self_alloc_bytes"]) == (5000, 5000000), a
# At the heap's peak (after printf's 4 KiB stdout buffer: 10 leaked blocks +
# 4,096 beats the loop's 10 + 1 in flight) the line holds its 10 leaked blocks.
assert a["peak_bytes"] == 10000, a
assert sum(l["alloc_bytes"] for l in fn["lines"]) == 5000000, fn["lines"]
PY
"$FATHOM" lines demo.fdump lines_alloc >alloc.txt || fail "fathom lines lines_alloc failed"
grep -qE "^ +5,000 +4.77 MiB +9.77 KiB +9.77 KiB +$alloc  .*LINE:alloc" alloc.txt || { cat alloc.txt >&2; fail "the allocating line's text row"; }
# A CPU-only function's table has no memory columns (all zero there).
"$FATHOM" lines demo.fdump lines_work >work.txt || fail "fathom lines lines_work failed"
assert_not_contains "memory columns of a CPU-only listing" "at peak" work.txt
assert_contains "CPU columns" "self%" work.txt

# Elision: with --context 1 the lines between the hot line and the
# second loop are replaced by '...'; the cold line with them.
"$FATHOM" lines demo.fdump lines_work --context 1 >ctx.txt || fail "--context 1 failed"
# (3 lines, or 4 when no sample fell on the line after the hot one.)
grep -qE '\.\.\. \([34] lines\)' ctx.txt || { cat ctx.txt >&2; fail "no elision with --context 1"; }
assert_not_contains "the cold line elided" "LINE:cold" ctx.txt
assert_contains "the cold line shown by default" "LINE:cold" work.txt

# SOURCE:LINE: the function holding that line, the line marked.
"$FATHOM" lines demo.fdump "lines_demo.c:$hot" >fl.txt || fail "fathom lines FILE:LINE failed"
grep -qE " $hot > .*LINE:hot" fl.txt || { cat fl.txt >&2; fail "FILE:LINE does not mark line $hot"; }

# Colours: none into a file, nor with NO_COLOR; on request, dim cold lines.
assert_not_contains "no escape codes into a file" $'\033[' all.txt
"$FATHOM" lines demo.fdump lines_work --color always >color.txt || fail "--color always failed"
grep -q $'\033\[2m.*LINE:cold' color.txt || fail "the cold line is not dimmed with --color always"
grep -q $'\033\[1;31m.*LINE:hot' color.txt || fail "the hot line is not red with --color always"
NO_COLOR=1 script -qec "$FATHOM lines demo.fdump lines_work" /dev/null >tty.txt 2>&1 || true
if [ -s tty.txt ]; then
	assert_not_contains "NO_COLOR on a terminal" $'\033[1;31m' tty.txt
	script -qec "$FATHOM lines demo.fdump lines_work" /dev/null >tty2.txt 2>&1 || true
	grep -q $'\033\[1;31m' tty2.txt || fail "no colours on a terminal"
fi

# A pattern that matches nothing: exit 2 and the closest names.
rc=0
"$FATHOM" lines demo.fdump lines_wrk >/dev/null 2>bad.txt || rc=$?
assert_eq "exit status of a pattern matching nothing" 2 "$rc"
assert_contains "closest names" "no function with figures matches 'lines_wrk'; the closest: lines_work" bad.txt
exit 0
