# fathom record --delay 1 --duration 2 records a window: a server-like
# program (work plus an allocation burst every 50 ms, ended by SIGTERM after
# about 4 s) has CPU samples only inside the window, whose START and STOP
# marks the dump carries at about 1 s and 3 s; the report says so; the
# threads' CPU account leaves the paused time out (the profile holds nearly
# all of it); allocations outside the window are not recorded.
#
# The window's instants are fathom record's start plus 1 s and 3 s. The
# marks are judged on the wall clock against an instant taken before fathom
# record starts (a bound that holds however late the program starts under
# load: never before it), and against the process's own start (the
# instants were fixed before it: never later than 1 s and 3 s after it,
# plus the writer's lateness).
source "$SRCDIR/tests/lib.sh"

t_before=$(date +%s.%N)
"$FATHOM" record --delay 1 --duration 2 --alloc -o w.fdump -- "$PROGS/win_server" "$PWD/pid" >w.out 2>w.err &
rec=$!
for _ in $(seq 100); do [ -s pid ] && break; sleep 0.05; done
[ -s pid ] || fail "the program did not start"
sleep 4.2
kill -TERM "$(cat pid)"
wait $rec || true

"$FATHOM" report w.fdump >r.txt 2>r.err || fail "fathom report failed: $(cat r.err)"
assert_contains "the report says the window" "window: recorded" r.txt
assert_not_contains "the CPU account holds the window's time" "warning: the profile holds" r.txt
"$FATHOM" report --json w.fdump >r.json || fail "fathom report --json failed"
python3 - r.json "$t_before" <<'PY' || fail "the window is not as asked"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
before = float(sys.argv[2])
m = [(x["what"], x["time_ns"] / 1e9) for x in p["marks"]]
print("# marks", m, "samples", p["first_sample_ns"], p["last_sample_ns"], file=sys.stderr)
assert [w for w, _ in m] == ["stop", "start", "stop"], m
assert m[0][1] == 0, m
start, stop = m[1][1], m[2][1]
# The process's start on the wall clock (ms), and how long after the
# instant taken before fathom record it came.
t0 = p["start_ms"] / 1000
print(f"# the process started {t0 - before:.3f} s after fathom record was run; "
      f"window {t0 + start - before:.3f} s to {t0 + stop - before:.3f} s after it", file=sys.stderr)
late = 0.6  # the writer's round, late on a loaded machine
assert t0 + start >= before + 1 - 0.002, ("started early", start)
assert t0 + stop >= before + 3 - 0.002, ("stopped early", stop)
assert start <= 1 + late, ("started late", start)
assert stop <= 3 + late and stop - start <= 2 + late, ("stopped late", start, stop)
assert p["samples"] > 0
first, last = p["first_sample_ns"] / 1e9, p["last_sample_ns"] / 1e9
assert start <= first and last <= stop, (first, last, start, stop)
open("window.txt", "w").write(f"{stop - start}\n")
PY
# Bursts come every 50 ms: about 40 of them in 2 s (100 blocks each), not
# the 80 of the whole run; a program held off the CPU before the window
# catches up inside it, hence the 10 bursts to spare.
"$FATHOM" mem --json w.fdump >m.json || fail "fathom mem --json failed"
calls=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["alloc_calls"])' m.json)
most=$(awk '{ printf "%d", ($1 / 0.05 + 10) * 100 }' window.txt)
note "allocation calls in the window: $calls (at most $most)"
assert_ge "allocation calls in the window" 1000 "$calls"
assert_le "allocation calls in the window" "$most" "$calls"
# fathom mem says the window, and that blocks allocated outside it are
# unknown (their frees ignored), with their count.
run "$FATHOM" mem w.fdump >m.txt
unknown=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["processes"][0]["frees_unknown"])' r.json)
assert_contains "mem says the window" "window            recorded " m.txt
assert_contains "mem says the frees ignored" "only blocks allocated while recording count: $unknown frees were of blocks allocated before the recording started or while it was paused, ignored" m.txt
