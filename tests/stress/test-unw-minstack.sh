# Stress (issue 12, item 8): the agent leaves a program's stack budget
# unchanged within 1 KB. A thread with a 16 KB stack (PTHREAD_STACK_MIN)
# allocates and burns CPU at its deepest point while sampled at 10 kHz with
# exact allocation tracking: the SIGPROF handler must run on the agent's own
# signal stack (the kernel's signal frame alone is ~3.5 KB with AVX-512) and
# the allocation hooks must stay small. The budget is calibrated in plain
# runs: the most stack the thread can use below its entry and still
# allocate; under the agent, that much minus 1 KB must work. The program's
# own view of sigaltstack must be what it is without the agent.
. "$SRCDIR/tests/lib.sh"

prog=$PROGS/unw_minstack
under_agent() {
	FATHOM_HZ=10000 FATHOM_ALLOC=exact FATHOM_OUTPUT="$WORKDIR/m.%p.fdump" LD_PRELOAD="$FATHOM_AGENT" \
		timeout 60 "$prog" "$@" 2>/dev/null | tail -n 1
}

# The plain budget, to 16 bytes.
lo=0 hi=16384
while [ $((hi - lo)) -gt 16 ]; do
	m=$(((lo + hi) / 2))
	if [ "$("$prog" use "$m" 2>/dev/null)" = ok ]; then lo=$m; else hi=$m; fi
done
[ "$lo" -gt 4096 ] || fail "the plain run can use only $lo bytes of its 16 KB stack"
note "plain budget: $lo bytes below the thread function"
for i in 1 2 3; do
	assert_eq "using the plain budget minus 1 KB ($((lo - 1024)) bytes) under the agent, run $i" ok \
		"$(under_agent use $((lo - 1024)))"
done

# Recursion: depth 30, 300-byte frames, allocating at every level.
assert_eq "depth 30 plain" ok "$("$prog" depth 30 300 2>/dev/null | tail -n 1)"
for i in 1 2 3; do
	assert_eq "depth 30 under the agent, run $i" ok "$(under_agent depth 30 300)"
done

# sigaltstack as the program sees it.
"$prog" altstack >"$WORKDIR/alt.plain" 2>&1
FATHOM_HZ=1000 FATHOM_OUTPUT="$WORKDIR/a.%p.fdump" LD_PRELOAD="$FATHOM_AGENT" "$prog" altstack >"$WORKDIR/alt.rec" 2>&1
assert_contains "the program's own signal stack" "handler on its stack: yes" "$WORKDIR/alt.plain"
if ! cmp -s "$WORKDIR/alt.plain" "$WORKDIR/alt.rec"; then
	diff "$WORKDIR/alt.plain" "$WORKDIR/alt.rec" >&2
	fail "sigaltstack's view differs under the agent"
fi
