#!/usr/bin/env bash
# The writer's wake policy (issue 20, docs/AGENT.md "The writer's wake
# policy"): a thread that allocates fast makes (almost) no system calls of
# the agent's, the writer napping for what the ring holds instead of being
# woken by it. progs/bench_alloc (4 M pairs) under the agent, its thread's
# system calls counted with perf's raw_syscalls tracepoint, BENCH_RUNS runs
# (default 3); prints each run's futex, getpid, gettid and sched_yield
# calls and the writer's context switches. Target: the median run's futex
# calls under 300 (some 1,100 when every eighth of the ring woke the
# writer; 10-100 with the naps, the most on a loaded machine) and gettid
# calls under 20 (wlock's owner took one at every round).
source "$SRCDIR/tests/lib.sh"

RUNS=${BENCH_RUNS:-3}
prog=$PROGS/bench_alloc
[ -x "$prog" ] || fail "missing $prog"
command -v perf >/dev/null || skip "no perf"
perf record -q -o "$WORKDIR/probe.data" -e raw_syscalls:sys_enter true >/dev/null 2>&1 ||
	skip "perf cannot trace system calls here"
echo "bench-wake: bench_alloc 4000000 under the agent (exact, no CPU sampling); $(uptime)"
futex=()
for r in $(seq 1 "$RUNS"); do
	perf record -q -o "$WORKDIR/r$r.data" -e raw_syscalls:sys_enter -e sched:sched_switch \
		env FATHOM_ALLOC=exact FATHOM_CPU=0 FATHOM_OUTPUT="$WORKDIR/r$r.fdump" LD_PRELOAD="$FATHOM_AGENT" \
		"$prog" 4000000 >/dev/null 2>"$WORKDIR/r$r.err" || fail "run $r failed: $(cat "$WORKDIR/r$r.err")"
	# The program's thread is the one named bench_alloc (the writer renames
	# itself fathom-writer); x86-64 numbers: futex 202, getpid 39, gettid
	# 186, sched_yield 24.
	line=$(perf script -i "$WORKDIR/r$r.data" -F comm,event,trace 2>/dev/null | awk '
		$1 == "bench_alloc" && /sys_enter/ { n[$4]++ }
		$1 == "fathom-writer" && /sched_switch/ { w++ }
		END { printf "%d %d %d %d %d", n[202], n[39], n[186], n[24], w }')
	read -r f p t y w <<<"$line"
	echo "run $r: program thread futex $f getpid $p gettid $t sched_yield $y; writer switched out $w times"
	futex+=("$f")
	gettid+=("$t")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mf=$(median "${futex[@]}")
mt=$(median "${gettid[@]}")
echo "median: futex $mf, gettid $mt"
[ "$mf" -gt 0 ] || [ "$mt" -gt 0 ] || skip "no system call of the program's thread seen (perf saw nothing)"
assert_le "futex calls of the program's thread (median)" 300 "$mf"
assert_le "gettid calls of the program's thread (median)" 20 "$mt"
