# Under fathom record --wait the program's locks and blocking calls keep
# their semantics (progs/wait_semantics.c checks them itself): robust and
# PI robust mutexes give EOWNERDEAD when their owner died, also while a
# thread waited in the agent's pthread_mutex_lock; PI mutexes contend and
# time out; error-checking EDEADLK/EPERM, recursive counts, timedlock's
# ETIMEDOUT and EINVAL; threads cancelled in pthread_cond_wait and read
# end cancelled (the condition's mutex released by their cleanup); the
# program's own signal interrupts read with EINTR. The same with the wall
# clock (the blocked state too). Afterwards the agent still records: the
# 50 ms sleep in after_all is there.
source "$SRCDIR/tests/lib.sh"

"$PROGS/wait_semantics" >plain.out || { cat plain.out >&2; fail "the program fails on its own"; }
for mode in "--wait" "--wait --clock wall"; do
	st=0
	"$FATHOM" record -q $mode -o s.fdump -- "$PROGS/wait_semantics" >s.out 2>s.err || st=$?
	cat s.err >&2
	[ "$st" = 0 ] || { cat s.out >&2; fail "under $mode: exit status $st"; }
	cmp -s plain.out s.out || { diff plain.out s.out >&2; fail "under $mode: the output changed"; }
	run "$PROGS/wait_rdump" s.fdump >s.txt
	n=$(awk '$1 == "WAIT" && $3 == 13 && $9 ~ /^after_all;main;/ && $6 >= 45000000' s.txt | wc -l)
	assert_eq "under $mode: the sleep after the cancellations is recorded" 1 "$n"
	n=$(awk '$1 == "WAIT" && $3 == 0 && $9 ~ /^robust;main;/ && $6 >= 20000000' s.txt | wc -l)
	assert_ge "under $mode: the waits for robust mutexes whose owner died" 1 "$n"
done
exit 0
