# The cache of uncompressed debug files (profiler/lib/debugcache.c): a debug
# file with compressed sections, found once, is copied uncompressed under
# FATHOM_CACHE_DIR/debug by build id, and later runs read the copy (the same
# report, even once the original is gone); FATHOM_CACHE_DIR=off disables it;
# FATHOM_CACHE_MAX caps the copies (least recently used removed first).
source "$SRCDIR/tests/lib.sh"

command -v objcopy >/dev/null || skip "objcopy is not installed (binutils)"
cp "$PROGS/libspine_hot.so" ./libspine_hot.so
id=$(readelf -n libspine_hot.so | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -n "$id" ] || fail "libspine_hot.so has no build id"
mkdir -p "debug/.build-id/${id:0:2}"
dbg="debug/.build-id/${id:0:2}/${id:2}.debug"
run objcopy --only-keep-debug --compress-debug-sections=zlib libspine_hot.so "$dbg"
readelf -S -W "$dbg" | grep -q '\.debug_info.* C ' || skip "objcopy did not compress .debug_info"
run strip --strip-debug libspine_hot.so
run "$FATHOM" record -o dd.fdump -- "$PROGS/spine_dlopen" "$PWD/libspine_hot.so" >/dev/null 2>err.txt
line=$(grep -n 'spine_hot_work(' "$SRCDIR/tests/integration/progs/libspine_hot.c" | head -1 | cut -d: -f1)
top() { awk '/by self time/ { getline; getline; print; exit }' "$1"; }

export FATHOM_CACHE_DIR=$PWD/cache
cached=cache/debug/$id.debug
"$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >cold.txt || fail "report failed"
case "$(top cold.txt)" in *spine_hot_work*"libspine_hot.c:$line"*) ;; *) fail "expected libspine_hot.c:$line: $(top cold.txt)" ;; esac
[ -f "$cached" ] || fail "no uncompressed copy at $cached: $(ls -R cache 2>&1 | head -5)"
readelf -S -W "$cached" | grep -q '\.debug_info' || fail "the copy has no .debug_info"
! readelf -S -W "$cached" | grep -q '\.debug_info.* C ' || fail "the copy's .debug_info is still compressed"
note "copy: $(stat -c %s "$cached") bytes from $(stat -c %s "$dbg")"

"$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >warm.txt || fail "report (warm cache) failed"
cmp -s cold.txt warm.txt || { diff cold.txt warm.txt | head >&2; fail "the cached copy gave another report"; }

# The copy alone names the lines: the original debug file is gone.
rm -rf debug
"$FATHOM" report -q dd.fdump >alone.txt || fail "report (cache only) failed"
cmp -s cold.txt alone.txt || { diff cold.txt alone.txt | head >&2; fail "the cache alone gave another report"; }

FATHOM_CACHE_DIR=off "$FATHOM" report -q dd.fdump >off.txt || fail "report (cache off) failed"
case "$(top off.txt)" in *libspine_hot.c*) fail "FATHOM_CACHE_DIR=off, yet the cache was read: $(top off.txt)" ;; esac

# A broken copy (truncated by hand) is made again from the original.
mkdir -p "debug/.build-id/${id:0:2}"
run objcopy --only-keep-debug --compress-debug-sections=zlib "$PROGS/libspine_hot.so" "$dbg"
head -c 100 "$cached" >"$cached.x" && mv "$cached.x" "$cached"
"$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >again.txt || fail "report with a broken cached copy failed"
cmp -s cold.txt again.txt || { diff cold.txt again.txt | head >&2; fail "a broken cached copy changed the report"; }
[ "$(stat -c %s "$cached")" -gt 1000 ] || fail "the broken copy was not made again"

# The cap, FATHOM_CACHE_MAX: a copy larger than it is not kept (the report
# is the same, from the compressed original) ...
size=$(stat -c %s "$cached")
rm -f "$cached"
FATHOM_CACHE_MAX=1K "$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >small.txt || fail "report (cap 1K) failed"
cmp -s cold.txt small.txt || { diff cold.txt small.txt | head >&2; fail "a cap below the copy's size changed the report"; }
[ -e "$cached" ] && fail "a copy of $(stat -c %s "$cached") bytes was kept under FATHOM_CACHE_MAX=1K"
# ... storing one removes the least recently used others while the total is
# over the cap (two other copies: one used an hour ago, one just now) ...
head -c 100000 /dev/zero >cache/debug/00aa.debug
head -c 100000 /dev/zero >cache/debug/00bb.debug
touch -d '1 hour ago' cache/debug/00aa.debug
FATHOM_CACHE_MAX=$((size + 150000)) "$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >capped.txt ||
	fail "report (capped) failed"
cmp -s cold.txt capped.txt || { diff cold.txt capped.txt | head >&2; fail "the cap changed the report"; }
[ -f "$cached" ] || fail "the new copy was not kept under a cap it fits"
[ -e cache/debug/00aa.debug ] && fail "the least recently used copy was kept over the cap"
[ -e cache/debug/00bb.debug ] || fail "a recently used copy was removed though the rest fits the cap"
# ... and a copy is stamped when it is used.
touch -d '1 hour ago' "$cached"
"$FATHOM" report -q dd.fdump >used.txt || fail "report (warm) failed"
cmp -s cold.txt used.txt || fail "the cached copy gave another report"
[ $(($(date +%s) - $(stat -c %Y "$cached"))) -lt 600 ] || fail "the copy used was not stamped"
