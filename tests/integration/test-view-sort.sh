#!/usr/bin/env bash
# The order fathom view's tables open in: the hotspot table by self weight (its
# first row fathom report's top self function, not _start or main), the diff
# table with the biggest regression first (not the biggest shrink), and a
# click on a column still sorts by it (tests/js/test-view-sort.mjs).
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"

run "$FATHOM" record -q -o w.fdump -- "$PROGS/view_work" >/dev/null
run "$FATHOM" report w.fdump --json >report.json
top=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["top_self"][0]["name"])' report.json) ||
	fail "no top function in fathom report --json"
note "fathom report's top self function: $top"
run "$FATHOM" view -q w.fdump -o report.html >/dev/null

# A diff whose changes are known: the recording against itself, where the new
# side's heaviest node of the top self function (view_spin) loses S samples
# and a new function beside it, view_sort_regressed, gains S/2. The biggest
# change is the shrink; the only growth is view_sort_regressed's.
run "$FATHOM" view -q --data-only --diff w.fdump w.fdump >diff.json
regression=$(
	TOP=$top python3 - <<'PY'
import json, os
d = json.load(open("diff.json"))
p = d["profiles"][1]
func, up = p["nodes"]["func"], p["nodes"]["up"]
names = p["funcs"]["name"]
pairs = p["weights"]["cpu"]
w, node = {}, -1
for k in range(0, len(pairs), 2):
    node += pairs[k]
    w[node] = pairs[k + 1]
parse = names.index(os.environ["TOP"])
n = max((i for i in w if i >= 0 and func[i] == parse), key=lambda i: w[i])
s = w[n] // 2
g = s // 2
assert g > 0, os.environ["TOP"] + " has too few samples (%d)" % w[n]
w[n] -= s
f = len(names)
for key in p["funcs"]:
    col = p["funcs"][key]
    col.append("view_sort_regressed" if key == "name" else col[parse] if key == "module" else None if key == "file" else 0)
new = len(func)
func.append(f)
up.append(new - (n - up[n]))  # a sibling of n
w[new] = g
out, prev = [], -1
for i in sorted(w):
    out += [i - prev, w[i]]
    prev = i
p["weights"]["cpu"] = out
for m in p["metrics"]:
    if m["id"] == "cpu":
        m["total"] += g - s
# The CPU hotspot table of the changed weights: self where a stack ends, a
# stack once in each of its functions' totals (the analyzer's rule for CPU).
parent = [i - u for i, u in enumerate(up)]
fself, ftotal = {}, {}
for i, wi in w.items():
    if i < 0:
        continue
    fself[func[i]] = fself.get(func[i], 0) + wi
    on, a = set(), i
    while a >= 0:
        on.add(func[a])
        a = parent[a]
    for x in on:
        ftotal[x] = ftotal.get(x, 0) + wi
rows, prev = [], -1
for x in sorted(ftotal):
    rows += [x - prev, fself.get(x, 0), ftotal[x]]
    prev = x
p["hotspots"]["cpu"] = rows
json.dump(d, open("diff.json", "w"))
print(g)
PY
) || fail "could not build the diff data"
VIEWER="$SRCDIR/viewer" node --input-type=module -e '
import fs from "node:fs";
import { assemble } from "'"$VIEW_JS"'/view-synth.mjs";
fs.writeFileSync("diff.html", assemble(process.env.VIEWER, JSON.parse(fs.readFileSync("diff.json", "utf8"))));
' || fail "could not assemble diff.html"

node "$VIEW_JS/test-view-sort.mjs" --chromium "$VIEW_CHROMIUM" report.html "$top" \
	diff.html view_sort_regressed "$regression" >sort.log 2>&1 || {
	sed 's/^/  | /' sort.log | tail -40 >&2
	fail "the viewer's tables do not open in the expected order"
}
grep -E '^# ' sort.log >&2
echo "ok: fathom view's tables open by self and by biggest regression"
