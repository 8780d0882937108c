# Sources built elsewhere: a program compiled in one directory whose source
# then moved is annotated with --source-dir and with --prefix-map; without
# either, one line names the path looked for and the figures come by line
# number alone. A source changed since the build is warned about (modified
# after the program, or shorter than a sampled line). A program without
# debug information says so and points to --debug-dir and -dbg/-dbgsym.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler"

mkdir -p build/src bin
cp "$SRCDIR/tests/integration/progs/lines_demo.c" build/src/demo.c
hot=$(grep -n "LINE:hot " build/src/demo.c | cut -d: -f1)
(cd build/src && cc -g -O2 -o ../../bin/demo demo.c) || fail "cc failed"
(cd build/src && cc -O2 -o ../../bin/nodbg demo.c) || fail "cc failed"
built="$PWD/build/src"
run "$FATHOM" record -F 999 -o demo.fdump -- bin/demo 100000000 >/dev/null 2>err.txt
run "$FATHOM" record -F 999 -o nodbg.fdump -- bin/nodbg 100000000 >/dev/null 2>err.txt
"$FATHOM" lines demo.fdump lines_work >here.txt || fail "fathom lines failed"
grep -qE " $hot   .*LINE:hot" here.txt || { cat here.txt >&2; fail "the hot line's source where it was built"; }

# The checkout moves (CI, a container): not found, then found again.
mv build moved
rc=0
"$FATHOM" lines demo.fdump lines_work >missing.txt 2>err.txt || rc=$?
assert_eq "exit status with the source missing" 0 "$rc"
sed 's/^/  | /' missing.txt >&2
assert_contains "the path looked for" "source not found: looked for $built/demo.c" missing.txt
grep -qE "%.* $hot *\$" missing.txt || fail "no figures by line number for line $hot"
assert_not_contains "no source text" "LINE:hot" missing.txt
"$FATHOM" lines demo.fdump lines_work --source-dir moved >srcdir.txt || fail "--source-dir failed"
grep -qE "%.* $hot   .*LINE:hot" srcdir.txt || { cat srcdir.txt >&2; fail "--source-dir did not find the source"; }
"$FATHOM" lines demo.fdump lines_work --prefix-map "$PWD/build=$PWD/moved" >map.txt || fail "--prefix-map failed"
grep -qE "%.* $hot   .*LINE:hot" map.txt || { cat map.txt >&2; fail "--prefix-map did not find the source"; }
"$FATHOM" lines demo.fdump lines_work --prefix-map "$PWD/build=$PWD/moved" --json >map.json || fail "--json failed"
python3 - map.json "$PWD/moved/src/demo.c" "$built/demo.c" <<'PY' || fail "--json names the wrong paths"
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
assert f["path"] == sys.argv[2] and f["file"] == sys.argv[3] and f["not_found"] is None, f
PY
rc=0
"$FATHOM" lines demo.fdump --prefix-map nothing >/dev/null 2>err.txt || rc=$?
assert_eq "exit status of a bad --prefix-map" 2 "$rc"
assert_contains "bad --prefix-map" "--prefix-map needs OLD=NEW" err.txt

# Changed since the build: modified after the program was built ...
touch -d '+1 hour' moved/src/demo.c
"$FATHOM" lines demo.fdump lines_work --source-dir moved >/dev/null 2>err.txt || fail "fathom lines failed"
assert_contains "modified after the build" "demo.c was modified after demo was built" err.txt
# ... or shorter than a line the recording names.
touch -d '-1 hour' moved/src/demo.c
"$FATHOM" lines demo.fdump lines_work --source-dir moved >/dev/null 2>err.txt || fail "fathom lines failed"
grep -v "waited for a CPU" err.txt >err.own # (the machine's load: test-tcpu-runq)
assert_not_contains "an older source is no change" "warning" err.own
head -n $((hot - 2)) moved/src/demo.c >short.c && touch -d '-1 hour' short.c && mv short.c moved/src/demo.c
"$FATHOM" lines demo.fdump lines_work --source-dir moved >short.txt 2>err.txt || fail "fathom lines failed"
assert_contains "fewer lines than sampled" "has $((hot - 2)) lines, the recording names line" err.txt

# No debug information: said, with what to do.
"$FATHOM" lines nodbg.fdump >nodbg.txt 2>err.txt || fail "fathom lines on a program without -g failed"
sed 's/^/  | /' nodbg.txt | head >&2
assert_contains "no debug information" "nodbg has no debug information" nodbg.txt
assert_contains "points to --debug-dir" "--debug-dir" nodbg.txt
assert_contains "points to the packages" "-dbg or -dbgsym" nodbg.txt
exit 0
