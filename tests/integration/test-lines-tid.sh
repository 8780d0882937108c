# fathom lines --tid: one thread's lines only. The main thread burns CPU in
# lt_main_work, a worker in lt_worker_work: with the worker's id, its function
# is the one listed, holding nearly all of that thread's time, and the header
# says whose time the shares are of; an id the recording lacks is a usage error.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -q -F 999 -o rec.fdump -- "$PROGS/lines_threads" 150000000 >out.txt
tid=$(awk '/^worker_tid/ {print $2}' out.txt)
[ -n "$tid" ] || fail "no worker tid printed"
run "$FATHOM" lines --color never rec.fdump >all.txt 2>err.txt
assert_contains "both threads without --tid" "lt_main_work" all.txt
assert_contains "both threads without --tid" "lt_worker_work" all.txt
run "$FATHOM" lines --color never --tid "$tid" rec.fdump >one.txt 2>err.txt
sed 's/^/  | /' one.txt | head -20 >&2
assert_contains "the header names the thread" "thread $tid only: shares are of its CPU time" one.txt
assert_contains "the worker's function" "lt_worker_work" one.txt
assert_not_contains "not the main thread's" "lt_main_work" one.txt
# The worker's function holds nearly all of its thread's time (its "CPU:
# self N%" line; without the filter it is about half of the recording's).
share=$(grep -A1 -E "^lt_worker_work " one.txt | grep -oE "CPU: self [0-9.]+%" | grep -oE "[0-9.]+")
[ -n "$share" ] || fail "no self share of lt_worker_work"
assert_ge "lt_worker_work's share of the worker's time" 90 "$share"
rc=0
"$FATHOM" lines --tid 999999999 rec.fdump >/dev/null 2>bad.txt || rc=$?
assert_eq "an unknown thread is a usage error" 2 "$rc"
assert_contains "says which" "no thread 999999999" bad.txt
exit 0
