# Stress: every stack a sample or an allocation names is defined in the dump
# (issue 13, item 6). Waves of short-lived threads meet the same new stacks
# together, and the process exits while threads still sample new stacks
# (hundreds of threads alive, so the writer's last round is long): a stack
# made by one thread and named by another ring, by a pending sample, or by
# the CPU time credited at exit must still be written.
. "$SRCDIR/tests/lib.sh"

prog=$PROGS/stk_race
check() { # NAME ARGS...: records, then reads the dump
	local name=$1
	shift
	rm -f "$name".fdump*
	timeout -k 5 120 "$FATHOM" record "$@" -o "$name.fdump" -- "$prog" 10 8 16 4 200 >"$name.out" 2>"$name.err" ||
		fail "$name: record failed ($?): $(tail -3 "$name.err")"
	assert_contains "$name: the program's output" "done 10 waves of 8 threads" "$name.out"
	"$FATHOM" report "$name".fdump* >"$name.report" 2>&1 || fail "$name: report failed"
	if grep -q "never defined" "$name.report"; then
		grep "never defined\|^total" "$name.report" | sed 's/^/  | /' >&2
		fail "$name: the dump names stacks it does not define"
	fi
	note "$name: $(grep -m1 'samples' "$name.report")"
}
for i in 1 2 3; do
	check cpu$i -F 1000
done
check alloc1 -F 1000 --alloc
check sampled1 -F 1000 --alloc-sample 4096
