#!/usr/bin/env bash
# fathom view on a real recording: one self-contained HTML file whose data holds
# the recording's facts (the same totals as fathom report and fathom mem), which
# works in headless chromium (tests/js/view-test.mjs: no console errors or
# network requests, search, zoom, weights, threads, table, timeline, screenshot),
# a diff report of two recordings, and clear errors on bad input.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"

json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

run "$FATHOM" record -q --alloc -o w.fdump -- "$PROGS/view_work" >/dev/null
run "$FATHOM" report w.fdump --json >report.json
run "$FATHOM" mem w.fdump --json >mem.json

# The command: prints the path it wrote, and the file is one self-contained page.
# The title would end the data's script element if '<' were not escaped.
title='view_work </script><b>"&amp;'
out=$("$FATHOM" view -q --title "$title" w.fdump -o report.html) || fail "fathom view failed"
assert_eq "printed path" report.html "$out"
[ -s report.html ] || fail "report.html is empty"
! grep -Eaq '(https?|wss?|ftp)://' report.html || fail "report.html contains a URL: $(grep -Eao '(https?|wss?|ftp)://[^"]*' report.html | head -3)"
! grep -Eaiq '<(script|link|img|iframe)[^>]* (src|href)="[^d]' report.html || fail "report.html loads a resource"
assert_contains "inline data" '<script type="application/json" id="fathom-data">' report.html
assert_contains "embedded script" "window.fathomViewer" report.html
assert_not_contains "title escaped in the data" "</script><b>" report.html

# The data: the same facts as the text reports.
run "$FATHOM" view -q --data-only w.fdump >data.json
facts() { json data.json "$1"; }
P='r["profiles"][0]'
metric_total() { facts "[m['total'] for m in $P['metrics'] if m['id'] == '$1'][0]"; }
assert_eq "cpu total = report weight" "$(json report.json 'r["weight"]')" "$(metric_total cpu)"
assert_eq "alloc-calls total" "$(json mem.json 'r["totals"]["alloc_calls"]')" "$(metric_total alloc-calls)"
assert_eq "alloc-bytes total" "$(json mem.json 'r["totals"]["alloc_bytes"]')" "$(metric_total alloc-bytes)"
assert_eq "peak" "$(json mem.json 'r["peak"]["bytes"]')" "$(facts "$P['mem']['peak_bytes']")"
assert_eq "worker thread" "view-worker" "$(facts "[t['name'] for t in $P['threads'] if t['name'] == 'view-worker'][0]")"
# Weight under a function, each path once: view_grow leaked its 128 KiB block
# and holds the 8 MiB peak; view_hot_parse and view_hot_hash hold CPU.
under() {
	python3 - "$1" "$2" <<'PY'
import json, sys
p = json.load(open("data.json"))["profiles"][0]
up, func, names = p["nodes"]["up"], p["nodes"]["func"], p["funcs"]["name"]
parent = [i - u for i, u in enumerate(up)]
w = p["weights"][sys.argv[2]]
total = 0
node = -1
for k in range(0, len(w), 2):
    node += w[k]  # steps from the previous node
    i = node
    while i >= 0 and names[func[i]] != sys.argv[1]:
        i = parent[i]
    if i >= 0:
        total += w[k + 1]
print(total)
PY
}
assert_eq "view_grow leaked bytes" 131072 "$(under view_grow leaked-bytes)"
assert_eq "view_grow peak bytes" 8388608 "$(under view_grow peak-bytes)"
parse=$(under view_hot_parse cpu)
hash=$(under view_hot_hash cpu)
note "CPU samples under view_hot_parse $parse, view_hot_hash $hash"
[ "$parse" -gt "$hash" ] && [ "$hash" -gt 0 ] || fail "view_hot_parse ($parse) should outweigh view_hot_hash ($hash) > 0"
assert_eq "temporaries" "$(json mem.json 'r["totals"]["temp_calls"]')" "$(metric_total temp-calls)"

# In the browser.
view_browser_test report.html --search view_hot --zoom view_hot_parse --shot flame.png
[ -s flame.png ] || fail "no screenshot"

# The default output name, in the current directory.
mkdir sub && (cd sub && "$FATHOM" view -q ../w.fdump >path.txt) || fail "fathom view without -o failed"
assert_eq "default output" fathom-report.html "$(cat sub/path.txt)"
[ -s sub/fathom-report.html ] || fail "sub/fathom-report.html missing"

# Two recordings: the diff report.
run "$FATHOM" record -q --alloc -o w2.fdump -- "$PROGS/view_work" >/dev/null
run "$FATHOM" view -q --diff w.fdump w2.fdump -o diff.html >/dev/null
view_browser_test diff.html --expect-diff --search view_hot

# Bad input: exit 2, one line naming the file, and no report left behind.
echo "not a dump" >junk.fdump
"$FATHOM" view junk.fdump -o junk.html 2>err.txt
assert_eq "exit status on a non-dump" 2 "$?"
assert_contains "error names the file" "junk.fdump" err.txt
[ ! -e junk.html ] || fail "a report was written for bad input"
ls junk.html.tmp.* >/dev/null 2>&1 && fail "a temporary file was left behind"
"$FATHOM" view 2>err.txt
assert_eq "exit status without files" 2 "$?"
"$FATHOM" view --titel x w.fdump 2>err.txt
assert_eq "exit status on a mistyped option" 2 "$?"
assert_contains "suggestion" "did you mean '--title'" err.txt
"$FATHOM" view -q w.fdump -o no-such-dir/x.html 2>err.txt
assert_eq "exit status on an unwritable output" 1 "$?"
assert_contains "error names the output" "no-such-dir/x.html" err.txt
echo "ok: fathom view"
