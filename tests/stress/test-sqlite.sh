# Stress: sqlite3 reading a SQL script on stdin into a WAL database file, with
# one failing statement (exit 1, a message on stderr).
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

stress_run sqlite --stdin "$SRCDIR/tests/stress/inputs/stress.sql" -- sqlite3 stress.db
assert_eq "exit status of the target" 1 "$STRESS_RC"
# The databases the two runs wrote hold the same rows.
for d in plain rec; do
	sqlite3 "$STRESS_DIR/$d/stress.db" 'SELECT count(*), sum(price) FROM item;' >"$STRESS_DIR/$d.rows" || fail "cannot read $d/stress.db"
done
assert_eq "rows written under fathom" "$(cat "$STRESS_DIR/plain.rows")" "$(cat "$STRESS_DIR/rec.rows")"
