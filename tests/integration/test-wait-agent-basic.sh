# The agent's waits (fathom record --wait), read raw from the dump: a
# 200 ms nanosleep in sleep_here is one WAIT of reason sleep there, 200 ms
# +/- 10 ms, weight its length; a thread blocked 300 ms on a pipe read in
# read_here is a WAIT of reason read on that descriptor, kind pipe; the
# HEADER carries the threshold. Without --wait: no WAIT record, threshold 0;
# the program's output is the same either way.
source "$SRCDIR/tests/lib.sh"
RDUMP="$PROGS/wait_rdump"

"$PROGS/wait_sleep" >plain.out 2>/dev/null || fail "the program fails on its own"
run "$FATHOM" record -q --wait -o w.fdump -- "$PROGS/wait_sleep" >w.out 2>w.err
cmp -s plain.out w.out || fail "the output changed under --wait: $(cat w.out)"
run "$RDUMP" w.fdump >w.txt
cat w.txt >&2
assert_eq "the header's threshold (default 1 ms)" "threshold 1000000" "$(head -1 w.txt)"

# WAIT tid reason fd_kind object wait_ns weight_ns time stack
sleep_line=$(awk '$1 == "WAIT" && $3 == 13 && $9 ~ /^sleep_here;main/' w.txt)
[ "$(printf '%s\n' "$sleep_line" | grep -c .)" = 1 ] || fail "not one sleep WAIT in sleep_here: '$sleep_line'"
set -- $sleep_line
# At least the 200 ms asked; on a loaded machine a sleep oversleeps (a run
# here slept 213 ms), so its length is judged against the program's own figure.
assert_ge "the sleep's length (ms)" 199 "$(($6 / 1000000))"
slept=$(awk '$1 == "slept" { print $2 }' w.err)
# The program's own clock also holds its wake-up (203 ms once for a 200 ms
# wait under load): the wait is at most that.
assert_le "the sleep's length against the program's own measure (ms)" "$((slept / 1000000 + 1))" "$(($6 / 1000000))"
assert_eq "a wait over the threshold weighs its length" "$6" "$7"

read_line=$(awk '$1 == "WAIT" && $3 == 7 && $9 ~ /^read_here;reader/' w.txt)
[ "$(printf '%s\n' "$read_line" | grep -c .)" = 1 ] || fail "not one read WAIT in read_here: '$read_line'"
set -- $read_line
assert_eq "the read's descriptor kind (pipe)" 3 "$4"
# The reader blocks from its start until the write after main's usleep.
usleep=$(awk '$1 == "usleep" { print $2 }' w.err)
assert_ge "the read's length (ms)" 290 "$(($6 / 1000000))"
assert_le "the read's length (ms)" "$((usleep / 1000000 + 50))" "$(($6 / 1000000))"

# A threshold of 500 ms: the 200 ms sleep is sampled (weight 500 ms when
# recorded), the 300 ms usleep too; nothing of it weighs its own length.
run "$FATHOM" record -q --wait-threshold 500ms -o t.fdump -- "$PROGS/wait_sleep" >/dev/null 2>&1
run "$RDUMP" t.fdump >t.txt
assert_eq "the header's threshold" "threshold 500000000" "$(head -1 t.txt)"
awk '$1 == "WAIT" && $6 < 500000000 && $7 != 500000000 { bad = 1 } END { exit bad }' t.txt ||
	fail "a wait under the threshold does not weigh the threshold: $(cat t.txt)"

run "$FATHOM" record -q -o n.fdump -- "$PROGS/wait_sleep" >/dev/null 2>&1
run "$RDUMP" n.fdump >n.txt
assert_eq "without --wait, the header's threshold" "threshold 0" "$(head -1 n.txt)"
assert_not_contains "without --wait, no WAIT" "WAIT" n.txt

"$FATHOM" record -q --wait-threshold 5parsecs -- true 2>bad.err && fail "a bad threshold was taken"
assert_contains "a bad threshold is said" "--wait-threshold takes a duration" bad.err
FATHOM_WAIT_THRESHOLD=soon "$FATHOM" record -q -o b.fdump -- "$PROGS/wait_sleep" >/dev/null 2>env.err
assert_contains "a bad FATHOM_WAIT_THRESHOLD is said" "FATHOM_WAIT_THRESHOLD='soon'" env.err
exit 0
