# Every kind of wait the agent records, read raw from the dump: the
# program (progs/wait_kinds.c) waits about 50 ms in a function of its own
# for each, and each shows there with its reason and length: a contended
# mutex (30 times; its holder's releases as HOLD records in hold_mutex), a
# rwlock, a spin lock, a barrier, a condition variable (80 ms: its mutex's
# re-acquisition inside pthread_cond_wait is the condition wait's, never a
# second mutex wait), a semaphore, a futex through syscall(), a join, a
# child, a write to a full pipe and a poll (descriptor kind pipe); their
# kin: timedlock, wrlock, the timed and clock forms of condition waits,
# semaphores and joins (the clock ones are what C++'s steady-clock waits and
# Python's timed lock acquisitions call), clock_nanosleep, usleep, select,
# pselect, ppoll, epoll_pwait(2), recv, accept and connect on sockets (kind
# socket), wait, wait3, wait4, waitid; fsync and fdatasync of a file and
# a directory (kind file), pwrite64 and pread64. The vectored and
# positioned calls (preadv2 and pwritev2 on pipes, their 64 names too),
# recvmmsg, sendmmsg and sendfile on sockets, sendfile64 to a pipe, each
# about 50 ms; and 3 short calls of each on files (preadv, pwritev, preadv2,
# pwritev2, their 64 names, sendfile and sendfile64 to a file: kind file)
# and a socket pair (sendmmsg, recvmmsg: kind socket), every one a WAIT
# with a threshold of 1 ns, but preadv2 with RWF_NOWAIT and sendmmsg with
# MSG_DONTWAIT, which are none. 200000 reads of an empty non-blocking pipe
# (EAGAIN) are no wait.
source "$SRCDIR/tests/lib.sh"

"$PROGS/wait_kinds" >plain.out || fail "the program fails on its own"
WAIT_KINDS_TIMES=own.txt run "$FATHOM" record -q --wait -o k.fdump -- "$PROGS/wait_kinds" >k.out
cmp -s plain.out k.out || fail "the output changed under --wait: $(cat k.out)"
note "the program's own clock (ms): $(tr '\n' ' ' <own.txt)"
run "$PROGS/wait_rdump" k.fdump >k.txt
sed 's/;__libc_start_call_main.*//; s/;start_thread.*//' k.txt >&2

# WAIT tid reason fd_kind object wait_ns weight_ns time stack
# expect REASON FUNCTION [FD_KIND [MIN_MS]]: a WAIT of that reason whose
# innermost frame is FUNCTION (called from main), at most 1 ms longer than
# the program's own clock says FUNCTION took, and at least MIN_MS (50)
# less 1 ms: each helper (and each child) starts the 50 ms it makes its
# waiter wait only once the waiter sleeps in the kernel, so the wait is at
# least that however loaded the machine (the program's clock can hold
# more: the agent's own work, and any preemption around the call). MIN_MS
# "own": at least 85% of the program's clock less 1 ms, and 20 ms by it
# (the spin lock's waiter spins: its helper cannot see it wait).
expect() {
	local own got min=${4:-50}
	own=$(awk -v f="$2" '$1 == f { print $2 }' own.txt)
	[ -n "$own" ] || fail "the program did not time $2"
	got=$(awk -v r="$1" -v f="^$2;main;" -v k="${3:-0}" \
		'$1 == "WAIT" && $3 == r && $9 ~ f && $4 == k && $6 > m { m = $6 } END { printf "%.3f", m / 1e6 }' k.txt)
	if [ "$min" = own ]; then
		awk -v o="$own" 'BEGIN { exit !(o >= 20) }' ||
			fail "$2 waited only $own ms by the program's clock: its helper came too early"
		min=$(awk -v o="$own" 'BEGIN { printf "%.3f", o * 0.85 }')
	fi
	awk -v o="$own" -v g="$got" -v m="$min" 'BEGIN { exit !(g >= m - 1 && g <= o + 1) }' ||
		fail "$2: the longest WAIT of reason $1 (fd kind ${3:-0}) is $got ms, the program's clock says $own ms (at least $min ms asked)"
}
expect 1 wait_rwlock
expect 2 wait_spin 0 own
expect 5 wait_barrier
# The signal comes 50 ms after the waiter sleeps, the mutex 30 ms later:
# the wait is at least 80 ms only if the re-acquisition is part of the
# condition wait (without it the wait would be 30 ms shorter).
expect 3 wait_cond 0 80
expect 4 wait_sem
expect 15 wait_futex
expect 6 wait_join
expect 14 wait_child
expect 8 wait_write 3
expect 9 wait_poll 3
# The kin.
expect 0 wait_timedlock
expect 1 wait_wrlock
expect 3 wait_cond_timed
expect 3 wait_cond_clock
expect 4 wait_sem_timed
expect 4 wait_sem_clock
expect 6 wait_timedjoin
expect 6 wait_clockjoin
expect 13 wait_clock_nanosleep
expect 13 wait_usleep
expect 9 wait_select
expect 9 wait_pselect
expect 9 wait_ppoll 3
ep_kind=$(awk '$1 == "WAIT" && $3 == 9 && $9 ~ /^wait_epoll_pwait;main;/ { print $4; exit }' k.txt)
expect 9 wait_epoll_pwait "$ep_kind"
expect 9 wait_epoll_pwait2 "$ep_kind"
expect 7 wait_recv 2
expect 10 wait_accept 2
expect 11 wait_connect 2
expect 14 wait_wait
expect 14 wait_wait3
expect 14 wait_wait4
expect 14 wait_waitid
# The vectored and positioned calls, many messages, sendfile.
expect 7 wait_preadv2 3
expect 7 wait_preadv64v2 3
expect 8 wait_pwritev2 3
expect 8 wait_pwritev64v2 3
expect 7 wait_recvmmsg 2
expect 8 wait_sendmmsg 2
expect 8 wait_sendfile 2
expect 8 wait_sendfile64 3

