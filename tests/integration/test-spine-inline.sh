# A hot loop inside an always-inlined function: the inlined function is a row
# of its own, called from the function it was inlined into, with file:line.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -F 499 -o in.fdump -- "$PROGS/spine_inline" >/dev/null 2>err.txt
"$FATHOM" report in.fdump >report.txt || fail "fathom report failed"
sed 's/^/  | /' report.txt | head -20 >&2
src="$SRCDIR/tests/integration/progs/spine_inline.c"
decl=$(grep -n 'spine_inlined_hot(unsigned long n)' "$src" | cut -d: -f1)
top=$(awk '/by self time/ { getline; getline; print; exit }' report.txt)
case "$top" in
*spine_inlined_hot*"spine_inline.c:$decl"*) ;;
*) fail "expected the inlined spine_inlined_hot (spine_inline.c:$decl) on top, got: $top" ;;
esac
# Its caller gets the time as total, not as self.
outer=$(grep -m1 ' spine_outer ' <(sed -n '/by total/,$p' report.txt)) || fail "spine_outer missing from the total table"
note "outer: $outer"
awk -v l="$outer" 'BEGIN { n = split(l, f, " "); k = 0
	for (i = 1; i <= n; i++) if (f[i] ~ /%$/) { sub("%", "", f[i]); p[++k] = f[i] + 0 }
	exit !(p[1] < 10 && p[2] > 90) }' ||
	fail "spine_outer should have little self and nearly all total time: $outer"
# --by line points into the inlined function's body.
"$FATHOM" report --by line in.fdump >lines.txt || fail "report --by line failed"
loop=$(grep -n 'x = x \* 6364136223846793005ul + i;' "$src" | cut -d: -f1)
for_line=$((loop - 1))
top=$(awk '/by self time/ { getline; getline; print; exit }' lines.txt)
case "$top" in
*"spine_inline.c:$loop "* | *"spine_inline.c:$for_line "*) ;;
*) fail "expected line $for_line or $loop of spine_inline.c on top by line, got: $top" ;;
esac
