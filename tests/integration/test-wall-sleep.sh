# --clock wall leaves the program's sleeps alone and shows them at their
# true share: three usleep(500000) between bursts of computing take 1.5 s
# under the agent as without it (each succeeds, the output and exit status
# are the same), and the report charges usleep the share of the wall time
# the program measured itself sleeping.
source "$SRCDIR/tests/lib.sh"

"$PROGS/wall_sleep" >plain.out 2>plain.err || fail "the program fails on its own: $(cat plain.err)"
st=0
"$FATHOM" record -q --clock wall -o w.fdump -- "$PROGS/wall_sleep" >wall.out 2>wall.err || st=$?
cat wall.err >&2
assert_eq "exit status under --clock wall" 0 "$st"
cmp -s plain.out wall.out || fail "the output changed under --clock wall: $(cat wall.out)"
assert_not_contains "no usleep ended early" "Interrupted" wall.err
elapsed=$(awk '$1 == "elapsed" { print $2 }' wall.err)
slept=$(awk '$1 == "slept" { print $2 }' wall.err)
[ -n "$elapsed" ] && [ -n "$slept" ] || fail "the program printed no times"
awk -v s="$slept" 'BEGIN { exit !(s >= 1.5) }' || fail "the sleeps took $slept s, not 1.5 s"

"$FATHOM" report --json w.fdump >r.json || fail "fathom report failed"
"$FATHOM" report w.fdump >r.txt || fail "fathom report (text) failed"
python3 - r.json "$slept" "$elapsed" <<'PY' || { cat r.txt >&2; fail "the sleeps are not shown at their share"; }
import json, sys
r = json.load(open(sys.argv[1]))
slept, elapsed = float(sys.argv[2]), float(sys.argv[3])
true = 100 * slept / elapsed
shown = max([f["total_percent"] for f in r["top_total"] if f["name"] == "usleep"] or [0])
print("# slept %.3f s of %.3f s: %.1f%%; the report shows usleep at %.1f%%" % (slept, elapsed, true, shown), file=sys.stderr)
assert abs(shown - true) <= 10, (shown, true)
PY
assert_contains "the compute is there too" "wall_compute" r.txt
