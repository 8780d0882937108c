#!/usr/bin/env bash
# fathom view's Waiting tab and waiting weight on a synthetic dump of known
# waits, in headless chromium (tests/js/test-view-waiting.mjs): the threads
# with their timelines, the contended mutex with its waiters' and holders'
# sites as fathom wait shows them, and the waiting hotspots.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"

"$PROGS/waitprof_gendump" w.fdump >facts.txt || fail "waitprof_gendump failed"
"$PROGS/waitprof_gendump" --no-wait plain.fdump >/dev/null || fail "waitprof_gendump --no-wait failed"
run "$FATHOM" view -q w.fdump -o w.html
run "$FATHOM" view -q plain.fdump -o plain.html
node "$VIEW_JS/test-view-waiting.mjs" --chromium "$VIEW_CHROMIUM" w.html facts.txt plain.html >browser.log 2>&1 || {
	sed 's/^/  | /' browser.log | tail -30 >&2
	fail "the viewer's Waiting tab disagrees with the facts"
}
grep -E '^# ' browser.log >&2
exit 0
