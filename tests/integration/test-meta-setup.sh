# The README's two commands: the demo installs only what building and running
# fathom needs, the test command adds the test-only packages, and .ci/run runs
# the README's test command. scripts/format-check tells a misformatted file.
. "$SRCDIR/tests/lib.sh"

setup=$SRCDIR/scripts/setup.sh
# Never run a setup.sh that would take --list for an install.
grep -q -- '--list' "$setup" || fail "scripts/setup.sh has no --list"
bash "$setup" --list >demo.txt || fail "setup.sh --list failed"
bash "$setup" --test --list >test.txt || fail "setup.sh --test --list failed"
for p in build-essential cmake pkg-config libdw-dev libelf-dev libzstd-dev zlib1g-dev; do
	assert_contains "the demo installs $p" "$p" demo.txt
	assert_contains "the tests install $p" "$p" test.txt
done
for p in chromium golang-go valgrind clang libclang-rt-14-dev libcmocka-dev libunwind-dev heaptrack debuginfod libc6-dbg; do
	grep -qx -- "$p" demo.txt && fail "the demo installs $p, which only the tests need"
	assert_contains "the tests install $p" "$p" test.txt
done
grep -qx 'nodejs\|npm' demo.txt && fail "the demo installs node"

# The README's commands, and what each script runs.
grep -q '^bash scripts/demo.sh ' "$SRCDIR/README.md" || fail "README.md has no demo command"
grep -q '^bash scripts/test.sh ' "$SRCDIR/README.md" || fail "README.md has no test command"
grep -Eq '^bash scripts/setup.sh$' "$SRCDIR/scripts/demo.sh" || fail "demo.sh does not run setup.sh without --test"
grep -Eq '^bash scripts/setup.sh --test$' "$SRCDIR/scripts/test.sh" || fail "test.sh does not run setup.sh --test"
grep -Eq '^exec bash scripts/test.sh$' "$SRCDIR/.ci/run" || fail ".ci/run does not run the README's test command"
grep -Eq '^\[ .*\] \|\| bash scripts/format-check$' "$SRCDIR/scripts/test.sh" || fail "the test command does not run the format check"
for p in clang-format; do assert_contains "the tests install $p" "$p" test.txt; done

# format-check on a repository of its own: one file as .clang-format wants, one not.
command -v git >/dev/null || skip "git is not installed: format-check not tried"
command -v clang-format >/dev/null || command -v clang-format-14 >/dev/null ||
	skip "clang-format is not installed: format-check not tried"
mkdir -p repo/scripts && cd repo || fail "no repo directory"
cp "$SRCDIR/.clang-format" . && cp "$SRCDIR/scripts/format-check" scripts/
printf 'int good(int a)\n{\n\treturn a + 1;\n}\n' >good.c
printf 'int bad(int a) {   return a+1; }\n' >bad.c
git init -q . && git add . || fail "git init failed"
bash scripts/format-check >out.txt 2>err.txt
assert_eq "format-check's status on a misformatted file" 1 "$?"
assert_contains "it names the file" "bad.c" err.txt
assert_not_contains "and only that one" "good.c" err.txt
run bash scripts/format-check --fix
bash scripts/format-check >out.txt 2>err.txt || { cat err.txt >&2; fail "format-check fails after --fix"; }
