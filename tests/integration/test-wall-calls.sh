# Blocking calls under the agent's sampling signal (1000 Hz, wall clock and
# CPU clock): nanosleep, clock_nanosleep (relative and absolute), usleep,
# poll, select, epoll_wait, sem_timedwait, read, pthread_join and waitpid
# each take their full time and succeed, while the program's own SIGALRM
# still ends a nanosleep with EINTR and the time left. With the wall clock
# each wait is charged its time (exactly, at its return).
source "$SRCDIR/tests/lib.sh"

"$PROGS/wall_calls" >plain.out 2>&1 || fail "the program fails on its own: $(cat plain.out)"
for clock in wall cpu; do
	st=0
	"$FATHOM" record -q -F 1000 --clock $clock -o $clock.fdump -- "$PROGS/wall_calls" >$clock.out 2>$clock.err || st=$?
	cat $clock.err >&2
	grep FAILED $clock.out >&2
	assert_eq "exit status under --clock $clock" 0 "$st"
	cmp -s plain.out $clock.out || fail "the output changed under --clock $clock"
done

"$FATHOM" report --json --top 0 wall.fdump >r.json || fail "fathom report failed"
python3 - r.json <<'PY' || fail "a wait is not charged its time"
import json, sys
r = json.load(open(sys.argv[1]))
def ms(*parts):
    return max([f["total_ns"] / 1e6 for f in r["top_total"] if any(p in f["name"] for p in parts)] or [0])
# Each wait's libc function (or the one it ends in), inclusive.
for parts in (("__poll",), ("__select",), ("epoll_wait",), ("sem_wait", "sem_timedwait"), ("cond_wait",),
              ("_read",), ("wait4", "waitpid")):
    print("# %s: %.0f ms" % (parts[0], ms(*parts)), file=sys.stderr)
    assert ms(*parts) >= 100, parts
PY
