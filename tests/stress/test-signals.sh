# Stress: signal handlers on an alternate stack burning CPU while sampled,
# and a periodic SIGALRM interrupting sleeps.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run signals -- "$PROGS/stress_signals" 300
assert_contains "handlers ran on the alternate stack" "handled 300 on the alternate stack, 0 off it" "$STRESS_DIR/rec.out"
stress_fact "the signal handler's work" report "d['top_self'][0]['name']" spin
stress_fact "samples in the handler unwind through the signal frame" report "'on_usr1' in [r['name'] for r in d['top_total']] and 'main' in [r['name'] for r in d['top_total']]" True
