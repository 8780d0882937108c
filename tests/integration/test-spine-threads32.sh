# 32 threads burning the same CPU: every thread is sampled, and fairly.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -F 1000 -o t.fdump -- "$PROGS/spine_threads32" >/dev/null 2>err.txt
cat err.txt >&2
"$FATHOM" report --threads --json t.fdump >report.json || fail "fathom report failed"
"$FATHOM" report --threads t.fdump >report.txt || fail "fathom report (text) failed"
python3 - report.json <<'PY' || fail "not every worker thread was sampled fairly"
import json, sys
r = json.load(open(sys.argv[1]))
w = [t for t in r["threads"] if t["name"].startswith("spine-w")]
counts = sorted(t["samples"] for t in w)
print("# worker threads sampled:", len(w), "samples min/median/max:", counts[0] if counts else 0,
      counts[len(counts) // 2] if counts else 0, counts[-1] if counts else 0, file=sys.stderr)
assert len(w) == 32, [t["name"] for t in r["threads"]]
# Equal work: a thread's CPU weight stays within a factor of two of the median.
cpu = sorted(t["weight"] for t in w)
med = cpu[len(cpu) // 2]
assert cpu[0] * 2 >= med and cpu[-1] <= med * 2, cpu
PY
assert_contains "thread names in the text report" "spine-w31" report.txt
