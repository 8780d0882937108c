# A distribution's debug package, found by build id under /usr/lib/debug:
# with Debian's libc6-dbg installed, the C library's functions (qsort's
# merge sort, a stripped library's static function) have their file and
# line, and the report's footer gives no hint for libc.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"
libc=$(ldd "$PROGS/spine_dlopen" | awk '/libc\.so\.6/ { print $3 }')
[ -n "$libc" ] || skip "no libc.so.6"
id=$(readelf -n "$libc" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -e "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] || skip "no debug file for $libc (Debian package libc6-dbg)"
readelf -S -W "$libc" | grep -q '\.debug_info' && skip "$libc carries its own debug info"

cat >q.c <<'C'
#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}
int main(void)
{
	static int v[1 << 20];
	long s = 0;
	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < (1 << 20); i++)
			v[i] = rand();
		qsort(v, 1 << 20, sizeof(int), cmp);
		s += v[7];
	}
	printf("%ld\n", s);
	return 0;
}
C
run cc -O1 -g -o q q.c
run "$FATHOM" record -q -o q.fdump -- ./q >/dev/null
# The copy of the debug file goes to a cache of the test's own.
FATHOM_CACHE_DIR=$PWD/cache env -u DEBUGINFOD_URLS "$FATHOM" report -q q.fdump >q.txt || fail "report failed"
sed -n '/by self time/,/^$/p' q.txt | head -6 | sed 's/^/  | /' >&2
grep -qE '^ +[0-9.]+% .* msort_with_tmp +msort\.c:[0-9]+$' q.txt ||
	fail "qsort's merge sort (a static function of libc) not named with its line from libc6-dbg"
assert_not_contains "no footer for libc" "libc.so.6: no debug info" q.txt
