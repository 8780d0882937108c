# A library loaded by a relative path (dlopen("./libmod_x.so") after a
# chdir) is symbolized: the agent records its absolute path, so the report
# names its hot function and mem its leaking one, with file and line.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record --alloc -o rel.fdump -- "$PROGS/mod_reldl" "$PROGS" >/dev/null 2>err.txt
cat err.txt >&2
"$FATHOM" report rel.fdump >report.txt || fail "fathom report failed"
sed 's/^/  | /' report.txt | head -12 >&2
line=$(grep -n 'mod_x_burn(' "$SRCDIR/tests/integration/progs/libmod_x.c" | head -1 | cut -d: -f1)
top=$(awk '/by self time/ { getline; getline; print; exit }' report.txt)
note "top row: $top"
case "$top" in
*mod_x_burn*"libmod_x.c:$line"*) ;;
*) fail "expected mod_x_burn at libmod_x.c:$line as the top self row, got: $top" ;;
esac

"$FATHOM" mem --json rel.fdump >mem.json || fail "fathom mem failed"
python3 - mem.json <<'PY' || fail "mem does not name the leaking function"
import json, sys
mem = json.load(open(sys.argv[1]))
sites = [s for s in mem["sites"] if (s["function"] or "").startswith("mod_x_leak")]
print("mod_x_leak sites:", [(s["function"], s["file"], s["calls"], s["leaked_bytes"]) for s in sites])
assert sites, [s["function"] for s in mem["sites"]]
assert sum(s["calls"] for s in sites) == 100
assert sum(s["leaked_bytes"] for s in sites) == 100000
assert all((s["file"] or "").endswith("libmod_x.c") for s in sites)
PY
