# Short-lived threads keep their CPU: 1000 threads of ~1 ms each (and 300
# of ~10 ms), and the report's CPU total matches the process's measured CPU
# time within 10%, charged to the thread's start routine.
source "$SRCDIR/tests/lib.sh"

for work in 1000 10000; do
	n=$([ $work = 1000 ] && echo 1000 || echo 300)
	run "$FATHOM" record -o t$work.fdump -- "$PROGS/thr_short" $n $work >out$work.txt 2>err$work.txt
	cat err$work.txt >&2
	"$FATHOM" report --json t$work.fdump >r$work.json || fail "fathom report failed"
	"$FATHOM" report t$work.fdump >r$work.txt || fail "fathom report (text) failed"
	measured=$(awk '$1 == "cpu_ns" { print $2 }' out$work.txt)
	[ -n "$measured" ] || fail "the program printed no CPU time"
	python3 - r$work.json "$measured" <<'PY' || fail "CPU of short threads lost (work $work us)"
import json, sys
r = json.load(open(sys.argv[1]))
measured = int(sys.argv[2])
sampled = sum(p["sample_weight"] * 1e9 / p["hz"] for p in r["processes"] if p["hz"])
print("# measured %.0f ms, reported %.0f ms" % (measured / 1e6, sampled / 1e6), file=sys.stderr)
assert abs(sampled - measured) <= 0.10 * measured, (sampled, measured)
PY
	assert_contains "the start routine holds the CPU" "thr_burn" r$work.txt
done
