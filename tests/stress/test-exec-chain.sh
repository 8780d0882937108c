# Stress: a program that execs itself 5 times (6 images of one pid, exit 9).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run exec --min-dumps 6 -- "$PROGS/stress_exec" 5
assert_eq "exit status of the target" 9 "$STRESS_RC"
stress_fact "one pid through six images, in order" "report --no-symbols" "(len({p['pid'] for p in d['processes']}), sorted(p['generation'] for p in d['processes']))" "(1, [0, 1, 2, 3, 4, 5])"
