# The agent supports x86-64 only: configuring for another processor stops at
# once, saying so, instead of failing obscurely later.
. "$SRCDIR/tests/lib.sh"

command -v cmake >/dev/null || skip "cmake is not installed"
cmake -S "$SRCDIR" -B arm -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
	-DFATHOM_TESTS=OFF -DFATHOM_SAMPLES=OFF >out.txt 2>err.txt
status=$?
assert_eq "configure's exit status for aarch64" 1 "$status"
tr -s ' \n' '  ' <err.txt >err1.txt
assert_contains "configure says why" "fathom supports x86-64 only (for now)" err1.txt
assert_contains "and names the processor" "'aarch64'" err1.txt
