# fathom diff --lines: for each regressed function, the lines whose share
# grew most, in text and Markdown. The new run makes the inlined helper's
# loop 4 times longer: lines_mix regresses, and its line is the one listed,
# with the same shares as the function's (it is its only line).
source "$SRCDIR/tests/lib.sh"

src="$SRCDIR/tests/integration/progs/lines_demo.c"
inl=$(grep -n "LINE:inlined " "$src" | cut -d: -f1)
run "$FATHOM" record -q -F 999 -o base.fdump -- "$PROGS/lines_demo" 150000000 4 >/dev/null
run "$FATHOM" record -q -F 999 -o new.fdump -- "$PROGS/lines_demo" 150000000 1 >/dev/null
opts=(--metric functions --alpha 0.05)
rc=0
"$FATHOM" diff base.fdump new.fdump "${opts[@]}" --lines >diff.txt 2>err.txt || rc=$?
sed 's/^/  | /' diff.txt >&2
assert_eq "diff exit status (a regression)" 1 "$rc"
grep -q "lines_mix .* takes .* longer" diff.txt || fail "lines_mix is not a regression here"
assert_contains "the lines' table" "Lines that grew most in lines_mix (self CPU share):" diff.txt
row=$(grep -E "^  lines_demo.c:$inl " diff.txt) || fail "line $inl is not listed"
# The line's shares are the function's: it is lines_mix's one line.
fn=$(grep -E "^ +[0-9.]+% +[0-9.]+% .* lines_mix \(" diff.txt | head -1)
read -r fb fnew _ <<<"$fn"
read -r _ lb lnew _ <<<"$row"
assert_eq "base share of the line and of the function" "$fb" "$lb"
assert_eq "new share of the line and of the function" "$fnew" "$lnew"
assert_contains "the line's source" "LINE:inlined" diff.txt
# Markdown, and nothing without --lines.
"$FATHOM" diff base.fdump new.fdump "${opts[@]}" --lines --format markdown >diff.md 2>err.txt
assert_contains "Markdown lines" "**Lines that grew most in lines\\_mix** (self CPU share)" diff.md
grep -qE "^\| lines\\\\_demo.c:$inl \| $lb \| $lnew \| \+" diff.md || { cat diff.md >&2; fail "no Markdown row of line $inl"; }
"$FATHOM" diff base.fdump new.fdump "${opts[@]}" >plain.txt 2>err.txt
assert_not_contains "no lines without --lines" "Lines that grew most" plain.txt
exit 0
