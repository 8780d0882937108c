# Exact facts from a synthetic dump with known contents (stress_gendump: 8
# threads taking turns, address reuse, reallocs across threads, 2 million
# events in many chunks): `fathom mem --json` must report exactly what was
# written, and `fathom report --json` exactly the samples.
. "$SRCDIR/tests/lib.sh"

"$PROGS/stress_gendump" --events 2000000 --stacks 2000 --live 4000 --threads 8 --chunk 65536 --seed 11 \
	"$WORKDIR/syn.fdump" >"$WORKDIR/facts" || fail "stress_gendump failed"
fact() { sed -n "s/^$1=//p" "$WORKDIR/facts"; }
run "$FATHOM" mem --json "$WORKDIR/syn.fdump" >"$WORKDIR/mem.json" 2>"$WORKDIR/mem.err"
[ ! -s "$WORKDIR/mem.err" ] || { cat "$WORKDIR/mem.err" >&2; fail "warnings on a clean synthetic dump"; }
run "$FATHOM" report --json "$WORKDIR/syn.fdump" >"$WORKDIR/report.json"
get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }
assert_eq "allocation calls" "$(fact alloc_calls)" "$(get "$WORKDIR/mem.json" "d['totals']['alloc_calls']")"
assert_eq "bytes allocated" "$(fact alloc_bytes)" "$(get "$WORKDIR/mem.json" "d['totals']['alloc_bytes']")"
assert_eq "frees" "$(fact frees)" "$(get "$WORKDIR/mem.json" "d['totals']['frees']")"
assert_eq "peak bytes" "$(fact peak_bytes)" "$(get "$WORKDIR/mem.json" "d['peak']['bytes']")"
assert_eq "leaked bytes" "$(fact leaked_bytes)" "$(get "$WORKDIR/mem.json" "d['leaks']['bytes']")"
assert_eq "leaked blocks" "$(fact leaked_blocks)" "$(get "$WORKDIR/mem.json" "d['leaks']['blocks']")"
assert_eq "samples" "$(fact samples)" "$(get "$WORKDIR/report.json" "d['samples']")"
