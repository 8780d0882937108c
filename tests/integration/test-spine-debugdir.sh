# Debug info in a separate file, found by build id: a library stripped of its
# DWARF still shows file:line once --debug-dir points at its debug file.
source "$SRCDIR/tests/lib.sh"

command -v objcopy >/dev/null || skip "objcopy is not installed (binutils)"
cp "$PROGS/libspine_hot.so" ./libspine_hot.so
id=$(readelf -n libspine_hot.so | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -n "$id" ] || fail "libspine_hot.so has no build id"
mkdir -p "debug/.build-id/${id:0:2}"
run objcopy --only-keep-debug libspine_hot.so "debug/.build-id/${id:0:2}/${id:2}.debug"
run strip --strip-debug libspine_hot.so
run "$FATHOM" record -o dd.fdump -- "$PROGS/spine_dlopen" "$PWD/libspine_hot.so" >/dev/null 2>err.txt
line=$(grep -n 'spine_hot_work(' "$SRCDIR/tests/integration/progs/libspine_hot.c" | head -1 | cut -d: -f1)

"$FATHOM" report -q dd.fdump >plain.txt || fail "report failed"
top=$(awk '/by self time/ { getline; getline; print; exit }' plain.txt)
note "without the debug file: $top"
case "$top" in *spine_hot_work*) ;; *) fail "the symbol table should still name spine_hot_work: $top" ;; esac
case "$top" in *libspine_hot.c*) fail "no DWARF in the stripped library, yet a source file: $top" ;; esac

"$FATHOM" report -q --debug-dir "$PWD/debug" dd.fdump >debug.txt || fail "report --debug-dir failed"
top=$(awk '/by self time/ { getline; getline; print; exit }' debug.txt)
note "with the debug file: $top"
case "$top" in *spine_hot_work*"libspine_hot.c:$line"*) ;; *) fail "expected libspine_hot.c:$line from the debug file: $top" ;; esac
