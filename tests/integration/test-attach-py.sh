# fathom record --pid on a running Python program (Debian's python3): the
# agent's Python support starts late too, so the report names the Python
# functions (module.function, file:line), the hot one with most of the time.
source "$SRCDIR/tests/integration/attach-lib.sh"
source "$SRCDIR/tests/integration/py/py-lib.sh"
PY=$(py_base)
cat >spin.py <<'PYEOF'
import signal, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
def hot_python_function(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
def outer():
    while True:
        hot_python_function(200000)
print("ready", flush=True)
outer()
PYEOF
"$PY" spin.py >target.out 2>target.err &
TPID=$!
for _ in $(seq 100); do grep -q ready target.out && break; sleep 0.05; done
sleep 0.5
"$FATHOM" record -F 500 --pid "$TPID" --duration 1.5 -o py.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid failed"; }
"$FATHOM" report --json py.fdump >r.json || fail "fathom report failed"
"$FATHOM" report py.fdump >r.txt
sed 's/^/  | /' r.txt | head -16 >&2
read -r hot outer < <(python3 - r.json <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
t = {e["name"]: e["total_percent"] for e in r["top_total"]}
print(t.get("spin.hot_python_function", 0), t.get("spin.outer", 0))
PYEOF
)
note "spin.hot_python_function $hot% total, spin.outer $outer%"
assert_ge "the hot Python function's share" 80 "$hot"
assert_ge "its Python caller's share" 80 "$outer"
assert_contains "Python file and line" "spin.py:" r.txt
attach_stop
