# A library loaded with RTLD_DEEPBIND binds to libc's malloc and free past
# the preloaded hooks; the agent points its slots at the hooks, so its
# strdup/free and malloc/free pairs are all seen and nothing leaks (as
# heaptrack reports it), with lazy and immediate binding, and also in a
# dependency that the DEEPBIND library brings along. In a dlmopen namespace
# (a libc of its own) the library is left alone and runs as without the
# agent.
source "$SRCDIR/tests/lib.sh"

for how in lazy now; do
	run "$FATHOM" record --alloc -o "$how.fdump" -- "$PROGS/mod_deep" "$PROGS/libmod_deep.so" "$how" 1000 \
		>"$how.out" 2>err.txt
	cat err.txt >&2
	assert_eq "$how: program output" "36000" "$(cat "$how.out")"
	"$FATHOM" mem --json "$how.fdump" >"$how.json" || fail "$how: fathom mem failed"
	python3 - "$how.json" <<'PY' || fail "$how: the DEEPBIND library's allocations are not all seen"
import json, sys
mem = json.load(open(sys.argv[1]))
got = {}
for s in mem["sites"]:
    f = (s["function"] or "").split(".")[0]
    if f.startswith("mod_deep_"):
        g = got.setdefault(f, [0, 0, 0])
        g[0] += s["calls"]; g[1] += s["bytes"]; g[2] += s["leaked_bytes"]
print(got, "warnings:", mem["warnings"])
# strdup (35 bytes) and malloc(10) per call; malloc(24) through pointers.
assert got.get("mod_deep_work") == [2000, 45000, 0], got
assert got.get("mod_deep_indirect") == [1000, 24000, 0], got
# (A thread that waited for a CPU is the machine's load, not the module's.)
assert not [w for w in mem["warnings"] if "waited for a CPU" not in w], mem["warnings"]
PY
done

# A dependency loaded with the DEEPBIND library shares its scope: built here
# (the library must name it in DT_NEEDED).
if command -v cc >/dev/null; then
	mkdir -p dep
	cat >dep/dep.c <<'C'
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) int modd_dep_work(void)
{
	char *s = strdup("a string of thirty-four characters");
	char *p = malloc(10);
	__asm__ volatile("" : : "r"(p), "r"(s) : "memory");
	free(p);
	free(s);
	return 36;
}
C
	cat >dep/top.c <<'C'
int modd_dep_work(void);
int mod_deep_work(void) { return modd_dep_work(); }
int mod_deep_indirect(void) { return 0; }
C
	run cc -g -O1 -shared -fPIC -o dep/libmodd_dep.so dep/dep.c
	run cc -shared -fPIC -o dep/libmodd_top.so dep/top.c -Ldep -lmodd_dep -Wl,-rpath,'$ORIGIN'
	run "$FATHOM" record --alloc -o dep.fdump -- "$PROGS/mod_deep" "$PWD/dep/libmodd_top.so" lazy 1000 \
		>dep.out 2>err.txt
	cat err.txt >&2
	assert_eq "dep: program output" "36000" "$(cat dep.out)"
	"$FATHOM" mem --json dep.fdump >dep.json || fail "dep: fathom mem failed"
	python3 - dep.json <<'PY' || fail "dep: the DEEPBIND library's dependency's allocations are not all seen"
import json, sys
mem = json.load(open(sys.argv[1]))
got = [0, 0, 0]
for s in mem["sites"]:
    if (s["function"] or "").startswith("modd_dep_work"):
        got[0] += s["calls"]; got[1] += s["bytes"]; got[2] += s["leaked_bytes"]
print("modd_dep_work", got, "warnings:", mem["warnings"])
assert got == [2000, 45000, 0], got
# (A thread that waited for a CPU is the machine's load, not the module's.)
assert not [w for w in mem["warnings"] if "waited for a CPU" not in w], mem["warnings"]
PY
fi

plain=$("$PROGS/mod_deep" "$PROGS/libmod_deep.so" newns 100) || fail "plain newns run failed"
run "$FATHOM" record --alloc -o ns.fdump -- "$PROGS/mod_deep" "$PROGS/libmod_deep.so" newns 100 >ns.out 2>err.txt
cat err.txt >&2
assert_eq "newns: program output" "$plain" "$(cat ns.out)"
