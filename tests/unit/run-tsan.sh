#!/bin/sh
# Runs a ThreadSanitizer test program (tests/unit/agent-sanitizers.cmake):
# as it is, else without address-space randomisation (the TSan of some
# toolchains cannot place its shadow memory under a randomised layout, and
# says so before running anything); exits 77 when it cannot run here at
# all. A race report fails the test (TSan exits 66).
prog=$1
cannot='unexpected memory mapping|FATAL: ThreadSanitizer|ThreadSanitizer: failed'
out=$("$prog" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -Eq "$cannot"; then
	if command -v setarch >/dev/null 2>&1; then
		echo "ThreadSanitizer cannot run with ASLR here; again under setarch -R"
		out=$(setarch "$(uname -m)" -R "$prog" 2>&1)
		rc=$?
	fi
	if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -Eq "$cannot"; then
		printf '%s\n' "$out"
		echo "ThreadSanitizer cannot run on this machine: skipped"
		exit 77
	fi
fi
printf '%s\n' "$out"
exit $rc
