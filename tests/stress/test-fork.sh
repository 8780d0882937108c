# Stress: a fork tree without exec (depth 2, width 2: 7 processes), each
# process allocating and leaking one block; one dump per process.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run fork --min-dumps 7 -- "$PROGS/stress_fork" 2 2
n=$(stress_dumps "$STRESS_DIR/dumps" | wc -l)
assert_eq "one dump per process of the fork tree" 7 "$n"
