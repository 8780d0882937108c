# fathom mem --from/--to: a program with allocation bursts at known times
# (tl_phases: burst_a keeps 100 blocks of 10000 bytes at "a", burst_b 50
# blocks of 20000 bytes at "b", drop_a frees burst_a's at "d") shows for each
# range the live heap at its ends and exactly what it allocated and freed.
# Each time is put on the recording's clock (tl-lib.sh): main starts later
# than the recording, by more than the 0.15 s margins below under load.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/tl-lib.sh"

run "$FATHOM" record -q --alloc -o ph.fdump -- "$PROGS/tl_phases" >ph.out
off=$(tl_offset ph.out ph.fdump)
at() { tl_at ph.out "$off" "$1" "$2"; }
note "events: $(tr '\n' ' ' <ph.out); main at $off s of the recording"

# Between a and b: nothing allocated or freed; burst_a's 100 blocks live at
# both ends.
run "$FATHOM" mem --from "$(at a 0.15)" --to "$(at b -0.15)" ph.fdump >quiet.txt
assert_contains "nothing in a quiet range" "allocated in the range: 0 calls, 0 B; freed: 0 calls, 0 B" quiet.txt
grep -E '^  live heap at .*: 9[0-9][0-9] KiB in 10[0-9] blocks$' quiet.txt >/dev/null ||
	{ cat quiet.txt >&2; fail "the quiet range does not hold burst_a's live blocks"; }

# Around b: burst_b's 50 blocks of 20000 bytes, nothing freed.
run "$FATHOM" mem --from "$(at b -0.15)" --to "$(at b 0.15)" ph.fdump >b.txt
assert_contains "burst_b's range" "allocated in the range: 50 calls, 977 KiB; freed: 0 calls, 0 B" b.txt
grep -E '^ +977 KiB +50 +0 B +\+977 KiB  burst_b ' b.txt >/dev/null ||
	{ cat b.txt >&2; fail "burst_b is not the range's site"; }
assert_not_contains "burst_a in burst_b's range" "burst_a" b.txt

# Around d to the end: burst_a's blocks freed, nothing of it allocated.
run "$FATHOM" mem --from "$(at d -0.15)" ph.fdump >d.txt
grep -E '^ +0 B +0 +977 KiB +-977 KiB  burst_a ' d.txt >/dev/null ||
	{ cat d.txt >&2; fail "the range of drop_a does not show burst_a's blocks freed"; }
assert_not_contains "burst_b in drop_a's range" "burst_b" d.txt

# A range after the end: one line.
"$FATHOM" mem --from 60s ph.fdump >late.out 2>late.err && fail "mem --from 60s succeeded"
assert_contains "a range after the end" "the recording ends before that time" late.err
echo "ok: mem --from/--to shows each burst in its range only"
