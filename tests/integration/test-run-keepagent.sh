# Issue 13 item 13: `fathom record -- env LD_PRELOAD=other.so prog` used to
# drop the agent silently (1 dump, 0 samples). The agent appends itself to
# an LD_PRELOAD that an exec replaces (keeping its settings), and a process
# exec'd with LD_PRELOAD removed is named in the summary.
source "$SRCDIR/tests/lib.sh"

# env replaces LD_PRELOAD, then execs the program: both images are recorded.
run "$FATHOM" record --alloc -- env LD_PRELOAD="$PROGS/librunnoop.so" "$PROGS/runallocs" 1000 200 \
	>out.txt 2>err.txt
cat err.txt >&2
assert_contains "the program ran" "runallocs done" out.txt
assert_contains "env and the program each wrote a dump" "2 dumps:" err.txt
"$FATHOM" report --json fathom.*.fdump >report.json 2>/dev/null || fail "fathom report failed"
"$FATHOM" mem --json fathom.*.fdump >mem.json 2>/dev/null || fail "fathom mem failed"
python3 - report.json mem.json "$PROGS/librunnoop.so" <<'PY' || fail "the exec'd program was not recorded"
import json, sys
r = json.load(open(sys.argv[1]))
procs = [p for p in r["processes"] if "runallocs" in p["exe"]]
assert len(procs) == 1, r["processes"]
names = {e["name"]: e["self_percent"] for e in r["top_self"]}
print("# runallocs_spin:", names.get("runallocs_spin"), file=sys.stderr)
assert names.get("runallocs_spin", 0) > 50, names
m = json.load(open(sys.argv[2]))
print("# allocation calls:", m["totals"]["alloc_calls"], file=sys.stderr)
assert m["totals"]["alloc_calls"] >= 1000, m["totals"]
PY
# The program's own preload kept its place, before the agent.
cat >showenv.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("LD_PRELOAD=%s\n", getenv("LD_PRELOAD")); return 0; }
C
cc -o showenv showenv.c || fail "cannot build showenv"
run "$FATHOM" record -q -o env.fdump -- env LD_PRELOAD="$PROGS/librunnoop.so" ./showenv >env.txt 2>/dev/null
cat env.txt >&2
grep -q "^LD_PRELOAD=$PROGS/librunnoop.so:.*libfathom.so$" env.txt || fail "the agent was not appended after the program's preload"

# LD_PRELOAD removed: the program meant it; the summary names the process.
run "$FATHOM" record -- env -u LD_PRELOAD "$PROGS/runallocs" 10 >/dev/null 2>unset.txt
cat unset.txt >&2
assert_contains "the process without the agent is named" "ran without the agent: pid" unset.txt
assert_contains "its program" "runallocs with LD_PRELOAD removed" unset.txt
# A failed exec is not a process that ran without the agent.
"$FATHOM" record -- env -u LD_PRELOAD /nonexistent/prog >/dev/null 2>fail.txt
cat fail.txt >&2
assert_not_contains "a failed exec is not named" "without the agent" fail.txt
exit 0
