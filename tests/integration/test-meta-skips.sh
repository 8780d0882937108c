# A test that cannot run here must say so as a skip, never pass: every test
# CTest knows exits 77 to skip (SKIP_RETURN_CODE 77 on each), unit programs
# run through run-unit.sh (a skipped cmocka case: 77), lib.sh's skip() exits
# 77, and no test script exits 0 right after a skip message.
. "$SRCDIR/tests/lib.sh"

# Every registered test, whatever its kind (unit, script, fuzz), reads 77 as
# skipped, and a unit program with a skipped case exits 77.
ctest --test-dir "$BUILDDIR" --show-only=json-v1 >tests.json || fail "ctest --show-only failed"
python3 - tests.json >no-skip-code.txt <<'PY' || fail "could not read ctest's test list"
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
assert len(tests) > 20, "too few tests registered: %d" % len(tests)
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    if props.get("SKIP_RETURN_CODE") != 77:
        print(t["name"], props.get("SKIP_RETURN_CODE"))
    # A cmocka program exits 0 when a case skipped: run-unit.sh turns that into 77.
    if t["name"].startswith("unit/") and not any("run-unit.sh" in c for c in t.get("command", [])):
        print(t["name"], "not run through unit/run-unit.sh")
PY
[ ! -s no-skip-code.txt ] || { cat no-skip-code.txt >&2; fail "$(wc -l <no-skip-code.txt) tests lack SKIP_RETURN_CODE 77 or run-unit.sh"; }

# lib.sh's helper: status 77, and the reason on stderr.
(. "$SRCDIR/tests/lib.sh"; skip "no frobnicator here"; exit 3) >out.txt 2>err.txt
assert_eq "skip's exit status" 77 "$?"
assert_contains "skip says why" "SKIP: no frobnicator here" err.txt

# No script passes after saying it skips: an `exit 0` on the line of a skip
# message or within the two lines after it.
find "$SRCDIR/tests" "$SRCDIR/scripts" -name node_modules -prune -o -name '*.sh' -print | sort >scripts.txt
[ "$(wc -l <scripts.txt)" -gt 50 ] || fail "too few test scripts found: $(wc -l <scripts.txt)"
python3 - scripts.txt >passing-skips.txt <<'PY'
import re, sys
msg = re.compile(r"skip|not installed|is missing|missing;|not root|not available|unavailable|not permitted", re.I)
for path in open(sys.argv[1]).read().split():
    if path.endswith("/test-meta-skips.sh"):
        continue  # its own messages name the rule
    lines = open(path, errors="replace").read().split("\n")
    for i, line in enumerate(lines):
        if re.search(r"\bexit 0\b", line) and not line.lstrip().startswith("#"):
            near = lines[max(0, i - 2):i + 1]
            if any(msg.search(l) and not l.lstrip().startswith("#") for l in near):
                print("%s:%d: %s" % (path, i + 1, line.strip()))
PY
[ ! -s passing-skips.txt ] || { cat passing-skips.txt >&2; fail "scripts exit 0 after a skip message (use skip from tests/lib.sh)"; }
note "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tests"]))' tests.json) tests, $(wc -l <scripts.txt) scripts checked"
