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
assert_contains "the process without the agent is named" "ran without the agent: $PROGS/runallocs (pid" unset.txt
# A failed exec is not a process that ran without the agent.
"$FATHOM" record -- env -u LD_PRELOAD /nonexistent/prog >/dev/null 2>fail.txt
cat fail.txt >&2
assert_not_contains "a failed exec is not named" "without the agent" fail.txt

# posix_spawnp with an environment of the caller's: its child is glibc's
# exec, which no exec wrapper sees.
cat >spawn.c <<'C'
#include <spawn.h>
#include <sys/wait.h>
int main(int argc, char **argv)
{
	char *env[] = { argv[1], 0 }, *av[] = { argv[2], "1000", "200", 0 };
	pid_t pid;
	int st;
	if (posix_spawnp(&pid, argv[2], 0, 0, av, env))
		return 1;
	waitpid(pid, &st, 0);
	return WEXITSTATUS(st);
}
C
cc -o spawn spawn.c || fail "cannot build spawn"
rm -f ./*.fdump*
run "$FATHOM" record --alloc -- ./spawn LD_PRELOAD="$PROGS/librunnoop.so" "$PROGS/runallocs" >/dev/null 2>spawn.err
cat spawn.err >&2
assert_contains "the spawned program kept the agent" "2 dumps:" spawn.err
"$FATHOM" mem --json fathom.*.fdump >spawn.json 2>/dev/null || fail "fathom mem failed"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; assert t["alloc_calls"] >= 1000, t' spawn.json ||
	fail "the spawned program's allocations were not recorded"
run "$FATHOM" record -- ./spawn FOO=1 "$PROGS/runallocs" >/dev/null 2>spawn2.err
cat spawn2.err >&2
assert_contains "a spawn without LD_PRELOAD is named" "ran without the agent: $PROGS/runallocs (pid" spawn2.err
exit 0
