# fathom diff --lines matches a line by its source text, not only its number:
# the new checkout has three lines more at the top of lines_demo.c, so every
# line moved down by three. The regressed line (the inlined helper's) still
# compares with itself: its base share is the function's base share, not 0.
source "$SRCDIR/tests/lib.sh"

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
rc=0
"$FATHOM" diff base.fdump new.fdump --metric functions --alpha 0.05 --lines >diff.txt 2>err.txt || rc=$?
sed 's/^/  | /' diff.txt >&2
assert_eq "diff exit status (a regression)" 1 "$rc"
grep -q "lines_mix .* takes .* longer" diff.txt || fail "lines_mix is not a regression here"
row=$(grep -E "^  lines_demo.c:$inl " diff.txt) || fail "line $inl (the moved inlined line) is not listed"
fn=$(grep -E "^ +[0-9.]+% +[0-9.]+% .* lines_mix \(" diff.txt | head -1)
read -r fb fnew _ <<<"$fn"
read -r _ lb lnew _ <<<"$row"
assert_eq "base share of the moved line and of the function" "$fb" "$lb"
assert_eq "new share of the line and of the function" "$fnew" "$lnew"
assert_not_contains "no base-only row of the old number" "lines_demo.c:$((inl - 3)) " diff.txt
exit 0
