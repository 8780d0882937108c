#!/usr/bin/env bash
# The report says when samples are sparse (issue 13, item 5's residual): CPU
# timers fire at the kernel's tick and later on a loaded or virtualised
# machine, and then each sample stands for much more CPU than the period
# asked, which moves a long call's end into the short call after it. Two
# synthetic dumps (99 Hz) that differ only in what each sample stands for:
# 8 periods (80.8 ms) is named in the header, 1 period is not.
source "$SRCDIR/tests/lib.sh"

gen() { "$PROGS/stress_gendump" --events 200000 --sample-every 100 "$@" >/dev/null || fail "stress_gendump failed"; }
gen --sample-weight 8 sparse.fdump
gen dense.fdump
"$FATHOM" report --top 1 sparse.fdump >sparse.txt 2>&1 || fail "fathom report failed: $(cat sparse.txt)"
"$FATHOM" report --top 1 dense.fdump >dense.txt 2>&1 || fail "fathom report failed: $(cat dense.txt)"
assert_contains "sparse samples are named" "samples came every 80.8 ms of CPU on average, not every 10.1 ms" sparse.txt
assert_not_contains "dense samples are not" "samples came every" dense.txt
