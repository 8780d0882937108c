# Stress: dlopen/dlclose of a library 200 times, calling into it each time.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run dlopen -- "$PROGS/stress_dlopen" 200
assert_contains "every dlclose unloaded the library" "loops 200 unloaded 200" "$STRESS_DIR/rec.out"
stress_fact "the hot function of the unloaded library, symbolized" report "d['top_self'][0]['name']" stress_plugin_work
