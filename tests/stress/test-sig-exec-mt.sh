# Stress: 50 exec chains of a multithreaded program (threads being created at
# the moment of each exec) sampled at 10 kHz, without and with exact
# allocation tracking: no image may be killed by a timer or a pending
# sampling signal left over from the image before it.
. "$SRCDIR/tests/lib.sh"

CHAINS=${CHAINS:-50}
mkdir -p "$WORKDIR/dumps"
for alloc in off exact; do
	killed=0
	for i in $(seq "$CHAINS"); do
		out=$(timeout -k 5 60 env LD_PRELOAD="$FATHOM_AGENT" FATHOM_HZ=10000 FATHOM_ALLOC=$alloc \
			FATHOM_OUTPUT="$WORKDIR/dumps/%p.fdump" "$PROGS/sig_exec_mt" 2 2>"$WORKDIR/err")
		rc=$?
		# Each image must have written its dump (the agent started in it).
		n=$(find "$WORKDIR/dumps" -type f | wc -l)
		if [ "$rc" != 0 ] || [ "$out" != "end of chain" ] || [ "$n" != 3 ]; then
			killed=$((killed + 1))
			note "alloc $alloc, chain $i: exit $rc, output '$out', $n dumps of 3 images"
			sed 's/^/  | /' "$WORKDIR/err" >&2
		fi
		rm -f "$WORKDIR"/dumps/*
	done
	note "alloc $alloc: $killed of $CHAINS chains failed"
	assert_eq "exec chains that failed (alloc $alloc)" 0 "$killed"
done
