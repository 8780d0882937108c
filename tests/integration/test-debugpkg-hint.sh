# Distribution debug packages and --debug-dir: when a hot module has no
# debug info, the report's footer names it once, with its build id and the
# package (Debian's -dbgsym, found by dpkg-query; python3.X-dbg for Debian's
# Python) or --debug-dir file that
# would give its names and lines; a library deleted since the recording is
# named by its debug file alone, found by build id under --debug-dir.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"
command -v objcopy >/dev/null || skip "objcopy is not installed (binutils)"

# 1. A library of the test, stripped of its DWARF: from no package.
cp "$PROGS/libspine_hot.so" ./libspine_hot.so
id=$(readelf -n libspine_hot.so | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -n "$id" ] || fail "libspine_hot.so has no build id"
mkdir -p "debug/.build-id/${id:0:2}"
run objcopy --only-keep-debug libspine_hot.so "debug/.build-id/${id:0:2}/${id:2}.debug"
run strip --strip-debug libspine_hot.so
run "$FATHOM" record -q -o own.fdump -- "$PROGS/spine_dlopen" "$PWD/libspine_hot.so" 100000000 >/dev/null

env -u DEBUGINFOD_URLS "$FATHOM" report -q own.fdump >own.txt || fail "report failed"
sed 's/^/  | /' own.txt | tail -4 >&2
hint="libspine_hot.so: no debug info ("
[ "$(grep -cF "$hint" own.txt)" = 1 ] || fail "not one footer line for libspine_hot.so"
assert_contains "its build id" "build id $id, from no package)" own.txt
assert_contains "the --debug-dir file" "give --debug-dir DIR holding .build-id/${id:0:2}/${id:2}.debug" own.txt
assert_contains "the debuginfod hint" "or set DEBUGINFOD_URLS" own.txt
"$FATHOM" report -q --json own.fdump >own.json || fail "report --json failed"
python3 - own.json "$id" <<'P' || fail "debug_hints in the JSON"
import json, sys
h = json.load(open(sys.argv[1]))["debug_hints"]
assert len(h) == 1 and h[0]["module"] == "libspine_hot.so" and h[0]["build_id"] == sys.argv[2], h
assert h[0]["package"] is None and h[0]["self_percent"] > 50, h
P

# With the debug file: lines, and no footer.
"$FATHOM" report -q --debug-dir "$PWD/debug" own.fdump >dd.txt || fail "report --debug-dir failed"
assert_contains "lines from the debug file" "libspine_hot.c:" dd.txt
assert_not_contains "no footer once named" "$hint" dd.txt

# The library deleted: its debug file alone, by build id under --debug-dir.
rm libspine_hot.so
"$FATHOM" report -q own.fdump >gone.txt || fail "report failed"
assert_contains "gone: the footer says so" "libspine_hot.so: gone since the recording" gone.txt
"$FATHOM" report -q --debug-dir "$PWD/debug" own.fdump >gone-dd.txt || fail "report --debug-dir failed"
top=$(awk '/by self time/ { getline; getline; print; exit }' gone-dd.txt)
case "$top" in *spine_hot_work*libspine_hot.c:*) ;; *) fail "gone library not named from --debug-dir: $top" ;; esac
assert_not_contains "gone: no footer once named" "libspine_hot.so:" gone-dd.txt

command -v dpkg-query >/dev/null || skip "no dpkg-query: the package hint is Debian's"

# 2. Debian's Python interpreter (package python3.X-minimal, its extension
# modules libpython3.X-minimal or -stdlib): all their debug files are in
# python3.X-dbg, the package the hint names.
pybin=$(ls /usr/bin/python3.[0-9]* 2>/dev/null | grep -E '/python3\.[0-9]+$' | head -1)
if [ -n "$pybin" ] && dpkg-query -S "$pybin" >/dev/null 2>&1; then
	pyv=${pybin##*/}
	pid=$(readelf -n "$pybin" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
	if [ -n "$pid" ] && [ ! -e "/usr/lib/debug/.build-id/${pid:0:2}/${pid:2}.debug" ] &&
		! readelf -S -W "$pybin" | grep -q '\.debug_info'; then
		run "$FATHOM" record -q -o py.fdump -- "$pybin" -c '
s = 0
for i in range(3000000):
    s = (s + i * i) % 1000003
print(s)' >/dev/null
		env -u DEBUGINFOD_URLS "$FATHOM" report -q py.fdump >py.txt || fail "report failed"
		sed 's/^/  | /' py.txt | tail -2 >&2
		[ "$(grep -c "^$pyv: no debug info (" py.txt)" = 1 ] || fail "not one footer line for $pyv"
		assert_contains "Python's debug package" "install $pyv-dbg," py.txt
	else
		note "$pybin has its debug info: the Python hint is not tried"
	fi
else
	note "no Python of Debian's: the Python hint is not tried"
fi

# 3. A library of a Debian package without its debug package: zlib.
zlib=$(dpkg-query -L zlib1g 2>/dev/null | grep '/libz\.so\.1$' | head -1)
[ -n "$zlib" ] || skip "zlib1g is not installed"
zid=$(readelf -n "$zlib" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -e "/usr/lib/debug/.build-id/${zid:0:2}/${zid:2}.debug" ] && skip "zlib1g-dbgsym is installed"
cat >z.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
	void *z = dlopen("libz.so.1", RTLD_NOW);
	unsigned long (*adler)(unsigned long, const unsigned char *, unsigned) =
	    z ? (unsigned long (*)(unsigned long, const unsigned char *, unsigned))dlsym(z, "adler32") : 0;
	static unsigned char buf[1 << 16];
	unsigned long c = 0;
	if (!adler)
		return 1;
	for (int k = 0; k < 8000; k++)
		c = adler(c, buf, sizeof(buf));
	printf("%lu\n", c);
	return 0;
}
C
run cc -O1 -o z z.c
run "$FATHOM" record -q -o z.fdump -- ./z >/dev/null
env -u DEBUGINFOD_URLS "$FATHOM" report -q z.fdump >z.txt || fail "report failed"
sed 's/^/  | /' z.txt | tail -3 >&2
[ "$(grep -c "^libz.so.1: no debug info (" z.txt)" = 1 ] || fail "not one footer line for libz.so.1"
assert_contains "zlib's build id" "build id $zid)" z.txt
assert_contains "zlib's debug package" "install zlib1g-dbgsym" z.txt
