# go tool pprof -list on fathom's pprof export agrees with fathom lines on
# the same recording, line by line: pprof's flat and cum in sampling
# periods are fathom's self and total weight (CPU), and in allocation calls
# its self and total calls, for a function, its inlined helper and main.
source "$SRCDIR/tests/lib.sh"
command -v go >/dev/null || skip "go is not installed"
go tool pprof -h >/dev/null 2>&1 || skip "go tool pprof does not run"

run "$FATHOM" record --alloc -F 999 -o demo.fdump -- "$PROGS/lines_demo" 100000000 >/dev/null 2>err.txt
run "$FATHOM" export demo.fdump --format pprof -o demo.pb.gz
# compare FUNCTION PPROF_INDEX FATHOM_SELF_KEY FATHOM_TOTAL_KEY
compare() {
	local fn=$1 index=$2 self=$3 total=$4
	"$FATHOM" lines demo.fdump "^$fn\$" --json >"$fn.json" 2>err.txt || { cat err.txt >&2; fail "fathom lines $fn failed"; }
	go tool pprof -sample_index="$index" -list "^$fn\$" demo.pb.gz >"$fn-$index.txt" 2>"$fn-$index.err" ||
		{ cat "$fn-$index.err" >&2; fail "go tool pprof -list $fn failed"; }
	python3 - "$fn.json" "$fn-$index.txt" "$self" "$total" <<'PY' || fail "pprof -list $fn ($index) and fathom lines disagree"
import json, re, sys
d = json.load(open(sys.argv[1]))
self_key, total_key = sys.argv[3], sys.argv[4]
ours = {}
for f in d["files"]:
    for fn in f["functions"]:
        for l in fn["lines"]:
            if l[self_key] or l[total_key]:
                ours[l["line"]] = (l[self_key], l[total_key])
theirs = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s+(\S+)\s+(\S+)\s+(\d+):", line)
    if m:
        flat, cum = (0 if v == "." else int(v) for v in m.group(1, 2))
        if flat or cum:
            theirs[int(m.group(3))] = (flat, cum)
print("%s: %d lines with figures; fathom %s, pprof %s" % (sys.argv[1], len(ours), sorted(ours.items()), sorted(theirs.items())), file=sys.stderr)
assert ours, "fathom shows no line with figures"
assert ours == theirs, "they differ"
PY
}
compare lines_work samples self_weight total_weight
compare lines_mix samples self_weight total_weight
compare main samples self_weight total_weight
compare lines_alloc alloc_objects self_alloc_calls alloc_calls
compare main alloc_objects self_alloc_calls alloc_calls
exit 0
