# fork + exec: one dump per process image, and the report merges them.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -- "$PROGS/spine_forkexec" >/dev/null 2>err.txt
cat err.txt >&2
assert_contains "three dumps" "3 dumps:" err.txt
ndumps=$(ls fathom.*.fdump* | wc -l)
assert_eq "dump files in the directory" 3 "$ndumps"
"$FATHOM" report --json fathom.*.fdump* >report.json || fail "fathom report failed"
"$FATHOM" report fathom.*.fdump* >report.txt || fail "fathom report (text) failed"
sed 's/^/  | /' report.txt | head -24 >&2
python3 - report.json <<'PY' || fail "the merged report is missing a process or a function"
import json, sys
r = json.load(open(sys.argv[1]))
procs = r["processes"]
assert len(procs) == 3, procs
pids = sorted(p["pid"] for p in procs)
# The exec keeps the child's pid: two dumps share it, generations 0 and 1.
assert len(set(pids)) == 2, pids
assert sorted(p["generation"] for p in procs) == [0, 0, 1], procs
names = {e["name"]: e["self_percent"] for e in r["top_self"]}
for f in ("spine_parent_work", "spine_child_work", "spine_exec_work"):
    assert names.get(f, 0) > 15, (f, names)
    print("#", f, names[f], file=sys.stderr)
PY
