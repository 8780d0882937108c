# A Python fathom does not know (pyenv's 3.10): one clear line on stderr,
# the program's output unchanged, a profile of native frames.
source "$SRCDIR/tests/integration/py/py-lib.sh"
py=/root/.pyenv/versions/3.10.13/bin/python3
[ -x "$py" ] || { echo "SKIP: no Python 3.10 here" >&2; exit 77; }
"$py" "$PYDIR/split.py" 2000000 | sed 's/truth.*/truth/' >plain.txt || fail "the program failed alone"
"$FATHOM" record -o old.fdump -- "$py" "$PYDIR/split.py" 2000000 >out.txt 2>err.txt || { cat err.txt >&2; fail "fathom record failed"; }
sed -i 's/truth.*/truth/' out.txt
cmp -s plain.txt out.txt || fail "output changed"
assert_contains "one line saying why" "a Python older than 3.11" err.txt
n=$(grep -c "older than 3.11" err.txt)
assert_eq "said once" 1 "$n"
"$FATHOM" report old.fdump >report.txt 2>&1 || fail "fathom report failed"
assert_contains "native frames" "_PyEval_EvalFrameDefault" report.txt
