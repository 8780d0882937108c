# Shared by the tests of tl_phases (test-timeline-*, test-view-timeline):
# its step times on the recording's clock. The program counts from main, the
# recording from the agent's start, which comes earlier by an amount that
# grows with the machine's load (tenths of a second at load 15); the
# program's CLOCK_REALTIME at main ("t0") against the recording's
# (start_ms, taken at the same instant as its time 0) gives that amount.

# tl_offset OUT DUMP: seconds from the recording's start to main's.
tl_offset() {
	local ms
	ms=$("$FATHOM" report --json "$2" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["start_ms"])') ||
		fail "no start time in $2"
	awk -v ms="$ms" '$1 == "t0" { off = $2 - ms / 1000; if (off < 0 || off > 30) exit 1; printf "%.4f", off; found = 1 }
		END { if (!found) exit 1 }' "$1" || fail "tl_phases gave no start time (t0) in $1"
}

# tl_at OUT OFFSET KEY DELTA: the recording's time of step KEY plus DELTA
# seconds, as --from/--to take it ("1.234s").
tl_at() {
	awk -v k="$3" -v o="$2" -v d="$4" '$1 == k { printf "%.3fs", $2 + o + d }' "$1"
}
