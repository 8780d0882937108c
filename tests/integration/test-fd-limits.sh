# What the agent costs a program against its limits (issue 12, item 4): under
# a soft limit of 64 descriptors the program opens as many files as without
# the agent (the agent's one descriptor, the dump's, sits at the limit's
# number, out of the program's range), and under a 128 MB address-space limit
# it allocates 116 MB as without the agent (the agent reserves about 4 MB;
# it used to map 160 MB).
. "$SRCDIR/tests/lib.sh"

W=$WORKDIR
cd "$W" || fail "no $W"
P=$PROGS/fd_limits

# Descriptors: none of the agent's in the program's range (libunwind's
# validation pipe, two descriptors, is gone with libunwind).
plain=$(ulimit -Sn 64 && "$P" files) || fail "fd_limits files failed"
(ulimit -Sn 64 && exec env LD_PRELOAD="$FATHOM_AGENT" sleep 3) &
pid=$!
sleep 1
extra=0
for fd in /proc/$pid/fd/*; do
	n=${fd##*/}
	[ "$n" -gt 2 ] && [ "$n" -lt 64 ] || continue
	# The shell's own descriptors are the plain program's too.
	[ -e "/proc/$$/fd/$n" ] && [ "$(readlink "$fd")" = "$(readlink "/proc/$$/fd/$n")" ] && continue
	extra=$((extra + 1))
	note "agent descriptor $n -> $(readlink "$fd")"
done
kill $pid
wait $pid 2>/dev/null
assert_eq "the agent's descriptors in the program's range" 0 "$extra"
for alloc in off exact sampled; do
	got=$(ulimit -Sn 64 && env LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$alloc "$P" files) || fail "files under the agent"
	note "ulimit -n 64: plain: $plain; agent ($alloc): $got"
	assert_eq "files opened under the agent ($alloc)" "$plain" "$got"
done

# Address space: 116 MB of 128 MB, with and without the agent.
(ulimit -Sv 131072 && "$P" alloc 116) >/dev/null || fail "the plain program cannot allocate 116 MB under ulimit -v 131072"
for alloc in off exact sampled; do
	(ulimit -Sv 131072 && env LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=$alloc "$P" alloc 116) >"$W/as-$alloc.out" 2>&1 ||
		fail "under the agent ($alloc) the program allocated only $(cat "$W/as-$alloc.out") of 116 MB under ulimit -v 131072"
done
# Every run left a dump that reads.
for f in "$W"/fathom.*.fdump; do
	"$FATHOM" report "$f" >/dev/null 2>&1 || fail "cannot read $f"
done
