#!/usr/bin/env bash
# fathom diff on CPU: five recordings of the same program never alarm, in any
# pairing and with four merged against the fifth; a version whose ci_parse
# does 30% more work is caught every time (three recordings), and only
# ci_parse is named. Then the output formats: JUnit parsed by python's
# xml.etree, JSON, Markdown, GitHub annotations and the step summary.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/ci-lib.sh"

# About 1.5 s of CPU each, sampled on the wall clock at 2000 Hz: the CPU
# clock is capped at the kernel tick (250 Hz here), too few samples for a
# short test. ci_work is single-threaded, so no thread waits for another.
iter=$(ci_iterations 1.5)
rec=(--clock wall -F 2000)
note "ci_work: $iter iterations per recording"

# Two recordings at a time: one per core.
names=(base1 base2 base3 base4 base5 slow1 slow2 slow3)
for ((i = 0; i < ${#names[@]}; i += 2)); do
	pids=()
	for n in "${names[@]:i:2}"; do
		mode=baseline
		[[ $n == slow* ]] && mode=slow
		CI_WORK_TIMES=$n.times ci_record "$n" "$mode" "$iter" "${rec[@]}" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "a recording failed"
	done
done

# The default --alpha 0.001 bounds the false alarms of one diff to 0.1%; this
# test makes 15 diffs of the same program, so it asks for 0.01% each to keep
# its own chance of a spurious failure near 0.15%. The 30% slowdown still
# clears the stricter bar by a wide margin (z about 8 against 4).
alpha=(--alpha 0.0001)

# The largest |z| of any function in a report.
zmax() { ci_json "$1" 'max([abs(i["z"]) for i in j["items"] if i.get("z") is not None] or [0])'; }

same_z=()
for a in 1 2 3 4 5; do
	for b in 1 2 3 4 5; do
		[ "$a" -lt "$b" ] || continue
		ci_diff "same$a$b.json" 0 "${alpha[@]}" "base$a.fdump" "base$b.fdump"
		same_z+=("$(zmax "same$a$b.json")")
	done
	others=()
	for b in 1 2 3 4 5; do [ "$a" = "$b" ] || others+=("base$b.fdump"); done
	ci_diff "loo$a.json" 0 "${alpha[@]}" "${others[@]}" -- "base$a.fdump"
	same_z+=("$(zmax "loo$a.json")")
done
samples=$(ci_json same12.json 'int(j["base_samples"])')
zcrit=$(ci_json same12.json '"%.2f" % j["z_critical"]')
note "same program: $samples samples per recording, z must exceed $zcrit; largest |z| per pairing: ${same_z[*]}"

# own_change SLOW: ci_parse's change in odds (its share of the three
# functions' time) from the five bases to SLOW, by the program's own
# monotonic clock (the time each ran and waited for a CPU): 0.30 by
# construction, more when the machine preempted ci_parse more.
own_change() {
	cat base?.times | awk -v f="$1.times" '
		{ b[$1] += $2 }
		END {
			while ((getline line < f) > 0) { split(line, a, " "); n[a[1]] = a[2] }
			bo = b["ci_parse"] / (b["ci_hash"] + b["ci_sort"])
			no = n["ci_parse"] / (n["ci_hash"] + n["ci_sort"])
			printf "%.3f", no / bo - 1
		}'
}

slow_z=()
for s in 1 2 3; do
	own=$(own_change "slow$s")
	rc=0
	"$FATHOM" diff --format json -o "slow$s.json" "${alpha[@]}" base1.fdump base2.fdump base3.fdump base4.fdump \
		base5.fdump -- "slow$s.fdump" 2>/dev/null || rc=$?
	eff=$(ci_json "slow$s.json" '[i["change"] for i in j["items"] if i.get("function") == "ci_parse"][0]')
	z=$(ci_json "slow$s.json" '"%.1f" % [i["z"] for i in j["items"] if i.get("function") == "ci_parse"][0]')
	slow_z+=("$z (estimate $eff, own clock $own)")
	# A regression the program's own clock does not show is not asked of
	# the profile; one in CI read 13% with a z of 3.3 (the machine or the
	# profile? the clock says which now).
	if awk -v o="$own" 'BEGIN { exit !(o < 0.2) }'; then
		note "slow$s: ci_parse was only $own slower by the program's own clock: not judged"
		continue
	fi
	assert_eq "slow$s: diff exit status (ci_parse $own slower by its own clock)" 1 "$rc"
	names_failed=$(ci_json "slow$s.json" '",".join(sorted(i["function"] for i in j["items"] if i["section"] == "function" and i["status"] == "FAIL"))')
	assert_eq "slow$s: the functions named as regressions" ci_parse "$names_failed"
	# The odds ratio estimates the change directly; sampling noise moves it.
	# Delivered samples count the time ci_parse ran (0.30 by construction)
	# plus one sample per preemption, the program's monotonic clock the
	# time it ran and waited for a CPU: a loaded machine puts the estimate
	# between the two (CI: 0.31 with the clock at 0.49).
	lo=$(awk -v o="$own" 'BEGIN { print (o < 0.30 ? o : 0.30) - 0.15 }')
	hi=$(awk -v o="$own" 'BEGIN { print (o > 0.30 ? o : 0.30) + 0.15 }')
	assert_ge "slow$s: estimated slowdown of ci_parse (own clock $own)" "$lo" "$eff"
	assert_le "slow$s: estimated slowdown of ci_parse (own clock $own)" "$hi" "$eff"
	# One recording against one: shown as figures, not asserted, since a
	# single recording has fewer samples than the merged base.
	rc=0
	"$FATHOM" diff --format json -o "pair$s.json" "base$s.fdump" "slow$s.fdump" 2>/dev/null || rc=$?
	slow_z+=("(1:1 $(ci_json "pair$s.json" '"%.1f" % max([i["z"] for i in j["items"] if i.get("function") == "ci_parse" and i.get("z") is not None] or [0])') exit $rc)")
done
note "30% slower ci_parse against the 5 merged bases: z ${slow_z[*]}"

# Options pass through: a higher effect threshold lets the 30% through.
ci_diff hi.json 0 --func-threshold 80 base1.fdump base2.fdump -- slow1.fdump
ci_diff cpuonly.json 1 --metric functions --base base1.fdump --base base2.fdump --new slow1.fdump

# The formats, on one regression.
rc=0
"$FATHOM" diff --format junit -o slow.xml base1.fdump base2.fdump base3.fdump -- slow1.fdump 2>/dev/null || rc=$?
assert_eq "junit diff exit status" 1 "$rc"
python3 - slow.xml <<'EOF' || fail "the JUnit report is not what CI expects"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
cases = suite.findall("testcase")
failed = [c for c in cases if c.find("failure") is not None]
assert int(suite.get("tests")) == len(cases), (suite.get("tests"), len(cases))
assert int(suite.get("failures")) == len(failed) >= 1, (suite.get("failures"), len(failed))
names = [c.get("name") for c in failed]
assert "cpu self: ci_parse" in names, names
case = [c for c in failed if c.get("name") == "cpu self: ci_parse"][0]
assert case.get("file", "").endswith("ci_work.c") and int(case.get("line")) > 0, case.attrib
assert "ci_parse" in case.find("failure").get("message")
EOF

rc=0
"$FATHOM" diff --format markdown base1.fdump base2.fdump base3.fdump -- slow1.fdump >slow.md 2>/dev/null || rc=$?
assert_eq "markdown diff exit status" 1 "$rc"
assert_contains "markdown verdict" "### :x: fathom diff" slow.md
assert_contains "markdown table" "| metric | base | new | change | limit | verdict |" slow.md
assert_contains "markdown regression row" "| ci\_parse |" slow.md

rc=0
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORKDIR/summary.md GITHUB_WORKSPACE=$SRCDIR \
	"$FATHOM" diff base1.fdump base2.fdump -- slow1.fdump >gha.out 2>/dev/null || rc=$?
assert_eq "diff exit status under GitHub Actions" 1 "$rc"
grep -E '^::error file=tests/integration/progs/ci_work\.c,line=[0-9]+,title=fathom diff%3A cpu self%3A ci_parse::' gha.out >/dev/null ||
	{ cat gha.out >&2; fail "no GitHub annotation for ci_parse with its file and line"; }
assert_contains "text report" "fathom diff: FAIL" gha.out
assert_contains "step summary" "### :x: fathom diff" summary.md
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORKDIR/summary.md "$FATHOM" diff base1.fdump base2.fdump >gha2.out ||
	fail "same program under GitHub Actions: exit $?"
assert_not_contains "no annotation without a regression" "::error" gha2.out
assert_eq "step summary entries" 2 "$(grep -c '^### ' summary.md)"
assert_contains "second summary passes" ":white_check_mark: fathom diff: no regression" summary.md

# Bad input: exit 2 with a message naming the problem.
rc=0; "$FATHOM" diff base1.fdump 2>err.txt || rc=$?
assert_eq "one file" 2 "$rc"
rc=0; "$FATHOM" diff base1.fdump missing.fdump 2>err.txt || rc=$?
assert_eq "missing file" 2 "$rc"
assert_contains "missing file message" "missing.fdump" err.txt
rc=0; "$FATHOM" diff --treshold 5 base1.fdump base2.fdump 2>err.txt || rc=$?
assert_eq "misspelt option" 2 "$rc"
assert_contains "suggestion" "did you mean '--threshold'" err.txt
rc=0; "$FATHOM" diff --metric peak base1.fdump base2.fdump 2>err.txt || rc=$?
assert_eq "memory metric without allocation data" 2 "$rc"
assert_contains "says what to do" "--alloc" err.txt
echo "not a dump" >junk.fdump
rc=0; "$FATHOM" diff base1.fdump junk.fdump 2>err.txt || rc=$?
assert_eq "not a dump" 2 "$rc"
assert_contains "names the file" "junk.fdump" err.txt
