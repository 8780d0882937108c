# Issue 13 item 13: an allocator preloaded before the agent (jemalloc,
# tcmalloc; here librunalloc.so, a bump allocator of the test's own) takes
# the program's malloc calls past the agent's hooks. The recording says so
# instead of reporting a program that allocates nothing.
source "$SRCDIR/tests/lib.sh"

# Preloaded before the agent by hand.
LD_PRELOAD="$PROGS/librunalloc.so:$FATHOM_AGENT" FATHOM_ALLOC=exact FATHOM_OUTPUT=by.fdump \
	"$PROGS/runallocs" 2000 >out.txt 2>agent.err || fail "the program failed"
cat agent.err >&2
assert_contains "the program ran" "runallocs done" out.txt
assert_contains "the agent says it once" "librunalloc.so's, which comes before fathom's hooks" agent.err
"$FATHOM" mem by.fdump >mem.txt 2>mem.err || fail "fathom mem failed: $(cat mem.err)"
sed 's/^/  | /' mem.txt | head -12 >&2
assert_contains "mem says why there are no allocations" \
	"allocation calls 0: runallocs's allocator bypasses fathom (preloaded before it: librunalloc.so)" mem.txt
assert_not_contains "not 'made none'" "the program made none" mem.txt
"$FATHOM" report by.fdump >/dev/null 2>report.err || fail "fathom report failed"
assert_contains "report warns" "runallocs's allocator (librunalloc.so) bypasses fathom (preloaded before it)" report.err
"$FATHOM" mem --json by.fdump >mem.json 2>/dev/null || fail "fathom mem --json failed"
grep -q '"alloc_bypass": *"[^"]*librunalloc.so"' mem.json || fail "mem --json has no alloc_bypass"

# Through fathom record, with the allocator put first by the program's env.
run "$FATHOM" record --alloc -- env LD_PRELOAD="$PROGS/librunalloc.so" "$PROGS/runallocs" 2000 \
	>/dev/null 2>rec.err
cat rec.err >&2
assert_contains "record's summary says so" \
	"(runallocs's allocator, librunalloc.so, bypasses fathom: preloaded before it)" rec.err

# The agent first: every call is seen, nothing said.
LD_PRELOAD="$FATHOM_AGENT:$PROGS/librunalloc.so" FATHOM_ALLOC=exact FATHOM_OUTPUT=first.fdump \
	"$PROGS/runallocs" 2000 >/dev/null 2>first.err || fail "the program failed"
assert_not_contains "no note with the agent first" "bypass" first.err
"$FATHOM" mem --json first.fdump >first.json 2>/dev/null || fail "fathom mem failed"
python3 - first.json <<'PY' || fail "with the agent first, the allocations are not all seen"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["totals"]["alloc_calls"] >= 2000, m["totals"]
assert m["processes"][0]["alloc_bypass"] is None, m["processes"]
PY

# A non-PIE program that takes malloc's address exports a canonical PLT
# entry named malloc (node does): its calls still reach the hooks, no note.
cat >nopie.c <<'C'
#include <stdio.h>
#include <stdlib.h>
void *(*volatile alloc)(size_t) = malloc;
int main(void) { for (int i = 0; i < 100; i++) free(alloc(64)); puts("nopie done"); return 0; }
C
cc -O1 -fno-pic -no-pie -o nopie nopie.c || fail "cannot build nopie"
LD_PRELOAD="$FATHOM_AGENT" FATHOM_ALLOC=exact FATHOM_OUTPUT=nopie.fdump ./nopie >/dev/null 2>nopie.err ||
	fail "nopie failed"
assert_not_contains "a canonical PLT entry is not an allocator" "bypass" nopie.err
"$FATHOM" mem --json nopie.fdump >nopie.json 2>nopie.mem.err || fail "fathom mem failed"
assert_not_contains "no bypass warning" "bypasses" nopie.mem.err
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; assert t["alloc_calls"] >= 100, t' nopie.json ||
	fail "the non-PIE program's allocations were not all recorded"
exit 0
