# The kernel's vDSO (linux-vdso.so.1) has no file, yet its functions are
# named: the analyzer reads its own process's vDSO image when its build id
# is the recording's (the same kernel). vdso_clock spends most of its time
# in clock_gettime's vDSO code: the profile names it (__vdso_clock_gettime).
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -q -F 1000 -o v.fdump -- "$PROGS/vdso_clock" 0.5 >out.txt
assert_contains "the program ran" "calls" out.txt
run "$FATHOM" report --json v.fdump >r.json
python3 - r.json <<'PY' || fail "the vDSO's functions are not named (see above)"
import json, sys
d = json.load(open(sys.argv[1]))
rows = [(r["name"], r.get("module", ""), r["total_percent"]) for r in d["top_total"]]
print("# top total:", rows[:6], file=sys.stderr)
# Its exported functions are named; a static one inside (a paravirtual
# clock's reader, here) has no symbol in the vDSO and stays an offset, under
# the exported one in the total.
named = max([p for n, m, p in rows if "vdso" in m and "clock_gettime" in n] or [0])
print("# __vdso_clock_gettime: %.1f%% of the total" % named, file=sys.stderr)
sys.exit(0 if named >= 50 else 1)
PY
