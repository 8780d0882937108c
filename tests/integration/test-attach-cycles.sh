# 20 attach/detach cycles on one process (the agent loaded once, started
# again each time): each cycle makes a dump with samples, the process runs
# on, and after the last detach its descriptors are those it had before the
# first attach (the agent's dump, /proc reads and control channel closed)
# and its RSS within 1 MB of what it was after the first cycle (the agent's
# code and thread states stay loaded).
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start split
fds() { ls /proc/$TPID/fd | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' /proc/$TPID/status; }
fd0=$(fds)
for i in $(seq 20); do
	# The last cycle records long enough to get samples at any load (0.1 s
	# gave none once at load 13).
	dur=0.1
	[ "$i" = 20 ] && dur=0.5
	"$FATHOM" record -q -F 500 --pid "$TPID" --duration $dur -o c$i.fdump 2>err.txt ||
		{ cat err.txt >&2; fail "cycle $i: fathom record --pid failed"; }
	[ -s c$i.fdump ] || fail "cycle $i made no dump"
	if [ $i = 1 ]; then
		fd1=$(fds)
		rss1=$(rss)
	fi
done
fd20=$(fds)
rss20=$(rss)
note "before: $fd0 fds; after cycle 1: $fd1 fds, $rss1 kB RSS; after cycle 20: $fd20 fds, $rss20 kB"
assert_eq "descriptors after 1 cycle" "$fd0" "$fd1"
assert_eq "descriptors after 20 cycles" "$fd0" "$fd20"
assert_le "RSS growth over 19 more cycles (kB)" 1024 $((rss20 - rss1))
# Every dump is whole and recorded something.
"$FATHOM" report --json c20.fdump >r.json || fail "fathom report of the 20th dump failed"
n=$(python3 -c 'import json,sys; print(json.load(open("r.json"))["samples"])')
note "the 20th dump: $n samples"
assert_ge "samples in the 20th dump" 1 "$n"
"$FATHOM" report c20.fdump >r.txt 2>&1
assert_not_contains "no damage" "truncated" r.txt
attach_stop
