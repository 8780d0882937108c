# Issue 13 item 10: the dumps of one `fathom record` run share a run id and a
# name that one glob selects, also through a shell-script wrapper that execs
# the program (a pyenv shim: the exec'd image used to be fathom.PID.fdump.1,
# which `fathom.*.fdump` missed); a command given no file reads the latest
# run; merging dumps of different runs warns.
source "$SRCDIR/tests/lib.sh"

cat >shim.sh <<SH
#!/bin/sh
exec "$PROGS/runallocs" 100 150 "\$@"
SH
chmod +x shim.sh

# Run 1: the shim (sh) and the program it execs.
run "$FATHOM" record -- ./shim.sh >out1.txt 2>err1.txt
cat err1.txt >&2
assert_contains "the program ran" "runallocs done" out1.txt
assert_contains "two dumps" "2 dumps:" err1.txt
run1=$(sed -n 's/.*fathom\.\([0-9-]*\)\.\*\.fdump.*/\1/p' err1.txt)
[ -n "$run1" ] || fail "the summary names no run glob"
# One glob selects both images of the run, the exec'd one included.
n=$(ls fathom.*.fdump | wc -l)
assert_eq "dumps that fathom.*.fdump selects" 2 "$n"
n=$(ls fathom."$run1".*.fdump | wc -l)
assert_eq "dumps that fathom.$run1.*.fdump selects" 2 "$n"
ls fathom.*.fdump?* 2>/dev/null | grep -v '\.fdump$' && fail "a dump whose name does not end in .fdump"

# Run 2, in the same second or not: its own run id, its own names.
run "$FATHOM" record -- "$PROGS/runallocs" 10 150 >/dev/null 2>err2.txt
cat err2.txt >&2
run2=$(ls fathom.*.fdump | sed -n 's/^fathom\.\([0-9-]*\)\..*/\1/p' | sort -u | grep -vx -- "$run1")
[ -n "$run2" ] || fail "the second run has no run id of its own"
assert_eq "dumps of the second run" 1 "$(ls fathom."$run2".*.fdump | wc -l)"

# No file: the latest run alone, said on stderr, without a merge warning.
"$FATHOM" report --json >latest.json 2>latest.err || fail "fathom report with no file failed: $(cat latest.err)"
cat latest.err >&2
assert_contains "the latest run is named" "the latest run: fathom.$run2.*.fdump (1 dump)" latest.err
assert_not_contains "no merge warning" "different runs" latest.err
python3 - latest.json "$run2" <<'PY' || fail "the latest run's report holds another run's processes"
import json, sys
procs = json.load(open(sys.argv[1]))["processes"]
assert len(procs) == 1, procs
assert "runallocs" in procs[0]["exe"], procs
assert procs[0]["run_id"] == sys.argv[2], procs
PY
for cmd in mem flame "export --format folded" "check --max-peak 1G"; do
	"$FATHOM" $cmd >/dev/null 2>cmd.err
	assert_contains "fathom $cmd with no file" "the latest run: fathom.$run2.*.fdump" cmd.err
done

# The old glob merges both runs: said.
"$FATHOM" report fathom.*.fdump >both.txt 2>both.err || fail "fathom report of both runs failed"
cat both.err >&2
assert_contains "merging two runs warns" "these dumps come from 2 different runs" both.err
assert_contains "each run named" "$run1: 2 dumps" both.err
# One run's glob: no warning.
"$FATHOM" report fathom."$run1".*.fdump >one.txt 2>one.err || fail "fathom report of run 1 failed"
assert_not_contains "one run, no warning" "different runs" one.err
# diff's sides are repetitions of separate runs: no warning there.
"$FATHOM" diff fathom."$run1".*.fdump -- fathom."$run2".*.fdump >/dev/null 2>diff.err
assert_not_contains "diff does not warn" "different runs" diff.err
exit 0
