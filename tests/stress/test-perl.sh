# Stress: perl running a real script (hashes, regexes, closures; exit 4).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run perl -- perl "$SRCDIR/tests/stress/inputs/stress.pl"
assert_eq "exit status of the target" 4 "$STRESS_RC"
