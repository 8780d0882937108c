# A real program: sqlite3 running a SQL script, under 'fathom record --alloc'
# and under heaptrack. Both count allocation calls (malloc, calloc, realloc,
# the aligned variants): the counts must agree within 0.5%, and sqlite3's
# output must be the same as without any profiler.
. "$SRCDIR/tests/lib.sh"

command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (scripts/test.sh installs it)"

cat >script.sql <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
INSERT INTO t SELECT i, i % 101, 'row-' || i || '-' || (i % 7), (i * 7919 % 10007) / 10.0 FROM n;
CREATE INDEX t_k ON t(k);
SELECT k, count(*), round(sum(v), 2) FROM t GROUP BY k ORDER BY sum(v) DESC LIMIT 3;
UPDATE t SET name = upper(name) WHERE k % 7 = 0;
DELETE FROM t WHERE id % 13 = 0;
SELECT count(*), round(avg(v), 3), max(length(name)), group_concat(substr(name, 1, 3), '') IS NOT NULL FROM t;
SELECT name FROM t WHERE name LIKE 'ROW-7%' ORDER BY id LIMIT 3;
EOF

sqlite3 :memory: <script.sql >plain.out 2>plain.err || fail "sqlite3 failed on its own"
run "$FATHOM" record -q --alloc --no-cpu -o sqlite.fdump -- sqlite3 :memory: <script.sql >fathom.out 2>fathom.err
cmp -s plain.out fathom.out || { diff plain.out fathom.out | head >&2; fail "sqlite3's output changed under fathom"; }
# fathom's own notes on stderr start with "fathom"; the program's must not change.
grep -v '^fathom' fathom.err >fathom.err.prog
cmp -s plain.err fathom.err.prog || { diff plain.err fathom.err.prog | head >&2; fail "sqlite3's stderr changed under fathom"; }
run "$FATHOM" mem --json sqlite.fdump >mem.json
fathom_calls=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["alloc_calls"])' mem.json)
note "fathom: $fathom_calls allocation calls"
[ "$fathom_calls" -gt 10000 ] || fail "implausibly few allocation calls: $fathom_calls"

if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
	skip "heaptrack is not installed: fathom's own checks passed, the comparison with heaptrack was not made"
fi
heaptrack -o heaptrack.sqlite sqlite3 :memory: <script.sql >heaptrack.out 2>heaptrack.err || fail "heaptrack failed: $(tail -3 heaptrack.err)"
file=$(ls heaptrack.sqlite.* 2>/dev/null | head -1)
[ -n "$file" ] || fail "heaptrack wrote no file"
heaptrack_print "$file" >heaptrack.txt 2>&1 || fail "heaptrack_print failed"
ht_calls=$(sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p' heaptrack.txt)
[ -n "$ht_calls" ] || { tail heaptrack.txt >&2; fail "no call count in heaptrack_print's output"; }
note "heaptrack: $ht_calls allocation calls"
tol=$(awk -v h="$ht_calls" 'BEGIN { printf "%d", h * 0.005 }')
assert_near "allocation calls, fathom vs heaptrack (0.5%)" "$ht_calls" "$fathom_calls" "$tol"
echo "ok: fathom $fathom_calls, heaptrack $ht_calls allocation calls"
