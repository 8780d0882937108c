#!/usr/bin/env bash
# A CPU profile under --alloc agrees with one without (issue 13, item 5), on
# a program that allocates moderately (one small block per ~0.5 us of work in
# stk_build, next to two functions that only compute, each call ~0.1 s): the
# three functions' total shares within 5 points in sampled and exact mode
# (plus, in exact mode, the share the report says the agent took, ~0.5-4.5%:
# that time is charged to the allocating caller), each within 3 points of
# the program's own clock of the same run,
# and no frame of the agent's anywhere (measured: within ~1.5 points of each
# other and of the program's own clock).
# What does not hold, and is not asserted:
# - short calls (~10 ms) in exact mode: the sample due at the end of the
#   allocating function arrives late and its weight goes to the function
#   that runs next, more so than without the agent (stk_mix 20 4000000:
#   stk_build 44% by the program's clock, 29-33% in the profile);
# - a malloc-dominated program in exact mode: each event costs the thread
#   ~15-30 ns of the agent's own work (stack cache, sequence number, ring;
#   the writer's encoding when it falls behind), charged to the calling
#   frame, against ~10 ns for the program's own malloc or free
#   (stk_mix 20 4000000 heavy: stk_build 77% plain, 94% under --alloc).
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

# compare BASE OTHER TOLERANCE: the shares of the three workers, and no
# agent frame in OTHER
compare() {
	python3 - "$@" <<'PY' || fail "$2 disagrees with $1 (see above)"
import json, re, sys
base, other, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
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
for fn in ("stk_build", "stk_hash", "stk_scan"):
    x, y = share(b, fn), share(o, fn)
    print("# %-9s %5.1f%% in %s, %5.1f%% in %s" % (fn, x, base, y, other), file=sys.stderr)
    worst = max(worst, abs(x - y))
ag = sum(p.get("cpu_in_agent_weight", 0) for p in o["processes"])
w = sum(p.get("sample_weight", 0) for p in o["processes"])
in_agent = 100.0 * ag / max(w, 1)
print("# %s: %.1f%% of its CPU weight sampled in the agent (the report's header says so); worst difference %.1f points" %
      (other, in_agent, worst), file=sys.stderr)
# The profile itself must be right: against the program's own clock of the
# same run, within 3 points.
own = dict(l.split() for l in open(other + ".times") if l.strip())
off = max(abs(float(own[fn]) - share(o, fn)) for fn in ("stk_build", "stk_hash", "stk_scan"))
print("# %s: %.1f points from the program's own clock" % (other, off), file=sys.stderr)
# Against the run without the agent: 5 points, plus the share the report
# says was spent in the agent (charged to the caller, as the issue asks:
# the profile names it, the shares move by about that much).
sys.exit(0 if worst <= tol + in_agent and off <= 3 else 1)
PY
}

record plain -- 4 40000000
record sampled --alloc-sample 512K -- 4 40000000
compare plain sampled 5
record exact --alloc -- 4 40000000
compare plain exact 5
