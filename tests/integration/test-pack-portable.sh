# fathom pack: a dump packed where it was recorded reads the same where the
# program, its debug information and its source are gone. A program built
# here with -g (an inlined helper, an allocating line) is recorded, packed
# with --sources, then its binary and source directory are moved away and
# the analyzer is also given an empty --debug-dir: report, lines, mem,
# export (folded, speedscope), view and flame of the packed dump are byte for byte
# those of the unpacked dump read while everything was in place. The
# unpacked dump read after the move differs (addresses, no source): the
# comparison has something to catch. Without --sources, lines says the
# source is not packed and the names are still there.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler"

mkdir -p build/src bin orig packed bare empty
cp "$SRCDIR/tests/integration/progs/lines_demo.c" build/src/demo.c
(cd build/src && cc -g -O2 -o ../../bin/demo demo.c) || fail "cc failed"
run "$FATHOM" record --alloc -F 999 -o orig/d.fdump -- bin/demo 100000000 >/dev/null 2>err.txt
run "$FATHOM" pack orig/d.fdump -o packed/d.fdump --sources 2>pack.txt
cat pack.txt >&2
assert_contains "the pack's summary" "1 source files" pack.txt
run "$FATHOM" pack orig/d.fdump -o bare/d.fdump 2>/dev/null

# Every output of one dump, from inside its directory: paths read alike.
outputs() { # DIR SUFFIX [analyzer options...]
	local d=$1 s=$2
	shift 2
	(
		cd "$d" || exit 1
		"$FATHOM" report d.fdump "$@" >report.$s 2>&1
		"$FATHOM" lines d.fdump --top 0 "$@" >lines.$s 2>&1
		"$FATHOM" mem d.fdump "$@" >mem.$s 2>&1
		"$FATHOM" export d.fdump --format folded "$@" >folded.$s 2>&1
		"$FATHOM" export d.fdump --format speedscope -o speedscope.$s "$@" 2>/dev/null
		"$FATHOM" view d.fdump -o view.$s "$@" 2>/dev/null
		"$FATHOM" flame d.fdump -o flame.$s "$@" 2>/dev/null
	)
}
all="report lines mem folded speedscope view flame"
outputs orig here
grep -q "lines_work" orig/report.here || fail "the unpacked report has no names"
grep -q "LINE:hot" orig/lines.here || fail "the unpacked lines have no source"

mv bin bin.gone
mv build build.gone
outputs packed away --debug-dir "$PWD/empty"
outputs orig away --debug-dir "$PWD/empty"
outputs bare away --debug-dir "$PWD/empty"
for o in $all; do
	cmp -s orig/$o.here packed/$o.away || {
		diff orig/$o.here packed/$o.away | head -20 >&2
		fail "$o of the packed dump without the binary differs from the unpacked one's with it"
	}
	note "$o: the same ($(wc -c <packed/$o.away) bytes)"
done
# What the comparison catches: the unpacked dump, binary gone.
cmp -s orig/report.here orig/report.away && fail "the unpacked report is the same without the binary (test sees nothing)"
grep -q "lines_work" orig/report.away && fail "the unpacked dump named lines_work without its binary"
# Without --sources: names and figures, no source text.
cmp -s orig/report.here bare/report.away || fail "the pack without --sources has other names"
grep -q "LINE:hot" bare/lines.away && fail "a pack without --sources showed source text"
assert_contains "the source is not found" "source not found" bare/lines.away

# The packed file says format 1.7; the dump's own part is copied as it was.
python3 - orig/d.fdump packed/d.fdump <<'PY' || fail "the packed file's header or copy is wrong"
import struct, sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert b[:8] == b"FATHOMDP" and struct.unpack("<HH", b[8:12]) == (1, 7), b[:12]
assert b[12:len(a)] == a[12:], "the dump's chunks are not copied as they were"
PY
exit 0
