# Stress: a fork tree without exec (depth 2, width 2: 7 processes), each
# process allocating and leaking one block; one dump per process.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run fork --min-dumps 7 -- "$PROGS/stress_fork" 2 2
n=$(stress_dumps "$STRESS_DIR/dumps" | wc -l)
assert_eq "one dump per process of the fork tree" 7 "$n"
# Leaks of the merged tree: tree() leaked 1002 bytes in the root and 1001 in
# each of its two children (the leaves leak nothing).
stress_fact "leaks by tree() over all processes" mem "tuple(map(sum, zip(*[(s['blocks'], s['bytes']) for s in d['leaks']['stacks'] if s['frames'] and s['frames'][0]['function'] == 'tree'])))" "(3, 3004)"
