# Every kind of wait the agent records, read raw from the dump: the
# program (progs/wait_kinds.c) waits about 50 ms in a function of its own
# for each, and each shows there with its reason and length: a contended
# mutex (30 times; its holder's releases as HOLD records in hold_mutex), a
# rwlock, a spin lock, a barrier, a condition variable (80 ms: its mutex's
# re-acquisition inside pthread_cond_wait is the condition wait's, never a
# second mutex wait), a semaphore, a futex through syscall(), a join, a
# child, a write to a full pipe and a poll (descriptor kind pipe). 200000
# reads of an empty non-blocking pipe (EAGAIN) are no wait.
source "$SRCDIR/tests/lib.sh"

"$PROGS/wait_kinds" >plain.out || fail "the program fails on its own"
run "$FATHOM" record -q --wait -o k.fdump -- "$PROGS/wait_kinds" >k.out
cmp -s plain.out k.out || fail "the output changed under --wait: $(cat k.out)"
run "$PROGS/wait_rdump" k.fdump >k.txt
sed 's/;__libc_start_call_main.*//; s/;start_thread.*//' k.txt >&2

# WAIT tid reason fd_kind object wait_ns weight_ns time stack
# expect REASON FUNCTION MIN_MS [FD_KIND]: one WAIT of that reason whose
# innermost frame is FUNCTION (called from main), at least MIN_MS long.
expect() {
	local n
	n=$(awk -v r="$1" -v f="^$2;main;" -v min="$3" -v k="${4:-0}" \
		'$1 == "WAIT" && $3 == r && $9 ~ f && $6 >= min * 1000000 && $4 == k' k.txt | wc -l)
	[ "$n" -ge 1 ] || fail "no WAIT of reason $1 in $2 of at least $3 ms (fd kind ${4:-0})"
}
expect 1 wait_rwlock 45
expect 2 wait_spin 45
expect 5 wait_barrier 45
# The signal comes 50 ms after the signaller starts, the mutex 30 ms later:
# the wait is 80 ms less main's lateness in reaching it (8 ms once under
# load), and over 50 ms only if the re-acquisition is part of it.
expect 3 wait_cond 55
expect 4 wait_sem 45
expect 15 wait_futex 45
expect 6 wait_join 45
expect 14 wait_child 45
expect 8 wait_write 45 3
expect 9 wait_poll 45 3

# A loaded machine may start a waiter late enough to find the mutex free.
mutex_waits=$(awk '$1 == "WAIT" && $3 == 0 && $9 ~ /^wait_mutex;main;/ && $6 >= 1000000' k.txt | wc -l)
assert_ge "contended mutex waits in wait_mutex (of 30)" 25 "$mutex_waits"
mutex=$(awk '$1 == "WAIT" && $3 == 0 && $9 ~ /^wait_mutex;/ { print $5; exit }' k.txt)
holds=$(awk -v m="$mutex" '$1 == "HOLD" && $3 == m && $6 ~ /^hold_mutex;mutex_holder;/' k.txt | wc -l)
# One contended release in 4 is recorded: 30 of them give none with
# probability (3/4)^30, about 2e-4.
assert_ge "HOLD records of the mutex at its holder's release (hold_mutex)" 1 "$holds"
awk '$1 == "HOLD" && $5 != 4 { exit 1 }' k.txt || fail "a HOLD does not stand for 4 contended releases"
awk '$1 == "WAIT" && $3 == 0 && $9 ~ /wait_cond/ { exit 1 }' k.txt ||
	fail "the condition wait's mutex re-acquisition was counted again as a mutex wait"
assert_not_contains "reads of a non-blocking pipe are no wait" "nb_read" k.txt
exit 0
