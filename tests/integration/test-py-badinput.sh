# Bad input (issue 15): an interpreter fathom does not know, one stripped of
# the symbols it reads, a debug or free-threaded build, one whose frames do
# not lead to code objects, and one whose frames fault at every walk (a
# guard fault storm). A fake CPython (progs/libfakepy*.c), loaded with
# dlopen by fakepy_host, plays each: the recording gives one clear line on
# stderr, said once, the program's output and exit status unchanged, and a
# profile of native frames (fakepy_host's spin_native). The storm runs with
# allocations recorded and samples at 10,000 Hz, so that the malloc hooks'
# walks and the sampling handler's fault and nest.
source "$SRCDIR/tests/lib.sh"
host=$PROGS/fakepy_host
# mode library seconds line [record options]
cases=(
	"new libfakepy.so 0.5 Python 3.14.0 is not one fathom knows"
	"ft libfakepy.so 0.5 is a free-threaded build, which fathom does not support"
	"nooffsets libfakepy.so 0.5 has no debug offsets"
	"debug libfakepy_debug.so 0.5 is a debug build, whose layout fathom does not know"
	"stripped libfakepy_stripped.so 0.5 lacks the symbols fathom reads"
	"layout libfakepy.so 1 its frames do not lead to code objects (a build fathom does not know?)"
	"storm libfakepy.so 1.5 its frames faulted too often"
)
for c in "${cases[@]}"; do
	read -r mode lib secs line <<<"$c"
	opts=(-F 999)
	[ "$mode" = storm ] && opts=(-F 10000 --clock wall --alloc)
	note "== $mode ($lib): ${opts[*]}"
	rc=0
	FAKEPY_MODE=$mode "$FATHOM" record "${opts[@]}" -o $mode.fdump -- "$host" "$PROGS/$lib" "$secs" \
		>out.txt 2>err.txt || rc=$?
	[ "$rc" -eq 0 ] || { cat err.txt >&2; fail "$mode: exit status $rc"; }
	assert_eq "$mode: the program's output" "spun yes" "$(cat out.txt)"
	assert_contains "$mode: one line saying why" "$line" err.txt
	assert_eq "$mode: said once" 1 "$(grep -cF -- "$line" err.txt)"
	assert_eq "$mode: lines about Python" 1 "$(grep -c 'Python\|native frames only' err.txt)"
	note "$(grep -F -- "$line" err.txt)"
	"$FATHOM" report --top 5 $mode.fdump >report.txt 2>&1 || fail "$mode: fathom report failed"
	assert_contains "$mode: native frames" "spin_native" report.txt
done
