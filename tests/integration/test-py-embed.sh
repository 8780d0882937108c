# A program that loads libpython3.11 with dlopen after the agent started
# (RTLD_LOCAL: not in the global scope): the interpreter is found then, and
# the embedded Python function is a frame of the profile with its line.
# And `python3 -c` run by a shell: found when the exec'd image starts.
source "$SRCDIR/tests/integration/py/py-lib.sh"
rc=0
"$PROGS/py_embed" >plain.txt 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { echo "SKIP: no libpython3.11" >&2; exit 77; }
[ "$rc" -eq 0 ] || { cat plain.txt >&2; fail "the embedding program failed alone"; }
"$FATHOM" record -F 999 -o embed.fdump -- "$PROGS/py_embed" >out.txt 2>err.txt || { cat err.txt >&2; fail "fathom record failed"; }
cmp -s plain.txt out.txt || fail "output changed"
"$FATHOM" report --by line --top 0 embed.fdump >lines.txt 2>&1 || fail "fathom report failed"
assert_contains "the embedded function's hot line" "<string>:4  embedded_spin" lines.txt
assert_contains "the module code, named as Python names it" "<string>:6  <module>" lines.txt

# python3 -c run by a shell (the agent starts again in the exec'd image):
# the shell's dump and python3's, merged, name the function and its line.
py=$(py_base) || exit 77
cat >shell.sh <<EOS
$py -c '
def hot(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s
print(hot(3000000))
'
echo shell done
EOS
"$FATHOM" record -F 999 -o sh.fdump -- sh shell.sh >out.txt 2>err.txt || { cat err.txt >&2; fail "fathom record (shell) failed"; }
assert_eq "the shell's output" "8999994 shell done" "$(tr '\n' ' ' <out.txt | sed 's/ $//')"
"$FATHOM" report --by line --top 0 sh.fdump sh.fdump.* >sh.txt 2>&1 || fail "fathom report (shell) failed"
grep -qE "<string>:[45]  hot$" sh.txt || { cat sh.txt >&2; fail "python3 -c under a shell: no line of hot in the profile"; }
