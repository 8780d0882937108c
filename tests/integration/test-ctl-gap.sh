# fathom ctl switches recording in a running program: started paused
# (record --paused), then ctl start, stop, start, stop: the dump's marks are
# those switches in order, and the allocation events recorded are exactly
# those the sequence numbers of the windows span (none lost in a window,
# none doubled, none from the gap; a switch may catch one call in flight),
# and the sampling timers are gone while paused.
source "$SRCDIR/tests/lib.sh"

"$FATHOM" record --paused --alloc -o g.fdump -- "$PROGS/win_server" "$PWD/pid" >g.out 2>g.err &
rec=$!
for _ in $(seq 100); do [ -s pid ] && break; sleep 0.05; done
[ -s pid ] || fail "the program did not start"
p=$(cat pid)
# The sampling timers (/proc/PID/timers: the agent's signal) exist only
# while recording: none before the first start and after each stop.
sig=$(($(kill -l SIGRTMAX) - 2))
timers() { grep -c "^signal: $sig/" "/proc/$p/timers" || true; }
assert_eq "sampling timers while paused from the start" 0 "$(timers)"
for verb in start stop start stop; do
	sleep 0.6
	"$FATHOM" ctl "$p" $verb >>ctl.out 2>ctl.err || fail "fathom ctl $verb failed: $(cat ctl.err)"
	if [ $verb = start ]; then
		assert_ge "sampling timers after a start" 1 "$(timers)"
	else
		assert_eq "sampling timers after a stop" 0 "$(timers)"
	fi
done
"$FATHOM" ctl "$p" stop >>ctl.out 2>>ctl.err || fail "a second stop failed"
assert_contains "a second stop is said" "recording was already off" ctl.out
kill -TERM "$p"
wait $rec || true
cat ctl.out >&2
[ ! -e "$(ctl_base "$(id -u)")/$p" ] || fail "the control directory is left behind"

"$FATHOM" report --json g.fdump >r.json || fail "fathom report --json failed"
"$FATHOM" mem --json g.fdump >m.json || fail "fathom mem --json failed"
python3 - r.json m.json <<'PY' || fail "the windows' events are not exact"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
t = json.load(open(sys.argv[2]))["totals"]
m = [(x["what"], x["seq"], x["time_ns"]) for x in p["marks"]]
print("# marks", m, "totals", t, "unknown frees", p["frees_unknown"], file=sys.stderr)
assert [w for w, _, _ in m] == ["stop", "start", "stop", "start", "stop"], m
span = (m[2][1] - m[1][1]) + (m[4][1] - m[3][1])
got = t["alloc_calls"] + t["frees"] + p["frees_unknown"]
assert span > 500, span
assert span <= got <= span + 4, (span, got)
first, last = p["first_sample_ns"], p["last_sample_ns"]
assert m[1][2] <= first and last <= m[4][2], (first, last)
PY
