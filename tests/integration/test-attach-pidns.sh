# Attach to a process in another PID namespace (a container's): the host
# sees it as pid P, it sees itself as pid 1. fathom record --pid P records
# it, stops it through the control channel (which the agent names by the
# pid fathom gave it, not its own) and leaves a complete dump: no "did not
# take the stop", a trailer, samples in spin; then `fathom ctl P` reaches
# it by the host's pid too, and the process runs on.
source "$SRCDIR/tests/integration/attach-lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for a PID namespace (unshare --pid)"
command -v unshare >/dev/null || skip "no unshare"
unshare --pid --fork --mount-proc true 2>/dev/null || skip "cannot make a PID namespace here"

unshare --pid --fork --mount-proc "$PROGS/attach_target" cpu </dev/null >target.out 2>target.err &
UPID=$!
trap 'kill -9 "$UPID" ${TPID:+"$TPID"} 2>/dev/null; true' EXIT
for _ in $(seq 200); do
	grep -q ready target.out 2>/dev/null && break
	sleep 0.05
done
grep -q ready target.out || fail "the target did not get ready"
TPID=$(pgrep -P "$UPID" -f attach_target | head -1)
[ -n "$TPID" ] || fail "no attach_target under unshare"
assert_contains "the target is pid 1 in its namespace" "NSpid:	$TPID	1" /proc/$TPID/status

run "$FATHOM" record -F 1000 --pid "$TPID" --duration 0.5 -o ns.fdump 2>err.txt
cat err.txt >&2
assert_not_contains "the agent took the stop" "did not take the stop" err.txt
"$FATHOM" report --json ns.fdump >r.json 2>rep.err || fail "fathom report failed"
assert_not_contains "the dump is complete" "truncated" rep.err
python3 - r.json <<'PY' || fail "the attached recording is wrong (see above)"
import json, sys
d = json.load(open(sys.argv[1]))
top = [r["name"] for r in d["top_total"]]
print("# samples", d["samples"], "top", top[:4], file=sys.stderr)
# 100-125 samples in 0.5 s on a quiet machine, 19 at load 17.
sys.exit(0 if d["samples"] >= 5 and "spin" in top else 1)
PY
# Attached again, it is stopped by `fathom ctl` with the host's pid.
"$FATHOM" record --pid "$TPID" -o ns2.fdump 2>err2.txt &
FPID=$!
for _ in $(seq 100); do
	grep -q "attached to process" err2.txt 2>/dev/null && break
	sleep 0.05
done
run "$FATHOM" ctl "$TPID" stop
wait "$FPID" || { cat err2.txt >&2; fail "fathom record --pid failed after fathom ctl stop"; }
assert_not_contains "the second attach took the stop" "did not take the stop" err2.txt
kill -0 "$TPID" || fail "the target died"
kill -TERM "$TPID"
wait "$UPID" || true
