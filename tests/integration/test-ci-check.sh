#!/usr/bin/env bash
# fathom check: budgets hold (exit 0), are exceeded (exit 1), or the input is
# bad (exit 2, one line naming the problem); reports in every format.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/ci-lib.sh"

ci_record mem baseline 200 --alloc -F 997
ci_record cpu baseline 200

# ci_work: a 1 MiB table, 2 leaked blocks of 100 bytes, 200 temporary 256-byte buffers.
check() { # EXPECTED_STATUS ARGS...
	local want=$1 rc=0
	shift
	"$FATHOM" check "$@" >check.out 2>check.err || rc=$?
	[ "$rc" = "$want" ] || { cat check.out check.err >&2; fail "fathom check $*: exit $rc, expected $want"; }
}
check 0 mem.fdump --max-peak 2M --max-leaked 200 --max-leaked-blocks 2 --max-alloc-calls 1k --max-temp-calls 250
assert_contains "verdict" "fathom check: ok, all budgets hold" check.out
check 1 mem.fdump --max-leaked 199
assert_contains "names the budget" "Leaked bytes 200 B exceeds the budget of 199 B" check.out
check 1 mem.fdump --max-peak 1M --max-leaked-blocks 2
assert_contains "peak over" "max-peak" check.out
check 1 mem.fdump --max-temp-calls 100
check 1 mem.fdump --max-alloc-bytes 10K
check 0 cpu.fdump --max-cpu 1h --max-samples 10M
check 1 cpu.fdump --max-samples 1

# Formats: JUnit for the CI's test report, JSON for scripts.
check 1 mem.fdump --max-leaked 0 --max-peak 2M --format junit -o check.xml
python3 - check.xml <<'PY' || fail "the JUnit report is not what CI expects"
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = {c.get("name"): c for c in suite.findall("testcase")}
assert set(cases) == {"max-leaked", "max-peak"}, cases
assert cases["max-leaked"].find("failure") is not None
assert cases["max-peak"].find("failure") is None
assert suite.get("failures") == "1" and suite.get("tests") == "2", suite.attrib
PY
check 1 mem.fdump --max-leaked 0 --format json -o check.json
assert_eq "json verdict" fail "$(ci_json check.json 'j["verdict"]')"
assert_eq "json leaked value" 200 "$(ci_json check.json 'j["items"][0]["value"]')"
GITHUB_ACTIONS=true check 1 mem.fdump --max-leaked 0
assert_contains "annotation" "::error title=fathom check%3A max-leaked::Leaked bytes 200 B exceeds" check.out

# Bad input.
check 2 cpu.fdump --max-peak 64M
assert_contains "memory budget without allocation data" "record with 'fathom record --alloc'" check.err
check 2 mem.fdump --max-peak 12Q
assert_contains "bad size" "--max-peak needs a size" check.err
check 2 mem.fdump --max-leakd 0
assert_contains "suggestion" "did you mean '--max-leaked'" check.err
check 2 mem.fdump
assert_contains "no budget" "no budget given" check.err
check 2 nothere.fdump --max-peak 1M
assert_contains "unreadable file" "nothere.fdump" check.err
check 2 mem.fdump --max-peak 1M --format yaml