# Syncs of a file (3 each) and of its directory (kind file too), pwrite64
# and pread64 (SQLite's calls), each however short a WAIT with a threshold
# of 1 ns.
run "$FATHOM" record -q --wait-threshold 1ns -o s.fdump -- "$PROGS/wait_kinds" sync >s.out
run "$PROGS/wait_rdump" s.fdump >s.txt
assert_eq "fsync waits of kind file in wait_fsync" 4 "$(awk '$1 == "WAIT" && $3 == 12 && $4 == 1 && $9 ~ /^wait_fsync;/' s.txt | wc -l)"
assert_eq "pwrite64 waits of kind file in wait_pwrite64" 3 "$(awk '$1 == "WAIT" && $3 == 8 && $4 == 1 && $9 ~ /^wait_pwrite64;/' s.txt | wc -l)"
assert_eq "pread64 waits of kind file in wait_pread64" 3 "$(awk '$1 == "WAIT" && $3 == 7 && $4 == 1 && $9 ~ /^wait_pread64;/' s.txt | wc -l)"
assert_eq "fdatasync waits of kind file in wait_fdatasync" 3 "$(awk '$1 == "WAIT" && $3 == 12 && $4 == 1 && $9 ~ /^wait_fdatasync;/' s.txt | wc -l)"
# count REASON KIND FUNCTION: the WAITs of that reason and descriptor kind
# whose innermost frame is FUNCTION.
count() { awk -v r="$1" -v k="$2" -v f="^$3;" '$1 == "WAIT" && $3 == r && $4 == k && $9 ~ f' s.txt | wc -l; }
for f in wait_preadv wait_preadv64 wait_preadv2_file wait_preadv64v2_file; do
	assert_eq "read waits of kind file in $f" 3 "$(count 7 1 $f)"
done
for f in wait_pwritev wait_pwritev64 wait_pwritev2_file wait_pwritev64v2_file wait_sendfile_file wait_sendfile64_file; do
	assert_eq "write waits of kind file in $f" 3 "$(count 8 1 $f)"
done
assert_eq "write waits of kind socket in wait_sendmmsg_short" 3 "$(count 8 2 wait_sendmmsg_short)"
assert_eq "read waits of kind socket in wait_recvmmsg_short" 6 "$(count 7 2 wait_recvmmsg_short)"
assert_not_contains "preadv2 with RWF_NOWAIT and sendmmsg with MSG_DONTWAIT are no wait" "nowait_" s.txt

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
