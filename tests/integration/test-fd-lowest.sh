# The agent never takes the program's lowest free descriptor, not even for a
# moment: the writer read /proc/self/statm fifty times a second by opening
# it, and a thread's name once a second, so the program's open() got
# another number a few hundred times in 2 s (and its dup2 onto that number
# could fail with EBUSY). Threads renamed by prctl(PR_SET_NAME) and by
# another thread's pthread_setname_np still show under their new names.
. "$SRCDIR/tests/lib.sh"

cd "$WORKDIR" || exit 1
"$PROGS/fd_lowest" 0.3 >plain.out || fail "fd_lowest fails without the agent: $(cat plain.out)"
for mode in "" "--alloc"; do
	"$FATHOM" record -q $mode -F 1000 -o low.fdump -- "$PROGS/fd_lowest" 2 >low.out 2>low.err ||
		fail "under the agent ($mode): $(cat low.out low.err)"
	note "${mode:-cpu}: $(cat low.out)"
	"$FATHOM" report --json low.fdump >low.json || fail "fathom report failed"
	assert_contains "renamed by prctl" '"fdlow-opener"' low.json
	assert_contains "renamed by another thread" '"fdlow-burner"' low.json
done
