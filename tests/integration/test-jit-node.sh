# JIT frames of node: a CPU-bound script whose JavaScript function has a
# known name. With `fathom record --jit` (NODE_OPTIONS=--perf-basic-prof)
# and with node's own --perf-basic-prof-only-functions, that function is
# the top self function, named from the perf map the agent copied into the
# dump (also when node is ended by SIGTERM); without a map its code is a
# row per address ([unknown]+0x...). node's maps are removed at the end.
source "$SRCDIR/tests/lib.sh"
perf_maps_removed_at_exit
NODE=$(command -v node) || skip "node is not installed"
"$NODE" --v8-options 2>/dev/null | grep -q -- '--perf-basic-prof ' || skip "this node has no --perf-basic-prof"

cat >hot.js <<'EOF'
// About 0.8 s of CPU time, nearly all of it in fathomHotLoop.
function fathomHotLoop(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + i * i) % 1000003;
  return s;
}
let t = 0;
const start = process.cpuUsage();
for (;;) {
  t += fathomHotLoop(200000);
  const u = process.cpuUsage(start);
  if (u.user + u.system > 800000) break;
}
console.log(t > 0 ? "done" : "done0");
EOF

# The top self function and its share: "NAME|PERCENT".
top_self() {
	"$FATHOM" report --json "$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
f = r["top_self"][0]
print("%s|%.0f" % (f["name"], f["self_percent"]))'
}

run "$FATHOM" record -q --jit -o jit.fdump -- "$NODE" hot.js >out.txt
assert_contains "the script ran" "done" out.txt
"$FATHOM" report jit.fdump >jit.txt 2>jit.err || fail "fathom report failed"
assert_not_contains "warnings about the map" "perf-" jit.err
top=$(top_self jit.fdump)
note "--jit: top self $top"
case "${top%|*}" in *fathomHotLoop*) ;; *) sed 's/^/  | /' jit.txt | head -20 >&2; fail "--jit: the top self function is '${top%|*}', not fathomHotLoop" ;; esac
assert_ge "fathomHotLoop's self %" 40 "${top#*|}"

run "$FATHOM" record -q -o fn.fdump -- "$NODE" --perf-basic-prof-only-functions hot.js >/dev/null
top=$(top_self fn.fdump)
note "--perf-basic-prof-only-functions: top self $top"
case "${top%|*}" in *fathomHotLoop*) ;; *) fail "only-functions: the top self function is '${top%|*}', not fathomHotLoop" ;; esac

# Ended by SIGTERM (node's one-shot handler resets the terminal and raises
# it again): the dump is finished and the map recorded all the same.
sed 's/^console.log.*/process.kill(process.pid, "SIGTERM");/' hot.js >term.js
rc=0
"$FATHOM" record -q --jit -o term.fdump -- "$NODE" term.js >/dev/null 2>&1 || rc=$?
assert_eq "node killed by SIGTERM: the status" 143 "$rc"
"$FATHOM" report term.fdump >term.txt 2>term.err || fail "fathom report failed"
assert_contains "SIGTERM: the dump finished" "ended by SIGTERM" term.txt
top=$(top_self term.fdump)
note "SIGTERM: top self $top"
case "${top%|*}" in *fathomHotLoop*) ;; *) fail "SIGTERM: the top self function is '${top%|*}', not fathomHotLoop" ;; esac

# Without a map the same code is unnamed: what the names above are owed to.
run "$FATHOM" record -q -o plain.fdump -- "$NODE" hot.js >/dev/null
"$FATHOM" report plain.fdump >plain.txt 2>/dev/null || fail "fathom report failed"
assert_not_contains "a name without a map" "fathomHotLoop" plain.txt
echo "ok: node's JIT functions named from its perf map"
