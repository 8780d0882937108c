# Bad input gets one clear line and the right exit status.
source "$SRCDIR/tests/lib.sh"

expect() { # expect STATUS NEEDLE -- command...
	local want=$1 needle=$2
	shift 3
	"$@" >out.txt 2>err.txt
	local rc=$?
	[ "$rc" = "$want" ] || { cat err.txt >&2; fail "$*: exit $rc, expected $want"; }
	assert_contains "$*" "$needle" err.txt
	[ "$(wc -l <err.txt)" -le 3 ] || { cat err.txt >&2; fail "$*: more than a short message"; }
}

expect 2 "did you mean '--threads'?" -- "$FATHOM" report --treads x.fdump
expect 2 "did you mean '--alloc-sample'?" -- "$FATHOM" record --alloc-sampel 4k -- true
# (an unknown command also prints the command list, so no line limit here)
"$FATHOM" reprot x.fdump >out.txt 2>err.txt
assert_eq "unknown command exit status" 2 "$?"
assert_contains "unknown command" "did you mean 'report'?" err.txt
expect 2 "missing.fdump: No such file or directory" -- "$FATHOM" report missing.fdump
echo "hello" >text.fdump
expect 2 "text.fdump: not a fathom dump" -- "$FATHOM" report text.fdump
: >empty.fdump
expect 2 "empty.fdump: empty file, not a fathom dump" -- "$FATHOM" report empty.fdump
printf 'FATHOMDP\011\000\000\000\000\000\000\000' >future.fdump
expect 2 "format 9.0 is newer than this fathom" -- "$FATHOM" report future.fdump
expect 127 "fathom record: no-such-command-xyz: command not found" -- "$FATHOM" record -- no-such-command-xyz
printf 'not a program\n' >notexec.sh
chmod -x notexec.sh
expect 126 "Permission denied" -- "$FATHOM" record -- ./notexec.sh
expect 2 "--by takes function, file, line or module" -- "$FATHOM" report --by fn x.fdump
expect 2 "no command given" -- "$FATHOM" record
expect 2 "no dump file given" -- "$FATHOM" report
# A garbage file after a valid header is damage, not a crash.
printf 'FATHOMDP\001\000\000\000\000\000\000\000' >g.fdump
head -c 5000 /dev/urandom >>g.fdump
"$FATHOM" report g.fdump >out.txt 2>err.txt
rc=$?
[ "$rc" -lt 128 ] || fail "fathom report crashed on garbage (exit $rc)"
assert_contains "garbage named" "g.fdump:" err.txt
