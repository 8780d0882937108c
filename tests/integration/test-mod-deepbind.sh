# A library loaded with RTLD_DEEPBIND binds to libc's malloc and free past
# the preloaded hooks; the agent points its slots at the hooks, so its
# strdup/free and malloc/free pairs are all seen and nothing leaks (as
# heaptrack reports it), with lazy and immediate binding. In a dlmopen
# namespace (a libc of its own) the library is left alone and runs as
# without the agent.
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
assert not mem["warnings"], mem["warnings"]
PY
done

plain=$("$PROGS/mod_deep" "$PROGS/libmod_deep.so" newns 100) || fail "plain newns run failed"
run "$FATHOM" record --alloc -o ns.fdump -- "$PROGS/mod_deep" "$PROGS/libmod_deep.so" newns 100 >ns.out 2>err.txt
cat err.txt >&2
assert_eq "newns: program output" "$plain" "$(cat ns.out)"
