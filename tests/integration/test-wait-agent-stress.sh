# 64 threads hammering 8 mutexes of every type (progs/wait_stress.c, 3.2
# million locked updates) under fathom record --wait: no deadlock (a
# 120 s limit), exit 0, and the same counts and checksum as without the
# agent; the dump reads back with its waits' stacks defined.
source "$SRCDIR/tests/lib.sh"

run "$PROGS/wait_stress" 50000 >plain.out
st=0
timeout 120 "$FATHOM" record -q --wait -o s.fdump -- "$PROGS/wait_stress" 50000 >s.out || st=$?
[ "$st" != 124 ] || fail "deadlock: the program under --wait did not end in 120 s"
assert_eq "exit status under --wait" 0 "$st"
cmp -s plain.out s.out || { diff plain.out s.out >&2; fail "the counts or the checksum changed under --wait"; }
run "$PROGS/wait_rdump" s.fdump >s.txt
note "$(grep -c '^WAIT' s.txt) WAIT and $(grep -c '^HOLD' s.txt) HOLD records"
assert_not_contains "every wait's stack is defined" "undefined stack" s.txt
exit 0
