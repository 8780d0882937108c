# Stress: gcc compiling and linking a C file: a fork/exec tree (gcc, cc1, as,
# collect2, ld), one dump per process, merged by the report. The compiler's
# warning (stderr), exit status and the linked program must be the same.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

copy_source() { cp "$SRCDIR/tests/stress/inputs/stress-cc.c" "$1/" ; }
stress_run gcc --min-dumps 4 --setup copy_source -- gcc -O2 -Wall -o hello stress-cc.c
cmp -s "$STRESS_DIR/plain/hello" "$STRESS_DIR/rec/hello" || fail "gcc linked a different binary under fathom"
assert_eq "the compiled program runs" 42 "$("$STRESS_DIR/rec/hello")"
stress_fact "the report merges the compiler's processes" "report --no-symbols" "sorted({os.path.basename(p['exe']).split('-')[-1] for p in d['processes']} & {'cc1', 'as', 'collect2', 'ld.bfd'})" "['as', 'cc1', 'collect2', 'ld.bfd']"
