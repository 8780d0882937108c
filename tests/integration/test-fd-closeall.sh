# The agent never writes, seeks, truncates or closes a descriptor that is no
# longer its own (issue 12, items 2 and 3): a program that closes every
# descriptor and reuses the numbers keeps its files intact through a failed
# exec, and its forked child keeps its descriptors 5 and 6.
. "$SRCDIR/tests/lib.sh"

W=$WORKDIR
# run_prog NAME MODE [env...]: fd_closeall MODE in $W/NAME; fails the test
# unless the program found its files intact.
run_prog() {
	local name=$1 mode=$2
	shift 2
	mkdir -p "$W/$name"
	(cd "$W/$name" && timeout -k 5 60 env "$@" "$PROGS/fd_closeall" "$mode" "$W/$name") >"$W/$name.out" 2>"$W/$name.err"
	local rc=$?
	[ "$rc" = 0 ] || { cat "$W/$name.err" >&2; fail "$name: fd_closeall $mode exited $rc"; }
}

run_prog plain-exec exec
run_prog plain-fork fork
for alloc in off exact; do
	run_prog "agent-exec-$alloc" exec LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$alloc
	# The agent noticed that its descriptor is gone, once.
	n=$(grep -c 'fathom:' "$W/agent-exec-$alloc.err" || true)
	assert_le "agent-exec-$alloc: messages from the agent" 1 "$n"
	run_prog "agent-fork-$alloc" fork LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$alloc
done
# The parent's and the child's dumps start and read (the parent's ends where
# the program closed its descriptor).
for f in "$W"/agent-fork-off/fathom.*.fdump; do
	"$FATHOM" report "$f" >/dev/null 2>"$W/report.err" || { cat "$W/report.err" >&2; fail "cannot read $f"; }
done
[ "$(ls "$W"/agent-fork-off/fathom.*.fdump | wc -l)" = 2 ] || fail "expected two dumps (parent and child) in agent-fork-off"
