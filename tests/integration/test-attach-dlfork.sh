# Attach while the program dlopens and dlcloses a library in a loop and
# forks a child every 20 rounds (the injector waits for a thread outside the
# loader and the allocator; fork's handlers are the agent's business): five
# attaches, each one records samples, and the program goes on without an
# error (its loop checks every dlopen and every child's exit status) and
# exits 0 at the end. Its loader calls after the attach go through the
# agent (the dlopen slot is taken over): the library shows in the dump's
# modules.
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start dlfork "$PROGS/libmod_x.so"
for i in 1 2 3 4 5; do
	"$FATHOM" record -q -F 1000 --pid "$TPID" --duration 0.3 -o dl$i.fdump 2>err.txt ||
		{ cat err.txt >&2; fail "attach $i failed"; }
	kill -0 "$TPID" || { cat target.err >&2; fail "the target died after attach $i"; }
done
sleep 0.2
attach_stop
[ -s target.err ] && { cat target.err >&2; fail "the target reported an error"; }
assert_contains "the loop went on" "rounds ok" target.out
"$FATHOM" report --json dl5.fdump >r.json || fail "fathom report failed"
n=$(python3 -c 'import json; print(json.load(open("r.json"))["samples"])')
note "the 5th attach: $n samples"
assert_ge "samples" 1 "$n"
# Attached to one process: its children are not recorded.
assert_eq "dumps of children" 0 "$(ls dl*.fdump.* 2>/dev/null | wc -l)"
