# record --pack=sources packs the run's dumps in place, and fathom pack of a
# process tree writes OUT and OUT.PID: read after the program and its source
# moved away, with an empty --debug-dir, report and lines of every process
# are those read before. Bad input: no -o, a file that is no dump, -o - for
# several dumps: one line each, exit status 2.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler"

mkdir -p build/src bin tree packed empty
cp "$SRCDIR/tests/integration/progs/lines_demo.c" build/src/demo.c
(cd build/src && cc -g -O2 -o ../../bin/demo demo.c) || fail "cc failed"
run "$FATHOM" record -F 999 --pack=sources -o inplace.fdump -- bin/demo 60000000 >/dev/null 2>err.txt
# A process tree: a shell and two children.
run "$FATHOM" record -F 999 -o tree/r.fdump -- sh -c 'bin/demo 40000000 & bin/demo 30000000; wait' \
	>/dev/null 2>err.txt
n=$(ls tree | wc -l)
[ "$n" -ge 3 ] || fail "expected 3 dumps of the tree, got $n"
(cd tree && "$FATHOM" report r.fdump* >../tree-report.here 2>&1)
"$FATHOM" report inplace.fdump >inplace-report.here 2>&1
"$FATHOM" lines inplace.fdump --top 1 >inplace-lines.here 2>&1
run "$FATHOM" pack tree/r.fdump* -o packed/r.fdump -q
m=$(ls packed | wc -l)
assert_eq "packed files of the tree" "$n" "$m"
(cd tree && ls) >names.tree
(cd packed && ls) >names.packed
cmp -s names.tree names.packed || { paste names.tree names.packed >&2; fail "the packed files are not named as record names them"; }

mv bin bin.gone
mv build build.gone
(cd packed && "$FATHOM" report r.fdump* --debug-dir "$PWD/../empty" >../tree-report.away 2>&1)
cmp -s tree-report.here tree-report.away || { diff tree-report.here tree-report.away >&2; fail "the packed tree reads otherwise"; }
grep -q lines_work tree-report.away || fail "no names in the packed tree's report"
"$FATHOM" report inplace.fdump --debug-dir "$PWD/empty" >inplace-report.away 2>&1
"$FATHOM" lines inplace.fdump --top 1 --debug-dir "$PWD/empty" >inplace-lines.away 2>&1
cmp -s inplace-report.here inplace-report.away || { diff inplace-report.here inplace-report.away >&2; fail "record --pack: the report reads otherwise"; }
cmp -s inplace-lines.here inplace-lines.away || { diff inplace-lines.here inplace-lines.away >&2; fail "record --pack=sources: lines read otherwise"; }
assert_contains "the embedded source" "LINE:hot" inplace-lines.away
# What the comparison catches: the tree's own dumps, binary gone.
(cd tree && "$FATHOM" report r.fdump* --debug-dir "$PWD/../empty" >../tree-report.gone 2>&1)
grep -q lines_work tree-report.gone && fail "the unpacked tree was named without its binary (test sees nothing)"

rc=0; "$FATHOM" pack inplace.fdump 2>e1.txt || rc=$?
assert_eq "no -o" 2 "$rc"
assert_contains "no -o" "-o OUT is required" e1.txt
echo "not a dump" >junk.fdump
rc=0; "$FATHOM" pack junk.fdump -o x.fdump 2>e2.txt || rc=$?
assert_eq "not a dump" 2 "$rc"
assert_contains "not a dump" "not a fathom dump" e2.txt
[ -e x.fdump ] && fail "a failed pack left its output"
rc=0; (cd tree && "$FATHOM" pack r.fdump* -o - >/dev/null 2>../e3.txt) || rc=$?
assert_eq "-o - for several" 2 "$rc"
assert_contains "-o - for several" "name a file" e3.txt
exit 0
