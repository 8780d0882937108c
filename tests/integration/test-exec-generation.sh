# Generations and exec: a dump's generation counts the execs of its pid (not
# the numbered name the dump happened to get), a fork child of a fixed
# FATHOM_OUTPUT is generation 0, the program never sees the variable that
# carries the count across exec, and execs that fail on the way (a shell
# trying each PATH entry) leave the dump whole: its trailer's counts match
# what it holds and no stack goes undefined.
source "$SRCDIR/tests/lib.sh"

# dash: a command substitution forks; exec sh then exec env keep the pid.
# `exec sh` and `exec env` search PATH, so execs fail before one succeeds.
run "$FATHOM" record -q -o g.fdump -- sh -c 'x=$(echo hi); PATH=/nonexistent:$PATH; exec sh -c "exec env"' >env.out
assert_not_contains "the program's environment" "FATHOM_EXEC" env.out
"$FATHOM" report g.fdump* >report.txt 2>report.err || fail "fathom report failed"
# (A thread that waited for a CPU is the machine's load, not the execs'.)
grep -v "waited for a CPU" report.err >report.own
assert_not_contains "warnings after failed execs" "warning" report.own
"$FATHOM" report --json g.fdump* 2>/dev/null >report.json || fail "fathom report --json failed"
gens=$(python3 -c '
import json, sys
r = json.load(open("report.json"))
print(" ".join("%s:%d" % (p["exe"].rsplit("/", 1)[-1], p["generation"])
               for p in sorted(r["processes"], key=lambda p: (p["start_ms"], p["generation"]))))')
note "exe:generation by start: $gens"
assert_eq "images and generations" "dash:0 dash:0 dash:1 env:2" \
	"$(echo "$gens" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"

# The agent alone with a fixed name: the fork child takes fixed.1.fdump and
# is still its pid's first image.
FATHOM_OUTPUT=fixed.fdump LD_PRELOAD="$FATHOM_AGENT" sh -c 'x=$(echo hi); : "$x"' || fail "sh failed under the agent"
[ -f fixed.1.fdump ] || fail "no dump for the fork child (fixed.1.fdump)"
"$FATHOM" report --json fixed.fdump fixed.1.fdump 2>/dev/null >fixed.json || fail "fathom report failed"
fg=$(python3 -c '
import json
print(" ".join(str(p["generation"]) for p in json.load(open("fixed.json"))["processes"]))')
assert_eq "generations of a process and its fork child" "0 0" "$fg"
"$FATHOM" report fixed.fdump fixed.1.fdump 2>&1 | grep -q "after exec" && fail "a fork child is labelled (after exec)"
echo "ok: generations count execs; failed execs leave the dump whole"
