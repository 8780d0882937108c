# Helpers of the attach tests (test-attach-*.sh): a target process started
# by the test, which fathom record --pid attaches to.
source "$SRCDIR/tests/lib.sh"

[ "$(uname -m)" = x86_64 ] || skip "fathom record --pid is x86_64 only"

# attach_start MODE [ARGS...]: starts attach_target MODE in the background
# (stdout in target.out, stderr in target.err, stdin from target.in when it
# exists, else /dev/null); sets TPID once it printed "ready".
attach_start() {
	if [ -p target.in ]; then
		"$PROGS/attach_target" "$@" <target.in >target.out 2>target.err &
	else
		"$PROGS/attach_target" "$@" </dev/null >target.out 2>target.err &
	fi
	TPID=$!
	for _ in $(seq 200); do
		grep -q ready target.out 2>/dev/null && return 0
		kill -0 "$TPID" 2>/dev/null || fail "the target exited before it was ready"
		sleep 0.05
	done
	fail "the target did not get ready"
}

# attach_stop: ends the target (SIGTERM), which must exit 0 by itself.
attach_stop() {
	kill -TERM "$TPID" 2>/dev/null
	local rc=0
	wait "$TPID" || rc=$?
	assert_eq "the target's exit status" 0 "$rc"
}

trap 'kill -9 ${TPID:-0} 2>/dev/null; true' EXIT
