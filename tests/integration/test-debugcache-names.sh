# The names cache (profiler/lib/debugcache.c, namecache): the answers that
# libdwfl had to search the whole symbol table for (an address in a static
# function of a library that also has symbols without a size) are kept by
# build id under FATHOM_CACHE_DIR/debug/BUILD-ID.names, and the next run
# reads them instead: the same report, faster on libLLVM-sized tables. The
# file is only trusted for the symbol table it was made from (its count),
# and FATHOM_CACHE_DIR=off neither reads nor writes it.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"

cat >lib.c <<'C'
/* A symbol without a size: libdwfl may fall back on it, so the analyzer
 * asks libdwfl about addresses no global symbol covers. */
__asm__(".text\n.globl fathom_sizeless_label\nfathom_sizeless_label:\n\tnop\n");
static volatile unsigned long sink;
__attribute__((noinline)) static void fathom_static_spin(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * 7;
}
void fathom_lib_run(int k)
{
	while (k--)
		fathom_static_spin(5000000);
}
C
cat >main.c <<'C'
void fathom_lib_run(int k);
int main(void)
{
	fathom_lib_run(40);
	return 0;
}
C
run cc -O1 -g -shared -fPIC -Wl,--build-id -o libnc.so lib.c
run strip --strip-debug libnc.so
run cc -O1 -o main main.c -L. -lnc -Wl,-rpath,'$ORIGIN'
id=$(readelf -n libnc.so | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -n "$id" ] || fail "no build id"
run "$FATHOM" record -q -o nc.fdump -- ./main
export FATHOM_CACHE_DIR=$PWD/cache
names=cache/debug/$id.names

"$FATHOM" report -q nc.fdump >cold.txt || fail "report failed"
top=$(awk '/by self time/ { getline; getline; print; exit }' cold.txt)
note "top: $top"
case "$top" in *fathom_static_spin*) ;; *) fail "the static function is not the top: $top" ;; esac
[ -f "$names" ] || fail "no names file at $names: $(ls cache/debug 2>&1)"
grep -q ' fathom_static_spin$' "$names" || fail "the names file lacks the static function: $(head -3 "$names")"

"$FATHOM" report -q nc.fdump >warm.txt || fail "report (warm) failed"
cmp -s cold.txt warm.txt || { diff cold.txt warm.txt | head >&2; fail "the names cache changed the report"; }

# Read, not only written: a name edited in the file is the name shown.
sed -i 's/ fathom_static_spin$/ fathom_name_from_cache/' "$names"
"$FATHOM" report -q nc.fdump >edited.txt || fail "report (edited cache) failed"
assert_contains "the cached name is used" "fathom_name_from_cache" edited.txt
# Made from another symbol table (its count differs): not used, made again.
sed -i '1s/ [0-9]*$/ 1/' "$names"
"$FATHOM" report -q nc.fdump >other.txt || fail "report (other table) failed"
cmp -s cold.txt other.txt || { diff cold.txt other.txt | head >&2; fail "a names file of another symbol table was used"; }
grep -q ' fathom_static_spin$' "$names" || fail "the names file was not made again"
# Off: neither read nor written.
sed -i 's/ fathom_static_spin$/ fathom_name_from_cache/' "$names"
FATHOM_CACHE_DIR=off "$FATHOM" report -q nc.fdump >off.txt || fail "report (cache off) failed"
cmp -s cold.txt off.txt || fail "FATHOM_CACHE_DIR=off, yet the names cache was read"
