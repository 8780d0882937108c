# Threads that block every signal (as thread pools and xz's workers do) are
# sampled like any other, and see the mask they set: their CPU time is in the
# profile, and the program's output and exit status are unchanged. The calls
# that wait for signals (sigsuspend, sigwaitinfo, sigtimedwait, signalfd,
# ppoll, pselect, epoll_pwait) end only for the program's own signals or
# their timeout, even with wall-clock sampling, whose timer fires while the
# thread waits.
. "$SRCDIR/tests/lib.sh"

cd "$WORKDIR" || exit 1
prog=$PROGS/msk_workers

# same NAME: the plain and recorded runs printed the same and exited the same.
same() {
	if ! cmp -s "$1.plain" "$1.rec" || [ "$(cat "$1.prc")" != "$(cat "$1.rrc")" ]; then
		diff "$1.plain" "$1.rec" | sed 's/^/  | /' >&2
		fail "$1: the program's output or exit status changed under the agent (exit $(cat "$1.prc") plain, $(cat "$1.rrc") recorded)"
	fi
}

"$prog" burn 2 500 >burn.plain 2>burn.perr
echo $? >burn.prc
"$FATHOM" record -F 199 -o burn.fdump -- "$prog" burn 2 500 >burn.rec 2>burn.err
echo $? >burn.rrc
same burn
assert_contains "the workers see the mask they set" "workers that saw their own mask: 2 of 2" burn.rec

# The workers' CPU time, measured by their own clocks, is in the profile.
cpu_ms=$(sed -n 's/^workers_cpu_ms //p' burn.err)
[ -n "$cpu_ms" ] || fail "the program did not print its workers' CPU time"
run "$FATHOM" report --json burn.fdump >burn.json
sampled_ms=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(round(sum(f["total_ns"] for f in d["top_total"] if f["name"] == "burn_cpu") / 1e6))' burn.json)
note "workers measured ${cpu_ms} ms of CPU; burn_cpu sampled ${sampled_ms} ms"
assert_le "burn_cpu's sampled CPU against the workers' (ms)" "$(awk -v c="$cpu_ms" 'BEGIN { print c * 1.3 + 50 }')" "$sampled_ms"
awk -v s="$sampled_ms" -v c="$cpu_ms" 'BEGIN { exit !(s >= 0.7 * c) }' ||
	fail "burn_cpu sampled ${sampled_ms} ms of the workers' ${cpu_ms} ms of CPU (less than 70%)"
# Each worker on its own: both threads have samples.
nthreads=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for t in d["threads"] if t["samples"] >= 10))' burn.json)
assert_eq "worker threads with samples" 2 "$nthreads"

# Waits, with a wall-clock timer firing every millisecond meanwhile.
"$prog" waits >waits.plain 2>&1
echo $? >waits.prc
"$FATHOM" record --clock wall -F 1000 -o waits.fdump -- "$prog" waits >waits.rec 2>waits.err
echo $? >waits.rrc
grep -v '^fathom:' waits.err >>waits.rec
same waits
assert_contains "sigsuspend ends only for the program's signal" "sigsuspend: returned 1 time(s) for 1 signal" waits.rec
assert_contains "signalfd reads only the program's signals" "signalfd on every signal: 1 SIGUSR1, 0 other" waits.rec
assert_contains "a timed wait takes its whole time" "ppoll without a mask: 0, after its timeout" waits.rec
assert_contains "a handler with a full sa_mask" "saw every signal blocked yes, mask empty after it yes" waits.rec

# A program that uses the agent's signal itself (FATHOM_SIGNAL names it):
# blocked through the raw system call, sighold, sigsetmask; sent while
# blocked, it stays pending until unblocked; sigwaitinfo takes it; the mask
# goes across posix_spawn and exec. Meanwhile the thread is sampled.
rtmax=$(kill -l SIGRTMAX 2>/dev/null) || rtmax=64
sig=$((rtmax - 3))
"$prog" own "$sig" >own.plain 2>&1
echo $? >own.prc
FATHOM_SIGNAL=$sig "$FATHOM" record -o own.fdump -- "$prog" own "$sig" >own.rec 2>own.err
echo $? >own.rrc
grep -v '^fathom:' own.err >>own.rec
same own
assert_contains "a blocked signal stays pending" "sent while blocked: handled 0, pending yes" own.rec
assert_eq "children (posix_spawn, exec) that start with the signal blocked" 2 "$(grep -c '^  SIG blocked yes' own.rec)"
samples=$(sed -n 's/^fathom: \([0-9,]*\) samples.*/\1/p' own.err | tr -d ,)
[ "${samples:-0}" -ge 15 ] || fail "own: the thread that blocks the agent's signal was not sampled (${samples:-no} samples)"
