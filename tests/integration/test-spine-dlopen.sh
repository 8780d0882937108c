# A program whose hot function lives in a library loaded with dlopen after
# start-up: the report names that function with its source file and line.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -o dl.fdump -- "$PROGS/spine_dlopen" "$PROGS/libspine_hot.so" >/dev/null 2>err.txt
cat err.txt >&2
"$FATHOM" report dl.fdump >report.txt || fail "fathom report failed"
sed 's/^/  | /' report.txt | head -20 >&2
line=$(grep -n 'spine_hot_work(' "$SRCDIR/tests/integration/progs/libspine_hot.c" | head -1 | cut -d: -f1)
# The top self row is the library's function, with file:line.
top=$(awk '/by self time/ { getline; getline; print; exit }' report.txt)
note "top row: $top"
case "$top" in
*spine_hot_work*"libspine_hot.c:$line"*) ;;
*) fail "expected spine_hot_work at libspine_hot.c:$line as the top self row, got: $top" ;;
esac
share=$(awk '{ sub("%", "", $1); print $1 }' <<<"$top")
assert_le "share below 100" 100 "$share"
awk -v s="$share" 'BEGIN { exit !(s >= 80) }' || fail "spine_hot_work has only $share% self"
# The module breakdown shows the library as a module of its own.
"$FATHOM" report --by module dl.fdump >modules.txt || fail "report --by module failed"
assert_contains "library as a module" "libspine_hot.so" modules.txt
