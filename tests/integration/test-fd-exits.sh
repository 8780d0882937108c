# A process that ends normally always leaves a complete dump (issue 12, item
# 9): daemon()'s parent (which leaves by the C library's internal _exit),
# quick_exit (after the program's at_quick_exit handlers), a process that
# exits at once, and one that forks and exits at once.
. "$SRCDIR/tests/lib.sh"

W=$WORKDIR
# complete FILE: the dump has its header and trailer, and reads cleanly.
complete() {
	"$FATHOM" report "$1" >/dev/null 2>"$W/report.err" || { cat "$W/report.err" >&2; fail "cannot read $1"; }
	if grep -E 'truncated|no trailer|missing' "$W/report.err" >&2; then
		fail "$1 is incomplete"
	fi
}
# run_mode MODE DUMPS [env...]: fd_exits MODE in $W/MODE; waits (up to 10 s)
# for DUMPS dumps whose processes have all ended, then checks each.
run_mode() {
	local mode=$1 want=$2
	shift 2
	mkdir -p "$W/$mode"
	(cd "$W/$mode" && timeout -k 2 30 env LD_PRELOAD="$FATHOM_AGENT" "$@" "$PROGS/fd_exits" "$mode") \
		>"$W/$mode.out" 2>"$W/$mode.err"
	echo $? >"$W/$mode.rc"
	local i n
	for i in $(seq 100); do
		n=$(ls "$W/$mode" | grep -c 'fdump$')
		# A daemon's child outlives its parent: wait until it has ended.
		[ "$n" -ge "$want" ] && ! pgrep -f "fd_exits $mode" >/dev/null && break
		sleep 0.1
	done
	assert_eq "$mode: dumps" "$want" "$n"
	for f in "$W/$mode"/*.fdump; do complete "$f"; done
}

for alloc in off exact; do
	run_mode daemon 2 FATHOM_ALLOC=$alloc
	assert_eq "daemon: exit status" 0 "$(cat "$W/daemon.rc")"
	run_mode quick 1 FATHOM_ALLOC=$alloc
	assert_eq "quick_exit: exit status" 3 "$(cat "$W/quick.rc")"
	assert_contains "quick_exit: the program's handler ran" "at_quick_exit handler ran" "$W/quick.out"
	run_mode early 1 FATHOM_ALLOC=$alloc
	run_mode forkearly 2 FATHOM_ALLOC=$alloc
	rm -rf "$W/daemon" "$W/quick" "$W/early" "$W/forkearly"
done

# fathom record's summary calls none of them killed.
(cd "$W" && "$FATHOM" record -- "$PROGS/fd_exits" quick) >"$W/rec.out" 2>"$W/rec.err"
assert_eq "fathom record quick_exit: exit status" 3 "$?"
assert_not_contains "fathom record quick_exit" "killed or crashed" "$W/rec.err"
# ... nor a daemon whose child outlives the command: that dump is being written.
(cd "$W" && "$FATHOM" record -- "$PROGS/fd_exits" daemon) >"$W/recd.out" 2>"$W/recd.err"
assert_eq "fathom record daemon: exit status" 0 "$?"
assert_not_contains "fathom record daemon" "killed or crashed" "$W/recd.err"
sleep 0.5
