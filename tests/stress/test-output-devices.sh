# Commands given `-o` naming a device (as in `-o /dev/null`) write into it and
# never replace it: a rename over /dev/null run as root turns it into a regular
# file for the whole machine. Checked on a /dev/null clone of our own.
. "$SRCDIR/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root: cannot make a device node"
run "$FATHOM" record -o "$WORKDIR/d.fdump" -- "$PROGS/stress_recursion" 100 1 >/dev/null
# check NAME ARGS...: runs fathom ARGS with the word DEV replaced by a fresh
# null device, which must still be a device afterwards.
check() {
	local name=$1 dev=$WORKDIR/null-$1 args=() a
	shift
	rm -f "$dev" && mknod -m 666 "$dev" c 1 3 || fail "mknod failed"
	for a in "$@"; do [ "$a" = DEV ] && args+=("$dev") || args+=("$a"); done
	"$FATHOM" "${args[@]}" >"$WORKDIR/$name.out" 2>"$WORKDIR/$name.err"
	note "fathom $name -o DEVICE: exit $?"
	if [ ! -c "$dev" ]; then
		echo "FAIL: fathom $name -o DEVICE replaced the device with a $(stat -c %F "$dev")" >&2
		failed=$((failed + 1))
	fi
}
failed=0
check record record -o DEV -- "$PROGS/stress_recursion" 100 1
check view view -o DEV "$WORKDIR/d.fdump"
check flame flame -o DEV "$WORKDIR/d.fdump"
check export export --format pprof -o DEV "$WORKDIR/d.fdump"
[ "$failed" = 0 ] || fail "$failed of 4 commands replaced a device given with -o"
