# CPU time that sampling cannot reach is counted, never dropped (issue 13,
# items 1 and 3): a thread that blocks every signal with the raw system call
# (so no interposed sigprocmask can keep the agent's signal deliverable) and
# a thread made by a bare clone, which never runs agent code and is still
# running at exit. The report names both ("not sampled: N in thread NAME
# (tid)"): the first's CPU is charged at its end to its start routine, the
# second's is read from its CPU clock at exit and is in no sample, so the
# profile holds less than the threads measured and the report warns.
#
# Each thread prints its own CPU clock when its work is done; the agent
# reads the clock later (at the thread's end, or at exit), so its measure
# is at least that and at most the agent's own work at the thread's end
# more (well under 10 ms; 30 ms allowed on a loaded machine). CPU clocks
# are per thread, so load does not change the comparison.
source "$SRCDIR/tests/lib.sh"
cd "$WORKDIR" || exit 1

run "$FATHOM" record -o u.fdump -- "$PROGS/tcpu_unsampled" 300 200 >out.txt 2>err.txt
"$FATHOM" report u.fdump >r.txt || fail "fathom report failed"
"$FATHOM" report --json u.fdump >r.json || fail "fathom report --json failed"
read -r _ blk_tid blk_ns < <(grep '^blk ' out.txt)
read -r _ raw_tid raw_ns < <(grep '^raw ' out.txt)
[ -n "$blk_ns" ] && [ -n "$raw_ns" ] || fail "the program printed no CPU times"
sed 's/^/  | /' r.txt | head -12 >&2
assert_contains "the blocked thread, named" "ms in thread tcpu-blk ($blk_tid), charged at its end" r.txt
assert_contains "the bare clone, named" "ms in thread tcpu-raw ($raw_tid), not in the profile" r.txt
assert_contains "the warning" "warning: the profile holds" r.txt
python3 - r.json "$blk_tid" "$blk_ns" "$raw_tid" "$raw_ns" <<'PY' || fail "the unsampled threads' CPU is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
acct = r["cpu_account"]
ns = {u["tid"]: u for u in acct["not_sampled"]}
for tid, own, charged in ((int(sys.argv[2]), int(sys.argv[3]), True), (int(sys.argv[4]), int(sys.argv[5]), False)):
    u = ns[tid]
    print("# thread %d: its own clock %.1f ms, measured %.1f ms, not sampled %.1f ms, charged %.1f ms"
          % (tid, own / 1e6, u["measured_ns"] / 1e6, u["not_sampled_ns"] / 1e6, u["charged_at_end_ns"] / 1e6),
          file=sys.stderr)
    assert own <= u["measured_ns"] <= own + 30e6, (own, u)
    assert u["not_sampled_ns"] >= 0.9 * own, u
    if charged:
        assert u["charged_at_end_ns"] >= 0.9 * own, u
    else:
        assert u["charged_at_end_ns"] == 0, u
assert acct["warning"] and acct["ratio"] < 0.95, acct
PY
# The blocked thread's CPU is in the profile, at its start routine.
"$FATHOM" report --tid "$blk_tid" u.fdump >blk.txt || fail "fathom report --tid failed"
assert_contains "charged to the start routine" "tcpu_blocked" blk.txt
