# fathom diff --lines matches a line by its source text, not only its number:
# the new checkout has three lines more at the top of lines_demo.c, so every
# line moved down by three. The regressed line (the inlined helper's) still
# compares with itself: its base share is the function's base share, not 0,
# and the function's move is said. Edited in place (one checkout, the base's source gone): the function's
# start moved by three lines between the builds, which is said, and its
# lines compare shifted by as much, unless the base was packed with its
# source.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/lines-diff-lib.sh"

command -v cc >/dev/null || skip "no C compiler"
src="$SRCDIR/tests/integration/progs/lines_demo.c"
mkdir -p base new
cp "$src" base/lines_demo.c
{ printf '/* an edit:\n * three lines more\n */\n'; cat "$src"; } >new/lines_demo.c
run cc -g -O2 -o base/lines_demo base/lines_demo.c
run cc -g -O2 -o new/lines_demo new/lines_demo.c
inl=$(grep -n "LINE:inlined " new/lines_demo.c | cut -d: -f1)
run "$FATHOM" record -q -F 999 -o base.fdump -- base/lines_demo 150000000 4 >/dev/null
run "$FATHOM" record -q -F 999 -o new.fdump -- new/lines_demo 150000000 1 >/dev/null
diff_regressed diff.txt base.fdump new.fdump
line_is_function diff.txt "$inl" moved
assert_not_contains "no base-only row of the old number" "lines_demo.c:$((inl - 3)) " diff.txt
assert_contains "two checkouts: the move is said" "the source changed between the builds; lines are matched by their text" diff.txt

# One checkout: the base built, then its source edited in place and rebuilt.
mkdir -p one/old
cp base/lines_demo.c one/lines_demo.c
(cd one && cc -g -O2 -o old/lines_demo lines_demo.c) || fail "cc failed"
run "$FATHOM" record -q -F 999 -o one-base.fdump -- one/old/lines_demo 150000000 4 >/dev/null
run "$FATHOM" pack --sources one-base.fdump -o one-base-packed.fdump
cp new/lines_demo.c one/lines_demo.c
(cd one && cc -g -O2 -o lines_demo lines_demo.c) || fail "cc failed"
run "$FATHOM" record -q -F 999 -o one-new.fdump -- one/lines_demo 150000000 1 >/dev/null
diff_regressed one.txt one-base.fdump one-new.fdump
assert_contains "the move is said" "lines_mix starts at line $((inl - 2)), in the base at $((inl - 5)): the source changed between the builds" one.txt
line_is_function one.txt "$inl" shifted
"$FATHOM" diff one-base.fdump one-new.fdump --metric functions --alpha 0.05 --lines --format markdown >one.md 2>err.txt
assert_contains "the move is said in Markdown" "the source changed between the builds" one.md
# The base packed with its source (pack --sources, record --pack=sources)
# keeps its own text: the lines are matched by it.
"$FATHOM" diff one-base-packed.fdump one-new.fdump --metric functions --alpha 0.05 --lines >packed.txt 2>err.txt
assert_contains "a packed base's own source" "the source changed between the builds; lines are matched by their text" packed.txt
grep -qE "^  lines_demo.c:$inl +$lb " packed.txt || { cat packed.txt >&2; fail "line $inl's base share with the packed base"; }
exit 0
