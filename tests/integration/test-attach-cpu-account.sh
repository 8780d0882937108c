# fathom record --pid: the CPU account holds what the target ran while
# recorded, not only what its samples covered. At 1 Hz, one second of
# recording holds at most one sample, taken at the timer's phase: the CPU
# time between that sample (or the attach) and the detach must still be
# measured and charged. An agent that charged nothing at the detach reported
# its threads' measured time as the samples' (0 ns with no sample), most of
# the time far below the target's own clock.
source "$SRCDIR/tests/integration/attach-lib.sh"

# The target's CPU time so far (ns, all its threads), from its clocks.
target_cpu() {
	cat /proc/"$TPID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

attach_start split
[ -r /proc/"$TPID"/schedstat ] || skip "no schedstat in /proc: no clock to compare with"
sleep 0.3
c0=$(target_cpu)
"$FATHOM" record -F 1 --pid "$TPID" --duration 1 -o acc.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid failed"; }
c1=$(target_cpu)
"$FATHOM" report --json acc.fdump >report.json || fail "fathom report failed"
"$FATHOM" report acc.fdump | grep 'CPU account' >&2
read -r measured profile charged < <(python3 - report.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["cpu_account"]
print(a["measured_ns"], a["profile_ns"], a["charged_at_thread_end_ns"])
PY
)
ran=$((c1 - c0))
note "the target ran $((ran / 1000000)) ms while recorded (its clocks); measured $((measured / 1000000)) ms, the profile holds $((profile / 1000000)) ms ($((charged / 1000000)) ms charged at the end)"
# A machine loaded far past its cores gives the target too little CPU to judge.
[ "$ran" -ge 300000000 ] || skip "the target ran only $((ran / 1000000)) ms in 1 s (load: $(cut -d' ' -f1 /proc/loadavg))"
# The span from before the attach to after the detach holds the attach
# itself (the target stopped, then running the agent's start) and the
# detach: a tenth of a second covers both even on a loaded machine.
assert_ge "measured CPU time (ms)" $(((ran - 100000000) * 8 / 10 / 1000000)) $((measured / 1000000))
assert_le "measured CPU time against the target's own clock (ms)" $((ran / 1000000 + 1)) $((measured / 1000000))
assert_eq "the profile holds all of it" "$measured" "$profile"
kill -0 "$TPID" || fail "the target died after the detach"
attach_stop
