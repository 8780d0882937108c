# Snapshots by fathom ctl show exactly what grew between them: the program
# leaks 10, 20, then 30 blocks of 1000 bytes at three sites, waiting after
# each step for a snapshot; fathom mem --at 2 --since 1 shows +20 blocks
# (+19.5 KiB) at leak_step2 and nothing else, --at 3 --since 2 +30 at
# leak_step3; a snapshot that does not exist and ctl on a process without
# the agent, a stale pid or a bad verb give one clear line. The same with
# record --snapshot-every, and mem --at/--since at the marks' times.
source "$SRCDIR/tests/lib.sh"

"$FATHOM" record --alloc -o l.fdump -- "$PROGS/win_server" "$PWD/pid" leak >l.out 2>l.err &
rec=$!
for n in 1 2 3; do
	for _ in $(seq 200); do grep -q "step$n" l.out 2>/dev/null && break; sleep 0.05; done
	grep -q "step$n" l.out || fail "the program did not reach step $n"
	"$FATHOM" ctl "$(cat pid)" snapshot "s$n" >>ctl.out 2>ctl.err || fail "ctl snapshot failed: $(cat ctl.err)"
	touch "pid.go$n"
done
wait $rec || fail "the program failed"
assert_contains "ctl says the snapshot" "snapshot 2 at" ctl.out

"$FATHOM" mem --at 2 --since 1 l.fdump >d12.txt 2>&1 || fail "mem --at 2 --since 1 failed: $(cat d12.txt)"
cat d12.txt >&2
assert_contains "growth from 1 to 2" "+19.5 KiB" d12.txt
grep -E '^ +\+19\.5 KiB +\+20 +leak_step2 ' d12.txt >/dev/null || fail "leak_step2 did not grow by 20 blocks"
[ "$(grep -c 'leak_step' d12.txt)" = 1 ] || fail "other sites grew between 1 and 2"
"$FATHOM" mem --at 3 --since 2 l.fdump >d23.txt 2>&1 || fail "mem --at 3 --since 2 failed"
grep -E '^ +\+29\.3 KiB +\+30 +leak_step3 ' d23.txt >/dev/null || fail "leak_step3 did not grow by 30 blocks: $(cat d23.txt)"
"$FATHOM" mem --at 1 l.fdump >a1.txt 2>&1 || fail "mem --at 1 failed"
grep -E '^ +9\.77 KiB +10 +leak_step1 ' a1.txt >/dev/null || fail "snapshot 1 lacks leak_step1's 10 blocks: $(cat a1.txt)"

st=0; "$FATHOM" mem --at 9 l.fdump >o.txt 2>e.txt || st=$?
assert_eq "a missing snapshot's status" 1 "$st"
assert_contains "a missing snapshot is said" "no snapshot 9" e.txt

# record --snapshot-every 300ms: marks numbered from 1, every 300 ms; between the first at step 1's heap and the last (step 3's), mem
# --at N --since M shows exactly steps 2 and 3, and so does --at T --since T
# with the marks' times (the writer's tick then).
rm -f pid pid.go*
"$FATHOM" record -q --alloc --snapshot-every 300ms -o e.fdump -- "$PROGS/win_server" "$PWD/pid" leak >e.out 2>e.err &
rec=$!
for n in 1 2 3; do
	for _ in $(seq 200); do grep -q "step$n" e.out 2>/dev/null && break; sleep 0.05; done
	grep -q "step$n" e.out || fail "the program did not reach step $n (--snapshot-every)"
	sleep 0.8
	touch "pid.go$n"
done
wait $rec || fail "the program failed: $(cat e.err)"
"$FATHOM" report --json e.fdump >e.json || fail "fathom report --json failed"
python3 - e.json >marks.txt <<'PY' || fail "the periodic snapshots are not as asked"
import json, sys
m = [x for x in json.load(open(sys.argv[1]))["processes"][0]["marks"]]
print("# marks", [(x["what"], x["id"], round(x["time_ns"] / 1e9, 3), x["heap_bytes"]) for x in m], file=sys.stderr)
assert all(x["what"] == "snapshot" for x in m) and [x["id"] for x in m] == list(range(1, len(m) + 1)), m
assert len(m) >= 5, len(m)
# Due every 300 ms from the agent's start (a late round skips, never
# doubles): the k-th no sooner than k times 300 ms, less the round's
# draining (its time is the round's start).
t = [x["time_ns"] / 1e9 for x in m]
assert t == sorted(t) and all(tk >= 0.3 * k - 0.05 for k, tk in enumerate(t, 1)), t
last = m[-1]
first = [x for x in m if x["heap_bytes"] == last["heap_bytes"] - 50000]
assert first, "no snapshot at step 1's heap"
print(first[0]["id"], last["id"], first[0]["time_ns"] / 1e9, last["time_ns"] / 1e9)
PY
read -r s1 s3 t1 t3 <marks.txt
for args in "--at $s3 --since $s1" "--at ${t3}s --since ${t1}s"; do
	"$FATHOM" mem $args e.fdump >p.txt 2>&1 || fail "mem $args failed: $(cat p.txt)"
	grep -E '^ +\+19\.5 KiB +\+20 +leak_step2 ' p.txt >/dev/null || fail "mem $args: leak_step2 is not +20: $(cat p.txt)"
	grep -E '^ +\+29\.3 KiB +\+30 +leak_step3 ' p.txt >/dev/null || fail "mem $args: leak_step3 is not +30"
	assert_not_contains "mem $args: step 1 before both" "leak_step1" p.txt
done

# ctl without a target agent, on a stale pid, with a bad verb.
sleep 5 & other=$!
st=0; "$FATHOM" ctl $other stop >o.txt 2>e.txt || st=$?
kill $other 2>/dev/null
assert_eq "ctl on a process without the agent" 1 "$st"
assert_contains "ctl says there is no agent" "not running under fathom's agent" e.txt
[ "$(wc -l <e.txt)" = 1 ] || fail "more than one line: $(cat e.txt)"
st=0; "$FATHOM" ctl "$(cat pid)" stop >o.txt 2>e.txt || st=$?
assert_eq "ctl on an exited program" 1 "$st"
assert_contains "ctl says the process is gone" "no process $(cat pid)" e.txt
st=0; "$FATHOM" ctl 1 bogus >o.txt 2>e.txt || st=$?
assert_eq "ctl with a bad verb" 2 "$st"
