#!/usr/bin/env bash
# A CPU profile under --alloc agrees with one without (issue 13, item 5).
# Samples of the agent's own work (recording an allocation, the writer's
# work done on a program thread) are flagged in the dump and left out of the
# shares by default; the program's real malloc and free under the agent's
# hooks stay the program's. Two programs (stk_mix):
# - moderate allocation (one small block per ~0.5 us of work in stk_build,
#   next to two functions that only compute, each call ~0.1 s): the three
#   functions' total shares within 5 points of the run without the agent,
#   in sampled and exact mode, and within 3 points of the program's own
#   clock of the plain run;
# - malloc-dominated (`heavy`: one malloc and one free per step of
#   stk_build): within 5 points of the plain run's own clock in sampled
#   and exact mode (widened by two standard errors for the run's samples);
#   charging the agent's work to the calling frame, as once done, gave
#   13-17 points high;
# and no frame of the agent's anywhere, and no sample lost while a thread
# waits in the agent (it used to lose ~20% of them in exact mode).
source "$SRCDIR/tests/lib.sh"

prog=$PROGS/stk_mix
# record NAME OPTIONS... -- ARGS: a CPU profile, as JSON
record() {
	local name=$1
	shift
	local opts=()
	while [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	# The program writes its own measure of each function's share there.
	STK_MIX_TIMES=$name.times run "$FATHOM" record "${opts[@]}" -F 1000 -o "$name.fdump" -- "$prog" "$@" \
		>"$name.out" 2>"$name.err"
	note "$name: by the program's clock: $(tr '\n' ' ' <"$name.times")"
	assert_contains "$name: the program's output" "stk_mix done" "$name.out"
	"$FATHOM" report --json -q "$name.fdump" >"$name.json" || fail "$name: fathom report --json failed"
}

# compare BASE OTHER TOLERANCE [own]: the shares of the three workers in
# OTHER against those in BASE (with `own`: against BASE's own clock), no
# agent frame in OTHER, nothing lost
compare() {
	python3 - "$@" <<'PY' || fail "$2 disagrees with $1 (see above)"
import json, re, sys
base, other, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
by_clock = len(sys.argv) > 4 and sys.argv[4] == "own"
agent = re.compile(r"libfathom|libzstd|ring_push|thread_push|hook_|intern_stack|writer_cycle|^enc_|ZSTD_|"
                   r"alloc_stack|on_alloc|on_free|malloc_slow|free_slow|unwind_step|on_sample|rec_alloc|rec_free")
def load(name):
    return json.load(open(name + ".json"))
b, o = load(base), load(other)
bad = []
for key in ("top_self", "top_total"):
    for r in o[key]:
        text = " ".join(str(r.get(k, "")) for k in ("name", "module", "file"))
        if agent.search(text):
            bad.append((key, r.get("name"), r.get("module")))
if bad:
    print("agent frames in %s:" % other, bad, file=sys.stderr)
    sys.exit(1)
def share(d, fn):
    return next((r["total_percent"] for r in d["top_total"] if r["name"] == fn), 0.0)
worst = 0
clock = dict(l.split() for l in open(base + ".times") if l.strip())
# The samples a run got: under load the kernel delivers CPU timers less
# often (each sample then stands for more time), and the tolerance widens
# by two standard errors of a share estimated from that many samples.
n = max(1, sum(p.get("samples", 0) for p in o["processes"]))
slack = 0.0
for fn in ("stk_build", "stk_hash", "stk_scan"):
    x, y = (float(clock[fn]) if by_clock else share(b, fn)), share(o, fn)
    print("# %-9s %5.1f%% in %s, %5.1f%% in %s" % (fn, x, base + (" (own clock)" if by_clock else ""), y, other),
          file=sys.stderr)
    worst = max(worst, abs(x - y))
    q = min(max(x / 100, 0.01), 0.99)
    slack = max(slack, 200 * (q * (1 - q) / n) ** 0.5)
ag = sum(p.get("agent_left_out_weight", 0) for p in o["processes"])
w = sum(p.get("sample_weight", 0) for p in o["processes"])
lost = sum(p.get("lost_samples", 0) for p in o["processes"])
print("# %s: %d samples, %.1f%% of its CPU weight was the agent's own work, left out; %d samples lost; "
      "worst difference %.1f points, allowed %.1f + %.1f" % (other, n, 100.0 * ag / max(w, 1), lost, worst, tol, slack),
      file=sys.stderr)
# The plain profile itself must be right: against the program's own clock
# of the same run (the clock of a run under --alloc counts the agent's work).
own = dict(l.split() for l in open(base + ".times") if l.strip())
off = max(abs(float(own[fn]) - share(b, fn)) for fn in ("stk_build", "stk_hash", "stk_scan"))
print("# %s: %.1f points from the program's own clock" % (base, off), file=sys.stderr)
sys.exit(0 if worst <= tol + slack and off <= 3 + slack and lost <= w // 100 else 1)
PY
}

record plain -- 4 40000000
record sampled --alloc-sample 512K -- 4 40000000
compare plain sampled 5
record exact --alloc -- 4 40000000
compare plain exact 5

# The heavy runs give 150-300 samples (the kernel's 250 Hz tick bounds the
# rate of CPU timers): one standard error of a 78% share is 2.4-3.4 points,
# so they are held to the plain run's own clock, which has no sampling noise.
record hplain -- 20 4000000 heavy
record hsampled --alloc-sample 64K -- 20 4000000 heavy
compare hplain hsampled 6 own
record hexact --alloc -- 10 4000000 heavy
# The agent is 55-75% of that run's CPU. Its shares were once printed
# only: the program's 10-15% came out 13-14 points high (stk_build) when
# the free's locked instructions waited for the agent's ring stores, 3-7
# points low with ring_push's prefetchw and no fence, once 15 points low in
# CI with the agent at 85-90%; with the cheaper recording of issue 20,
# 1.8-5.0 points in five runs on a quiet machine (worst 5.0).
compare hplain hexact 5 own
