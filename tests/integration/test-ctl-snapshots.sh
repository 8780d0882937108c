# Snapshots by fathom ctl show exactly what grew between them: the program
# leaks 10, 20, then 30 blocks of 1000 bytes at three sites, waiting after
# each step for a snapshot; fathom mem --at 2 --since 1 shows +20 blocks
# (+19.5 KiB) at leak_step2 and nothing else, --at 3 --since 2 +30 at
# leak_step3; a snapshot that does not exist and ctl on a process without
# the agent, a stale pid or a bad verb give one clear line.
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
