#!/usr/bin/env bash
# fathom view's hotspot table says what the analyzer says, on the same dump:
# CPU rows equal fathom report --json's (self and total per function), memory
# rows fathom mem --json's sites added up per function (self at the allocation's
# site: in C++ the caller of operator new, not operator new), one thread's rows
# fathom report --tid's, and the page's own aggregation (only for a thread's
# CPU) equals the analyzer's table on every thread (tests/js/test-view-hotspots.mjs).
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"

hotspots() {
	node "$VIEW_JS/test-view-hotspots.mjs" --chromium "$VIEW_CHROMIUM" "$@" >hot.log 2>&1 || {
		sed 's/^/  | /' hot.log | tail -30 >&2
		fail "the viewer's hotspot table of $1 disagrees with the analyzer"
	}
	grep -E '^# ' hot.log >&2
}

# C, two threads, CPU and allocations.
run "$FATHOM" record -q --alloc -o w.fdump -- "$PROGS/view_work" >/dev/null
run "$FATHOM" view -q w.fdump -o w.html >/dev/null
run "$FATHOM" report w.fdump --json --top 0 >report.json
run "$FATHOM" mem w.fdump --json --top 0 >mem.json
tid=$(python3 -c 'import json,sys; print([t["tid"] for t in json.load(open(sys.argv[1]))["threads"] if t["name"] == "view-worker"][0])' report.json) ||
	fail "no view-worker thread in fathom report --json"
run "$FATHOM" report w.fdump --json --top 0 --tid "$tid" >report-tid.json
hotspots w.html report.json --mem mem.json --tid "$tid" report-tid.json

# C++: every allocation goes through operator new, which the analyzer passes
# over to find the site (the stack's end is not the site).
run "$FATHOM" record -q --alloc -o c.fdump -- "$PROGS/cxx_sites" >/dev/null
run "$FATHOM" view -q c.fdump -o c.html >/dev/null
run "$FATHOM" report c.fdump --json --top 0 >c-report.json
run "$FATHOM" mem c.fdump --json --top 0 >c-mem.json
hotspots c.html c-report.json --mem c-mem.json
echo "ok: fathom view's hotspot table equals fathom report and fathom mem"
