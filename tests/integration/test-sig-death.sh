# A program ended by a signal at its default action (SIGTERM, SIGPIPE, ...)
# leaves a whole dump (preload/signal-death.c): the agent finishes it, then
# the signal acts as it would have. The program sees no difference: the
# same output, the same view of its dispositions (sigaction and the raw
# system call), the same wait status; its own handlers (one-shot ones too,
# as node's) and SIG_IGN work.
# Without the catch (FATHOM_SIGNALS=0) the dump has no trailer, as before.
. "$SRCDIR/tests/lib.sh"
P=$PROGS/death_sig
W=$WORKDIR
cd "$W" || fail "cd"

# term NAME [env...]: runs `death_sig spin` under the agent, kills it with
# SIGTERM once it has burned CPU for a while; its status into NAME.rc.
term() {
	local name=$1
	shift
	env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/$name.fdump" FATHOM_HZ=499 "$@" "$P" spin >"$name.out" 2>"$name.err" &
	local pid=$!
	for _ in $(seq 100); do grep -q ready "$name.out" 2>/dev/null && break; sleep 0.05; done
	sleep 0.7
	kill -TERM $pid
	wait $pid
	echo $? >"$name.rc"
}

# The program alone, for its output and status.
"$P" spin >plain.out 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready plain.out 2>/dev/null && break; sleep 0.05; done
kill -TERM $pid
wait $pid
echo $? >plain.rc
assert_eq "plain: killed by SIGTERM" 143 "$(cat plain.rc)"

term on
assert_eq "under the agent: the status" "$(cat plain.rc)" "$(cat on.rc)"
cmp plain.out on.out || fail "the program's output differs under the agent"
assert_contains "the program's view of SIGTERM" "SIGTERM: SIG_DFL flags 0" on.out
assert_contains "the raw system call's view of SIGPIPE" "SIGPIPE raw: SIG_DFL" on.out
"$FATHOM" report --json on.fdump >on.json 2>on.rerr || { cat on.rerr >&2; fail "report failed"; }
assert_not_contains "no truncation" "truncated" on.rerr
python3 - on.json <<'PY' || fail "the dump of the killed process"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["processes"][0]
assert p["complete"], "no trailer"
assert p["end_signal"] == "SIGTERM", p["end_signal"]
hot = [f for f in r["top_self"] if f["name"] == "hot"]
assert hot and hot[0]["self_percent"] > 90, hot
assert p["samples"] >= 20, p["samples"]
PY
"$FATHOM" report on.fdump >on.txt 2>&1
assert_contains "the report says so" "ended by SIGTERM" on.txt

# Without the catch: the dump stops where the writer last wrote.
term off FATHOM_SIGNALS=0
assert_eq "FATHOM_SIGNALS=0: the status" 143 "$(cat off.rc)"
"$FATHOM" report --json off.fdump >off.json 2>/dev/null
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["processes"][0]; sys.exit(0 if not p["complete"] and p["end_signal"] is None else 1)' off.json ||
	fail "FATHOM_SIGNALS=0: the dump should have no trailer"

# A cleanup handler that puts SIG_DFL back and raises the signal again (git
# and xz on SIGPIPE): the program's handler runs, then the dump is finished.
env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/re.fdump" "$P" reraise >re.out 2>re.err &
pid=$!
for _ in $(seq 100); do grep -q ready re.out 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -TERM $pid
wait $pid
assert_eq "re-raise: the status" 143 "$?"
assert_contains "re-raise: the program's handler ran" "cleaned up" re.out
"$FATHOM" report --json re.fdump >re.json 2>/dev/null
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["processes"][0]; sys.exit(0 if p["complete"] and p["end_signal"] == "SIGTERM" else 1)' re.json ||
	fail "re-raise: the dump should be complete and say SIGTERM"

# A one-shot handler (SA_RESETHAND, as node's SIGINT and SIGTERM) that
# raises the signal again: the program sees its handler and flags, the
# kernel's reset before its handler runs, and the dump is finished.
one() { # NAME [env...]
	local name=$1
	shift
	env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/$name.fdump" "$@" "$P" oneshot >$name.out 2>$name.err &
	local pid=$!
	for _ in $(seq 100); do grep -q ready $name.out 2>/dev/null && break; sleep 0.05; done
	sleep 0.3
	kill -TERM $pid
	wait $pid
	echo $? >$name.rc
}
"$P" oneshot >oneplain.out 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ready oneplain.out 2>/dev/null && break; sleep 0.05; done
kill -TERM $pid
wait $pid
assert_eq "one-shot, alone: the status" 143 "$?"
one one
assert_eq "one-shot: the status" 143 "$(cat one.rc)"
cmp oneplain.out one.out || { diff oneplain.out one.out >&2; fail "one-shot: the program's output differs under the agent"; }
assert_contains "one-shot: the program's view" "view: its handler resethand 1" one.out
assert_contains "one-shot: reset before the handler" "one-shot handler ran, SIG_DFL again" one.out
"$FATHOM" report --json one.fdump >one.json 2>/dev/null
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["processes"][0]; sys.exit(0 if p["complete"] and p["end_signal"] == "SIGTERM" else 1)' one.json ||
	fail "one-shot: the dump should be complete and say SIGTERM"

# The program's own handler, and SIG_IGN, are its own.
env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/own.fdump" "$P" own >own.out 2>own.err &
pid=$!
for _ in $(seq 100); do grep -q ready own.out 2>/dev/null && break; sleep 0.05; done
kill -TERM $pid
wait $pid
assert_eq "own handler: its exit status" 3 "$?"
assert_contains "own handler: it ran" "own handler ran" own.out
env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/ign.fdump" "$P" ignore >ign.out 2>ign.err
assert_eq "SIG_IGN: the status" 0 "$?"
assert_contains "SIG_IGN: the program survived its raise" "survived" ign.out

# SIGPIPE in `prog | head`.
set -o pipefail
env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/pipe.fdump" "$P" pipe 2>pipe.err | head -3 >pipe.out
assert_eq "SIGPIPE: the status" 141 "$?"
set +o pipefail
assert_eq "SIGPIPE: the lines read" 3 "$(wc -l <pipe.out)"
"$FATHOM" report --json pipe.fdump >pipe.json 2>/dev/null
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["processes"][0]; sys.exit(0 if p["complete"] and p["end_signal"] == "SIGPIPE" else 1)' pipe.json ||
	fail "SIGPIPE: the dump should be complete and say SIGPIPE"

# A forked child killed by its parent: the parent sees the same status, the
# child's dump is whole.
mkdir -p child && (cd child && env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$W/child/c.fdump" "$P" child >../child.out 2>../child.err)
assert_contains "child: its parent saw SIGTERM" "child: signal 15" child.out
n=0
for f in child/*.fdump; do
	"$FATHOM" report --json "$f" >one.json 2>/dev/null
	python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["processes"][0]; sys.exit(0 if p["complete"] else 1)' one.json ||
		fail "child: $f has no trailer"
	n=$((n + 1))
done
assert_eq "child: dumps" 2 "$n"
note "SIGTERM: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["processes"][0]["samples"])' on.json) samples, the dump complete"
