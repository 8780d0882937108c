# A server-like program (a thread in poll() reading requests, three worker
# threads computing each answer) keeps answering through fathom record
# --pid's attach and detach, twice: every request is answered, and its output
# is byte for byte the output of a run without fathom.
source "$SRCDIR/tests/integration/attach-lib.sh"

# The same requests, without fathom, for the expected output.
seq 1 60 | sed 's/^/request-/' >requests.txt
"$PROGS/attach_target" server <requests.txt >plain.out 2>/dev/null &
PLAIN=$!
for _ in $(seq 100); do [ "$(grep -c -- '->' plain.out)" -ge 60 ] && break; sleep 0.1; done
kill -TERM $PLAIN 2>/dev/null; wait $PLAIN
grep -- '->' plain.out >expected.txt
[ "$(wc -l <expected.txt)" -eq 60 ] || fail "the plain run answered $(wc -l <expected.txt) of 60"

mkfifo target.in
exec 3<>target.in # so that the target's open does not wait for a writer
attach_start server
# Requests flow all the time, one every 25 ms, through two attach/detach
# cycles.
(while read -r l; do echo "$l"; sleep 0.025; done <requests.txt) >&3 &
FEED=$!
sleep 0.2
for i in 1 2; do
	"$FATHOM" record -F 1000 --pid "$TPID" --duration 0.5 -o srv$i.fdump 2>err$i.txt ||
		{ cat err$i.txt >&2; fail "fathom record --pid failed (cycle $i)"; }
	assert_contains "detach $i" "detached from process $TPID" err$i.txt
done
wait $FEED
exec 3>&-
for _ in $(seq 100); do [ "$(grep -c -- '->' target.out)" -ge 60 ] && break; sleep 0.1; done
attach_stop
grep -- '->' target.out >got.txt
diff expected.txt got.txt >&2 || fail "the output changed under attach/detach"
# The workers were sampled in their work, and every thread was seen.
"$FATHOM" report srv1.fdump >report.txt || fail "fathom report failed"
sed 's/^/  | /' report.txt | head -16 >&2
assert_contains "the workers' function" "work_request" report.txt
