# Helpers for the CI regression tests (test-ci-*.sh): recording ci_work and
# reading fathom diff's JSON verdict.

# ci_iterations SECONDS: ci_work iterations that take about SECONDS of CPU here,
# measured once so that every recording of a test does the same work.
ci_iterations() {
	local per_s
	per_s=$("$PROGS/ci_work" calibrate) || fail "ci_work calibrate failed"
	awk -v r="$per_s" -v s="$1" 'BEGIN { n = int(r * s); if (n < 100) n = 100; print n }'
}

# ci_record NAME MODE ITER [RECORD OPTIONS...]: NAME.fdump of ci_work MODE ITER.
ci_record() {
	local name=$1 mode=$2 iter=$3
	shift 3
	"$FATHOM" record -q -o "$name.fdump" "$@" -- "$PROGS/ci_work" "$mode" "$iter" >"$name.out" 2>"$name.err" ||
		{ cat "$name.err" >&2; fail "recording $name ($mode) failed"; }
	[ -s "$name.fdump" ] || fail "recording $name wrote no dump"
}

# ci_diff OUT.json EXPECTED_STATUS fathom-diff-args...: runs fathom diff with
# --format json and checks its exit status.
ci_diff() {
	local out=$1 want=$2 rc=0
	shift 2
	"$FATHOM" diff --format json -o "$out" "$@" 2>"$out.err" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$out.err" >&2
		[ -f "$out" ] && python3 -m json.tool "$out" | head -60 >&2
		fail "fathom diff $*: exit status $rc, expected $want"
	fi
}

# ci_json FILE EXPR: evaluates a Python expression over the parsed JSON (j).
ci_json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" ||
		fail "reading $1"
}
