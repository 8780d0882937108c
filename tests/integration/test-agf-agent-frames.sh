#!/usr/bin/env bash
# The agent never shows in the program's CPU profile: a sample that lands in
# the agent's own work (a malloc hook, the libc malloc it calls, the ring, the
# stack cache) is charged to the program's frame that called into the agent,
# and the report says how many were so charged (issue 13, item 5).
source "$SRCDIR/tests/lib.sh"

prog=$PROGS/agf_churn
run "$FATHOM" record --alloc -F 1000 -o alloc.fdump -- "$prog" 3000000 >alloc.out 2>alloc.err
run "$FATHOM" record -F 1000 -o plain.fdump -- "$prog" 3000000 >plain.out 2>plain.err
assert_contains "program output" "agf_churn done" alloc.out
"$FATHOM" report alloc.fdump >report.txt 2>rerr.txt || fail "fathom report failed: $(cat rerr.txt)"
sed 's/^/  | /' report.txt | head -16 >&2
"$FATHOM" report --json -q alloc.fdump >alloc.json || fail "fathom report --json failed"
"$FATHOM" report --json -q plain.fdump >plain.json || fail "fathom report --json failed"

python3 - <<'PY' || fail "agent frames in the CPU profile (see above)"
import json, re, sys
agent = re.compile(r"libfathom|ring_push|thread_push|hook_|intern_stack|writer_cycle|^enc_|ZSTD_|alloc_stack|on_alloc|on_free|malloc_slow|free_slow|unwind_step|on_sample")
def load(f):
    return json.load(open(f))
a, p = load("alloc.json"), load("plain.json")
bad = []
for key in ("top_self", "top_total"):
    for r in a[key]:
        text = " ".join(str(r.get(k, "")) for k in ("name", "module", "file"))
        if agent.search(r.get("name", "")) or "libfathom" in text or "libzstd" in text:
            bad.append((key, r.get("name"), r.get("module")))
if bad:
    print("agent rows:", bad, file=sys.stderr)
    sys.exit(1)
top = a["top_self"][0]["name"]
if "agf_churn_loop" not in top:
    print("top self row is", top, "not agf_churn_loop", file=sys.stderr)
    sys.exit(1)
procs = a.get("processes") or []
if not procs or not any(pr.get("cpu_in_agent_weight", 0) > 0 for pr in procs):
    print("no cpu_in_agent_weight in", procs, file=sys.stderr)
    sys.exit(1)
def share(d, name):
    for r in d["top_total"]:
        if name in r["name"]:
            return r["total_percent"]
    return 0
for fn in ("agf_churn_loop", "agf_spin_loop"):
    print("# %s total: %.1f%% with --alloc, %.1f%% without" % (fn, share(a, fn), share(p, fn)), file=sys.stderr)
PY
assert_contains "the agent's share is reported" "in the agent, charged to the calling frame" report.txt
