#!/usr/bin/env bash
# fathom export --format speedscope on a real recording: it validates against
# speedscope's published schema, loads in speedscope's own importer (headless
# chromium), and its totals are fathom report's and fathom mem's.
source "$SRCDIR/tests/lib.sh"
JS=$SRCDIR/tests/js
[ -d "$JS/node_modules/speedscope" ] || fail "tests/js/node_modules missing: run scripts/setup.sh (npm ci in tests/js)"
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

run "$FATHOM" record --alloc -o hot.fdump -- "$PROGS/export_hot" 600 300 100 >/dev/null
run "$FATHOM" report hot.fdump --json >report.json
run "$FATHOM" mem hot.fdump --json >mem.json
run "$FATHOM" export hot.fdump --format speedscope -o hot.json

node "$JS/check-speedscope.mjs" hot.json --browser --expect-frame export_hot_a --expect-frame export_hot_c >check.txt
rc=$?
cat check.txt >&2
[ $rc -eq 0 ] || fail "speedscope check failed ($rc)"
assert_contains "loaded by speedscope" "ok: speedscope's importer loaded hot.json in chromium" check.txt

total() { sed -n "s/^ok: profile \"$1\" ([a-z]*): [0-9]* stacks, total //p" check.txt; }
# CPU in nanoseconds: the report's periods at the recording's rate (each stack rounded to 1 ns).
hz=$(json report.json 'r["processes"][0]["hz"]')
ns() { awk -v w="$1" -v hz="$hz" 'BEGIN { printf "%.0f", w * 1e9 / hz }'; }
assert_near "cpu total" "$(ns "$(json report.json 'r["weight"]')")" "$(total 'cpu: all threads')" 10
assert_eq "alloc-bytes total" "$(json mem.json 'r["totals"]["alloc_bytes"]')" "$(total alloc-bytes)"
assert_eq "alloc-calls total" "$(json mem.json 'r["totals"]["alloc_calls"]')" "$(total alloc-calls)"
assert_eq "leaked-bytes total" "$(json mem.json 'r["leaks"]["bytes"]')" "$(total leaked-bytes)"
assert_eq "peak-bytes total" "$(json mem.json 'r["peak"]["bytes"]')" "$(total peak-bytes)"

# One profile per thread for CPU; the worker's holds export_hot_c and not export_hot_a.
wtid=$(json report.json '[t["tid"] for t in r["threads"] if t["name"] == "export-worker"][0]')
wcpu=$(ns "$(json report.json "[t['weight'] for t in r['threads'] if t['tid'] == $wtid][0]")")
assert_near "worker profile total" "$wcpu" "$(total "cpu: export-worker ($wtid)")" 10
python3 - hot.json "$wtid" <<'EOF' || fail "worker thread's speedscope profile"
import json, sys
d = json.load(open(sys.argv[1]))
names = [f["name"] for f in d["shared"]["frames"]]
p = [p for p in d["profiles"] if p["name"] == "cpu: export-worker (%s)" % sys.argv[2]][0]
used = {names[i] for s in p["samples"] for i in s}
assert "export_hot_c" in used and "export_hot_a" not in used, used
# Stacks are root first: the worker's start_thread comes before export_hot_c.
for s in p["samples"]:
    if names[s[-1]] == "export_hot_c":
        assert "start_thread" in [names[i] for i in s[:-1]], [names[i] for i in s]
# Frames carry their source file and line.
a = [f for f in d["shared"]["frames"] if f["name"] == "export_hot_a"][0]
assert a["file"].endswith("export_hot.c") and a["line"] > 0, a
EOF

# --weight picks one profile; --tid one thread.
run "$FATHOM" export hot.fdump --format speedscope --weight leaked -o leaked.json
assert_eq "one profile" 1 "$(json leaked.json 'len(r["profiles"])')"
assert_eq "its name" leaked-bytes "$(json leaked.json 'r["profiles"][0]["name"]')"
assert_eq "its unit" bytes "$(json leaked.json 'r["profiles"][0]["unit"]')"
run "$FATHOM" export hot.fdump --format speedscope --tid "$wtid" -o worker.json
assert_eq "one thread's profile" "cpu: export-worker ($wtid)" "$(json worker.json 'r["profiles"][0]["name"]')"
node "$JS/check-speedscope.mjs" worker.json >/dev/null || fail "worker.json does not validate"
note "ok: speedscope validates, loads in speedscope, and agrees with report and mem"
