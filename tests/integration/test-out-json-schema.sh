# Every JSON output (report --json in each --by and with --threads/--tid,
# mem --json exact and sampled, diff and check --format json passing and
# failing, view --data-only alone and as a diff, lines --json with and
# without allocations, every function and none named, wait --json of a
# synthetic dump of waits) of real recordings validates
# against its schema in docs/json-schema/ (described in docs/JSON.md). The
# schemas forbid keys they do not list, so a key added, renamed or dropped
# without the schema and the docs fails here.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/integration/ci-lib.sh"

ci_record mem leak 200 --alloc -F 997
ci_record base baseline 200 --alloc -F 997
ci_record sampled leak 200 --alloc-sample 4096 -F 997

tid=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["pid"])' < <("$FATHOM" report --json mem.fdump)) ||
	fail "report --json: no pid"
out() { # NAME COMMAND...: the command's JSON on stdout into NAME.json (exit 0 or 1)
	local name=$1 rc=0
	shift
	"$FATHOM" "$@" >"$name.json" 2>"$name.err" || rc=$?
	[ "$rc" -le 1 ] || { cat "$name.err" >&2; fail "fathom $* exited $rc"; }
	[ -s "$name.json" ] || fail "fathom $*: no output"
}
for by in function file line module; do
	out "report-$by" report --json --by "$by" mem.fdump
done
out report-threads report --json --threads mem.fdump base.fdump
out report-tid report --json --tid "$tid" --threads mem.fdump
out report-range report --json --from 10ms --to 1s mem.fdump
out mem-exact mem --json mem.fdump
out mem-sampled mem --json sampled.fdump
out mem-two mem --json mem.fdump base.fdump
out diff-fail diff --format json base.fdump mem.fdump
out diff-pass diff --format json base.fdump base.fdump
out check-fail check --format json mem.fdump --max-peak 1k --max-leaked 0
out check-pass check --format json mem.fdump --max-peak 1G
out view view --data-only mem.fdump
out view-diff view --data-only --diff base.fdump mem.fdump
out lines-mem lines --json mem.fdump
out lines-all lines --json --top 0 --no-symbols mem.fdump
out lines-sampled lines --json sampled.fdump
out lines-main lines --json mem.fdump main
"$PROGS/waitprof_gendump" waits.fdump >/dev/null || fail "waitprof_gendump failed"
out wait wait --json waits.fdump
out wait-tid wait --json --tid 101 --width 20 waits.fdump
out view-waits view --data-only waits.fdump

schema() { # SCHEMA FILE...
	python3 "$SRCDIR/tests/integration/json-schema.py" "$SRCDIR/docs/json-schema" "$@" ||
		fail "output that does not match docs/json-schema/$1"
}
schema report.json report-*.json
schema mem.json mem-*.json
schema compare.json diff-*.json check-*.json
schema viewer.json view.json view-diff.json view-waits.json
schema lines.json lines-*.json
schema wait.json wait*.json

# The checks mean something: the same process object everywhere, and a
# document that breaks its schema is refused.
python3 - report-function.json mem-exact.json view.json <<'PY' || fail "the process object differs between outputs"
import json, sys
r, m, v = (json.load(open(p)) for p in sys.argv[1:])
a, b, c = r["processes"][0], m["processes"][0], v["profiles"][0]["procs"][0]
assert a == b == c, (a, b, c)
assert a["alloc_mode"] == "exact" and a["ppid"] > 0, a
PY
sed 's/"alloc_mode"/"allocMode"/' view.json >renamed.json
! python3 "$SRCDIR/tests/integration/json-schema.py" "$SRCDIR/docs/json-schema" viewer.json renamed.json 2>/dev/null ||
	fail "the schema accepts a renamed key"
exit 0
