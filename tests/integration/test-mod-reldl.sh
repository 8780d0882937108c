# A library loaded by a relative path (dlopen("./libmod_x.so") after a
# chdir) is symbolized: the agent records its absolute path, so the report
# names its hot function and mem its leaking one, with file and line; also
# in a child forked after the program changed directory again.
source "$SRCDIR/tests/lib.sh"

line=$(grep -n 'mod_x_burn(' "$SRCDIR/tests/integration/progs/libmod_x.c" | head -1 | cut -d: -f1)
for how in plain fork; do
	note "--- $how"
	rm -f rel.fdump*
	run "$FATHOM" record --alloc -o rel.fdump -- "$PROGS/mod_reldl" "$PROGS" $how >/dev/null 2>err.txt
	cat err.txt >&2
	dump=rel.fdump
	if [ $how = fork ]; then
		assert_eq "dumps" 2 "$(ls rel.fdump* | wc -l)"
		dump=$(ls rel.fdump.* | head -1) # the child's: the parent did not run the library
	fi
	"$FATHOM" report "$dump" >report.txt || fail "fathom report failed"
	sed 's/^/  | /' report.txt | head -12 >&2
	top=$(awk '/by self time/ { getline; getline; print; exit }' report.txt)
	note "top row: $top"
	case "$top" in
	*mod_x_burn*"libmod_x.c:$line"*) ;;
	*) fail "$how: expected mod_x_burn at libmod_x.c:$line as the top self row, got: $top" ;;
	esac

	"$FATHOM" mem --json "$dump" >mem.json || fail "fathom mem failed"
	python3 - mem.json <<'PY' || fail "$how: mem does not name the leaking function"
import json, sys
mem = json.load(open(sys.argv[1]))
sites = [s for s in mem["sites"] if (s["function"] or "").startswith("mod_x_leak")]
print("mod_x_leak sites:", [(s["function"], s["file"], s["calls"], s["leaked_bytes"]) for s in sites])
assert sites, [s["function"] for s in mem["sites"]]
assert sum(s["calls"] for s in sites) == 100
assert sum(s["leaked_bytes"] for s in sites) == 100000
assert all((s["file"] or "").endswith("libmod_x.c") for s in sites)
PY
done
