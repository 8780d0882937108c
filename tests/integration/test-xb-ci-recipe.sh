#!/usr/bin/env bash
# The GitHub Actions job of docs/CI.md, run as written: its steps are taken
# from the document itself, so the test follows the recipe when it changes.
# A small project (ci_work as bench.c, built by CMake) is committed twice, the
# second time with ci_parse 30% slower; the recipe checks out the base in
# another directory, builds both, records both, and runs its check and diffs.
# Exactly ci_parse must be flagged and the CPU verdict must fail, although
# every source path differs between the two checkouts; the memory verdict,
# on identical allocations, must pass.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/ci-lib.sh"

for tool in git cmake cc python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

# The steps of the job, one script each, in the document's order.
mkdir "$WORKDIR/steps"
python3 - "$SRCDIR/docs/CI.md" "$WORKDIR/steps" <<'EOF' || fail "could not read the job from docs/CI.md"
import re, sys
doc = open(sys.argv[1]).read()
job = re.search(r"```yaml\n(# \.github/workflows/perf\.yml.*?)```", doc, re.S).group(1)
lines = job.split("\n")
steps, name, i = [], None, 0
while i < len(lines):
    m = re.match(r"^(\s*)- name: (.*)$", lines[i])
    if m:
        name = m.group(2).strip()
    m = re.match(r"^(\s*)run: \|$", lines[i])
    if m and name:
        indent = len(m.group(1)) + 2
        body = []
        i += 1
        while i < len(lines) and (lines[i].strip() == "" or len(lines[i]) - len(lines[i].lstrip()) >= indent):
            body.append(lines[i][indent:])
            i += 1
        steps.append((name, "\n".join(body)))
        continue
    i += 1
for k, (name, body) in enumerate(steps):
    open("%s/%02d.sh" % (sys.argv[2], k), "w").write(body + "\n")
    open("%s/%02d.name" % (sys.argv[2], k), "w").write(name + "\n")
