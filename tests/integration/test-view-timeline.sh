#!/usr/bin/env bash
# The viewer's timeline (tests/js/test-view-timeline.mjs, headless chromium):
# a program whose phases are known in time (tl_phases: phase_a, then phase_b
# after "switch", a snapshot every second); the heap curve and the snapshot's
# line are drawn; dragging over each phase's range filters the flame graph
# and the hotspot table to that phase's function, and clearing restores both.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/view-lib.sh"
source "$SRCDIR/tests/integration/tl-lib.sh"

run "$FATHOM" record -q -F 500 --alloc --snapshot-every 1s -o ph.fdump -- "$PROGS/tl_phases" >ph.out
grep -q '^switch ' ph.out || fail "tl_phases did not say when it switched phases"
# The switch on the recording's clock, as the timeline counts (tl-lib.sh).
off=$(tl_offset ph.out ph.fdump)
sw=$(awk -v o="$off" '$1 == "switch" { printf "%d", ($2 + o) * 1e9 }' ph.out)
note "the switch at $sw ns of the recording (main at $off s)"
run "$FATHOM" view -q ph.fdump -o ph.html >/dev/null
# The first snapshot's time: its line must be drawn there.
snap=$("$FATHOM" report --json ph.fdump | python3 -c '
import json, sys
print([m["time_ns"] for m in json.load(sys.stdin)["processes"][0]["marks"] if m["what"] == "snapshot"][0])') ||
	fail "the recording has no snapshot"
node "$VIEW_JS/test-view-timeline.mjs" --chromium "$VIEW_CHROMIUM" ph.html "$sw" "$snap" >tl.log 2>&1 || {
	sed 's/^/  | /' tl.log | tail -40 >&2
	fail "the viewer's timeline does not filter by time"
}
grep -E '^# ' tl.log >&2
echo "ok: a range chosen on the timeline filters the flame graph and the table"
