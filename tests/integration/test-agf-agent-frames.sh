#!/usr/bin/env bash
# The agent never shows in the program's CPU profile: a sample that lands in
# the agent's own work (a malloc hook, the ring, the stack cache) is left out
# of the shares by default and the report says how much; with
# --include-agent it is charged to the program's frame that called into the
# agent (issue 13, item 5).
source "$SRCDIR/tests/lib.sh"

prog=$PROGS/agf_churn
run "$FATHOM" record --alloc -F 1000 -o alloc.fdump -- "$prog" 3000000 >alloc.out 2>alloc.err
run "$FATHOM" record -F 1000 -o plain.fdump -- "$prog" 3000000 >plain.out 2>plain.err
assert_contains "program output" "agf_churn done" alloc.out
"$FATHOM" report alloc.fdump >report.txt 2>rerr.txt || fail "fathom report failed: $(cat rerr.txt)"
sed 's/^/  | /' report.txt | head -16 >&2
"$FATHOM" report --json -q alloc.fdump >alloc.json || fail "fathom report --json failed"
"$FATHOM" report --json -q plain.fdump >plain.json || fail "fathom report --json failed"
"$FATHOM" report --json -q --include-agent alloc.fdump >incl.json || fail "fathom report --json --include-agent failed"
"$FATHOM" report --include-agent alloc.fdump >incl.txt 2>&1 || fail "fathom report --include-agent failed"

python3 - <<'PY' || fail "agent frames in the CPU profile (see above)"
import json, re, sys
agent = re.compile(r"libfathom|ring_push|thread_push|hook_|intern_stack|writer_cycle|^enc_|ZSTD_|alloc_stack|on_alloc|on_free|malloc_slow|free_slow|unwind_step|on_sample")
def load(f):
    return json.load(open(f))
a, p, inc = load("alloc.json"), load("plain.json"), load("incl.json")
bad = []
for key, r in [(k, r) for d in (a, inc) for k in ("top_self", "top_total") for r in d[k]]:
    if True:
        text = " ".join(str(r.get(k, "")) for k in ("name", "module", "file"))
        if agent.search(r.get("name", "")) or "libfathom" in text or "libzstd" in text:
            bad.append((key, r.get("name"), r.get("module")))
if bad:
    print("agent rows:", bad, file=sys.stderr)
    sys.exit(1)
# Charged to the caller, the agent's work makes the allocating loop the
# hottest function.
top = inc["top_self"][0]["name"]
if "agf_churn_loop" not in top:
    print("with --include-agent, the top self row is", top, "not agf_churn_loop", file=sys.stderr)
    sys.exit(1)
procs = a.get("processes") or []
if not procs or not any(pr.get("cpu_in_agent_weight", 0) > 0 and pr.get("agent_left_out_weight", 0) > 0
                        for pr in procs):
    print("no cpu_in_agent_weight or agent_left_out_weight in", procs, file=sys.stderr)
    sys.exit(1)
if any(pr.get("agent_left_out_weight", 0) for pr in inc.get("processes") or []):
    print("--include-agent left samples out", file=sys.stderr)
    sys.exit(1)
def share(d, name):
    for r in d["top_total"]:
        if name in r["name"]:
            return r["total_percent"]
    return 0
for fn in ("agf_churn_loop", "agf_spin_loop"):
    print("# %s total: %.1f%% with --alloc, %.1f%% without" % (fn, share(a, fn), share(p, fn)), file=sys.stderr)
PY
assert_contains "the agent's share is reported" "was the agent's own work, left out of the shares" report.txt
assert_not_contains "--include-agent leaves nothing out" "left out of the shares" incl.txt
