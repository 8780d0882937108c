# When the agent cannot sample the CPU it says so and changes nothing else:
# a seccomp filter that traps timer_create (SIGSYS) in an exec'd child, and
# an RLIMIT_SIGPENDING too small for a timer per thread.
. "$SRCDIR/tests/lib.sh"

cd "$WORKDIR" || exit 1
prog=$PROGS/sig_seccomp
"$prog" >plain.out 2>plain.err
prc=$?
[ "$prc" = 77 ] && skip "seccomp filters are not permitted here"
assert_eq "plain run" 0 "$prc"

timeout -k 5 60 "$FATHOM" record -o s.fdump -- "$prog" >rec.out 2>rec.err
assert_eq "exit status under the agent (not killed by SIGSYS)" 0 "$?"
if ! cmp -s plain.out rec.out; then
	diff plain.out rec.out | sed 's/^/  | /' >&2
	fail "the output differs under the agent"
fi
assert_contains "the agent says so, once" "fathom: CPU sampling unavailable: timer_create: blocked by a seccomp filter (SIGSYS)" rec.err
assert_eq "the agent's message, once" 1 "$(grep -c '^fathom: CPU sampling unavailable:' rec.err)"
assert_contains "fathom record's summary says so" "CPU sampling unavailable in 1 of 2 processes" rec.err
"$FATHOM" report s.fdump* >report.txt 2>report.err || fail "fathom report failed"
assert_contains "the report gives the reason" "CPU sampling unavailable: timer_create: blocked by a seccomp filter (SIGSYS)" report.txt
# The child, whose timer the filter blocked, has no samples, and its report
# says why. (The parent may have some: it is sampled until its exec, and
# under load its start-up can use a whole period of CPU.)
child=$(ls s.fdump.*.1 2>/dev/null | head -1)
[ -n "$child" ] || fail "no dump of the exec'd child"
"$FATHOM" report "$child" >child.txt 2>/dev/null || fail "fathom report of the child failed"
assert_contains "the child's report says why there are no samples" "No CPU samples: CPU sampling was unavailable" child.txt
"$FATHOM" report --json s.fdump* >report.json 2>/dev/null || fail "fathom report --json failed"
got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([p["cpu_unavailable"] for p in d["processes"]])' report.json)
assert_eq "the JSON report" "[None, 'timer_create: blocked by a seccomp filter (SIGSYS)']" "$got"

# Too few queued signals allowed for a timer per thread: the program runs as
# without the agent, and the threads left unsampled are counted.
"$PROGS/stress_threads" >threads.plain 2>threads.plain.err || fail "stress_threads failed"
# (The limit counts every queued signal and timer of the user, on the whole
# machine: whether some threads or all go unsampled depends on the rest.)
timeout -k 5 60 bash -c 'ulimit -i 8 && exec "$@"' sh "$FATHOM" record -o t.fdump -- "$PROGS/stress_threads" \
	>threads.rec 2>threads.err
assert_eq "exit status with a small RLIMIT_SIGPENDING" 0 "$?"
grep -v '^fathom:' threads.err >threads.rec.err
cmp -s threads.plain threads.rec || fail "stress_threads' output differs under the agent"
cmp -s threads.plain.err threads.rec.err || fail "stress_threads' errors differ under the agent"
grep -qE '^fathom: .*(CPU sampling unavailable|threads not CPU-sampled) \(timer_create: ' threads.err ||
	{ sed 's/^/  | /' threads.err >&2; fail "the summary does not say that threads went unsampled"; }
