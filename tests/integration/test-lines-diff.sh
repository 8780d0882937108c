# fathom diff --lines: for each regressed function, the lines whose share
# grew most, in text and Markdown. The new run makes the inlined helper's
# loop 4 times longer: lines_mix regresses, and its line is the one listed,
# with the same shares as the function's (it is its only line).
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/lines-diff-lib.sh"

src="$SRCDIR/tests/integration/progs/lines_demo.c"
inl=$(grep -n "LINE:inlined " "$src" | cut -d: -f1)
run "$FATHOM" record -q -F 999 -o base.fdump -- "$PROGS/lines_demo" 150000000 4 >/dev/null
run "$FATHOM" record -q -F 999 -o new.fdump -- "$PROGS/lines_demo" 150000000 1 >/dev/null
opts=(--metric functions --alpha 0.05)
diff_regressed diff.txt base.fdump new.fdump
assert_contains "the lines' table" "Lines that grew most in lines_mix (self CPU share):" diff.txt
line_is_function diff.txt "$inl" inlined
assert_contains "the line's source" "LINE:inlined" diff.txt
# Markdown, and nothing without --lines.
"$FATHOM" diff base.fdump new.fdump "${opts[@]}" --lines --format markdown >diff.md 2>err.txt
assert_contains "Markdown lines" "**Lines that grew most in lines\\_mix** (self CPU share)" diff.md
grep -qE "^\| lines\\\\_demo.c:$inl \| $lb \| $lnew \| \+" diff.md || { cat diff.md >&2; fail "no Markdown row of line $inl"; }
"$FATHOM" diff base.fdump new.fdump "${opts[@]}" >plain.txt 2>err.txt
assert_not_contains "no lines without --lines" "Lines that grew most" plain.txt
exit 0