EOF
step_file() {
	local f
	for f in "$WORKDIR"/steps/*.name; do
		[ "$(cat "$f")" = "$1" ] && { echo "${f%.name}.sh"; return; }
	done
	fail "docs/CI.md has no step named '$1'"
}

# The project: the base commit, then the pull request that slows ci_parse.
repo=$WORKDIR/repo
mkdir "$repo"
cp "$SRCDIR/tests/integration/progs/ci_work.c" "$repo/bench.c"
cp "$SRCDIR/tests/integration/progs/jitter.h" "$repo/" # bench.c's
cat >"$repo/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(app C)
add_executable(bench bench.c)
EOF
export GIT_CONFIG_GLOBAL=$WORKDIR/gitconfig GIT_CONFIG_NOSYSTEM=1
git_q() { git -C "$repo" -c user.name=test -c user.email=test@example.com "$@" >/dev/null 2>&1 || fail "git $*"; }
git_q init -q
git_q add bench.c jitter.h CMakeLists.txt
git_q commit -q -m base
base_sha=$(git -C "$repo" rev-parse HEAD)
sed -i 's/long parse = slow ? 65 : 50;/long parse = 65;/' "$repo/bench.c"
grep -q 'long parse = 65;' "$repo/bench.c" || fail "the slowdown was not applied to bench.c"
git_q commit -q -a -m "slower parse"

# What GitHub provides, and the one value the job leaves to the project.
iter=$(ci_iterations 0.6)
export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$repo GITHUB_STEP_SUMMARY=$WORKDIR/summary.md
export GITHUB_PATH=$WORKDIR/github_path BENCH_ARGS="baseline $iter"
export PATH="$(dirname "$FATHOM"):$PATH"

# run_step NAME: runs the step's script as GitHub does (bash -e, in the
# checkout), with the base's checkout in the scratch directory instead of
# /tmp/base and the pull request's base commit filled in. Sets $rc.
run_step() {
	local script
	script=$(step_file "$1")
	sed -e "s|/tmp/base|$WORKDIR/base|g" -e "s|\${{ github.event.pull_request.base.sha }}|$base_sha|g" \
		"$script" >"$script.run"
	grep -q '\${{' "$script.run" && fail "step '$1' uses a GitHub expression this test does not fill in"
	rc=0
	(cd "$repo" && bash -e "$script.run") >"$WORKDIR/step.out" 2>"$WORKDIR/step.err" || rc=$?
	cp "$WORKDIR/step.out" "$WORKDIR/$(basename "$script" .sh).out"
}

run_step "Build the base and the pull request"
[ "$rc" = 0 ] || { tail -20 "$WORKDIR/step.err" >&2; fail "building the two checkouts failed ($rc)"; }
[ -x "$WORKDIR/base/build/bench" ] && [ -x "$repo/build/bench" ] || fail "the recipe built no bench"

run_step "Record"
[ "$rc" = 0 ] || { cat "$WORKDIR/step.err" >&2; fail "the Record step failed ($rc)"; }
for f in base.1 base.2 base.3 new.1 new.2 new.3 base.mem new.mem; do
	[ -s "$repo/perf/$f.fdump" ] || fail "the Record step wrote no perf/$f.fdump"
done

run_step "Budgets"
# ci_work leaks two blocks on purpose: --max-leaked 0 fails; the point here is
# that the step judges (0 or 1), not that it is given bad input (2).
[ "$rc" = 0 ] || [ "$rc" = 1 ] || { cat "$WORKDIR/step.err" >&2; fail "the Budgets step: bad input ($rc)"; }
[ -s "$repo/perf/check.xml" ] || fail "no perf/check.xml"

run_step "CPU against the base"
cpu_rc=$rc
cp "$WORKDIR/step.out" cpu.out
cp "$WORKDIR/step.err" cpu.err
python3 - "$repo/perf/diff-cpu.xml" <<'EOF' >failed.txt || { cat cpu.err >&2; fail "perf/diff-cpu.xml is not the expected JUnit report"; }
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
print(",".join(sorted(c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None)))
EOF
note "CPU step: exit $cpu_rc, failed: $(cat failed.txt)"
assert_eq "the functions the recipe's CPU diff flags" "cpu self: ci_parse" "$(cat failed.txt)"
assert_eq "the CPU step's exit status (a regression)" 1 "$cpu_rc"
# The annotation lands on the pull request's file, named relative to the checkout.
grep -E '^::error file=bench\.c,line=[0-9]+,title=fathom diff%3A cpu self%3A ci_parse::' cpu.out >/dev/null ||
	{ cat cpu.out >&2; fail "no annotation on bench.c for ci_parse"; }
assert_contains "the prefix the checkouts differ by is reported" "matched to $repo/" summary.md

run_step "Memory against the base"
mem_rc=$rc
cp "$WORKDIR/step.err" mem.err
[ "$mem_rc" = 0 ] || { cat mem.err >&2; python3 -m json.tool "$repo/perf/diff-mem.xml" 2>/dev/null | head; \
	cat "$repo/perf/diff-mem.xml" >&2; fail "the memory diff of identical allocations failed ($mem_rc)"; }

# The dumps keep their names without the builds (the artifact on another
# machine): both trees removed, the same verdict.
rm -rf "$WORKDIR/base/build" "$repo/build"
rc=0
(cd "$repo" && "$FATHOM" diff --format json -o "$WORKDIR/again.json" perf/base.[0-9].fdump -- perf/new.[0-9].fdump \
	--metric functions) 2>again.err || rc=$?
assert_eq "diff of the artifact's dumps without the builds" 1 "$rc"
assert_eq "flagged without the builds" ci_parse \
	"$(ci_json again.json '",".join(i["function"] for i in j["items"] if i["status"] == "FAIL" and i["section"] == "function")')"
assert_not_contains "no warning about missing files" "changed since" again.err

# An explicit --prefix-map replaces the guess: the right one gives the same verdict.
ci_diff map.json 1 --metric functions --prefix-map "$WORKDIR/base/=$repo/" \
	"$repo"/perf/base.[0-9].fdump -- "$repo"/perf/new.[0-9].fdump
assert_eq "flagged with --prefix-map" ci_parse \
	"$(ci_json map.json '",".join(i["function"] for i in j["items"] if i["status"] == "FAIL" and i["section"] == "function")')"
rc=0; "$FATHOM" diff --prefix-map nonsense "$repo"/perf/base.1.fdump "$repo"/perf/new.1.fdump 2>err.txt || rc=$?
assert_eq "--prefix-map without =" 2 "$rc"
assert_contains "says what it needs" "OLD=NEW" err.txt
