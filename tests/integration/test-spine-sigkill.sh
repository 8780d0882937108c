# A target killed with SIGKILL mid-run leaves a dump that reads up to its
# last complete chunk; the report works and says it was truncated.
source "$SRCDIR/tests/lib.sh"

"$FATHOM" record -o k.fdump -- "$PROGS/spine_forever" pid.txt >/dev/null 2>err.txt &
fathom_pid=$!
for _ in $(seq 100); do [ -s pid.txt ] && break; sleep 0.05; done
[ -s pid.txt ] || fail "the target did not start"
sleep 1
kill -KILL "$(cat pid.txt)"
wait "$fathom_pid"
rc=$?
cat err.txt >&2
assert_eq "fathom record exits 128+SIGKILL" 137 "$rc"
[ -s k.fdump ] || fail "no dump left behind"
"$FATHOM" report k.fdump >report.txt 2>report.err || { cat report.err >&2; fail "report on the killed run failed"; }
sed 's/^/  | /' report.txt | head -12 >&2
cat report.err >&2
assert_contains "the damage is named" "truncated" report.txt
assert_contains "a warning on stderr" "k.fdump: truncated" report.err
top=$(awk '/by self time/ { getline; getline; print; exit }' report.txt)
case "$top" in *spine_forever*) ;; *) fail "expected spine_forever on top, got: $top" ;; esac
