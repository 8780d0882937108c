# fathom report --from/--to (and flame --from/--to, through the same filter):
# a program whose phases are known in time (phase_a until "switch", phase_b
# after it; tl_phases prints when) shows in each range its own phase only,
# and the whole run both; a bad time or an empty range is one clear line.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/tl-lib.sh"

run "$FATHOM" record -q -F 500 -o ph.fdump -- "$PROGS/tl_phases" >ph.out
grep -q '^switch ' ph.out || fail "tl_phases did not say when it switched phases"
# The switch on the recording's clock (tl-lib.sh: main starts later than
# the recording); 50 ms either side of it stays clear of it.
off=$(tl_offset ph.out ph.fdump)
to_a=$(tl_at ph.out "$off" switch -0.05)
from_b=$(tl_at ph.out "$off" switch 0.05)
note "phase A until $(tl_at ph.out "$off" switch 0) of the recording (main at $off s), then phase B"

selfs() { # FILE: "name samples" of every row by self
	python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["top_self"]:
    print(r["name"], r["self_samples"])' "$1"
}
samples_of() { awk -v f="$1" '$1 == f { print $2 }' "$2"; }

run "$FATHOM" report --json --top 0 ph.fdump >all.json
selfs all.json >all.txt
assert_ge "phase_a samples in the whole run" 5 "$(samples_of phase_a all.txt)"
assert_ge "phase_b samples in the whole run" 5 "$(samples_of phase_b all.txt)"

run "$FATHOM" report --json --top 0 --to "$to_a" ph.fdump >a.json
selfs a.json >a.txt
note "until $to_a: $(tr '\n' ' ' <a.txt)"
assert_ge "phase_a samples in phase A's range" 5 "$(samples_of phase_a a.txt)"
assert_eq "phase_b in phase A's range" "" "$(samples_of phase_b a.txt)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["range"]; assert r["from_ns"] == 0 and "to_ns" in r, r' a.json ||
	fail "report --json does not say the range"

run "$FATHOM" report --json --top 0 --from "$from_b" ph.fdump >b.json
selfs b.json >b.txt
note "from $from_b: $(tr '\n' ' ' <b.txt)"
assert_ge "phase_b samples in phase B's range" 5 "$(samples_of phase_b b.txt)"
assert_eq "phase_a in phase B's range" "" "$(samples_of phase_a b.txt)"

# The two ranges together hold every timed sample of the run but those of
# the 100 ms around the switch.
na=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' a.json)
nb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' b.json)
nall=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' all.json)
note "samples: $na + $nb of $nall"
assert_le "samples of both ranges" "$nall" "$((na + nb))"

# The text header says the range.
run "$FATHOM" report --from "$from_b" ph.fdump >b.txt.out
assert_contains "the header says the range" "time range: from $(echo "$from_b" | tr -d s) s to the end" b.txt.out

# flame through the same filter: folded stacks of phase B only.
run "$FATHOM" flame --folded --from "$from_b" ph.fdump >b.folded
grep -q 'phase_b' b.folded || fail "flame --from: no phase_b"
! grep -q 'phase_a' b.folded || fail "flame --from: phase_a is in phase B's range"

# Bad input: one line, exit 2.
"$FATHOM" report --from soon ph.fdump >bad.out 2>bad.err && fail "report --from soon succeeded"
[ "$(wc -l <bad.err)" = 1 ] || fail "report --from soon: not one line: $(cat bad.err)"
"$FATHOM" report --from 2s --to 1s ph.fdump >bad.out 2>bad.err && fail "report --from 2s --to 1s succeeded"
assert_contains "an empty range" "--to must be later than --from" bad.err
echo "ok: report and flame --from/--to keep each phase's samples only"
