# C++ names and allocation sites as a user reads them: two lambdas of one
# function (inlined, so only DWARF knows them) are two rows with their own
# shares, named as the demangler names them; an allocation made through
# std::vector, std::map or std::string belongs to the program's function
# that used the container, not to std::__new_allocator<…>::allocate
# (mem --raw-sites shows that frame); text rows elide template arguments,
# --full-names and JSON keep them.
source "$SRCDIR/tests/lib.sh"

src="$SRCDIR/tests/integration/progs/cxx_sites.cpp"
prog="$PROGS/cxx_sites"
run "$FATHOM" record --alloc -F 999 -o cxx.fdump -- "$prog" >out.txt 2>err.txt
assert_contains "program output" "cxx_sites done" out.txt

# ---- two lambdas, two rows ----
# The compiler's own names for the two closure types, from the template
# instances that take them (the lambdas have no symbol of their own).
nm -C "$prog" >nm.txt
for k in 1 2; do
	grep -qF "cxx_apply<main::{lambda(double)#$k}>" nm.txt || fail "nm -C: no cxx_apply instance for lambda #$k"
done
! grep -q 'lambda.*::operator()' nm.txt || note "the lambdas were not inlined: the symbol table names them"
"$FATHOM" report cxx.fdump >report.txt 2>rerr.txt || fail "fathom report failed: $(cat rerr.txt)"
sed 's/^/  | /' report.txt | sed -n '1,12p' >&2
heavy=$(grep -n '// about three times the work of the next one' "$src" | cut -d: -f1)
heavy=$((heavy + 1))
light=$(awk -v h="$heavy" 'NR > h && /cxx_apply\(v, \[\]\(double x\)/ { print NR; exit }' "$src")
assert_contains "first lambda as the demangler names it, at its line" \
	"main::{lambda(double)#1}::operator()(double) const  cxx_sites.cpp:$heavy" report.txt
assert_contains "second lambda as a row of its own, at its line" \
	"main::{lambda(double)#2}::operator()(double) const  cxx_sites.cpp:$light" report.txt
assert_not_contains "a lambda without its number" "{lambda}" report.txt
python3 - <<'PY' || fail "report --json: the two lambdas do not have their own shares"
import json, subprocess, os
d = json.loads(subprocess.run([os.environ["FATHOM"], "report", "--json", "-q", "--top", "0", "cxx.fdump"],
                              capture_output=True, check=True).stdout)
rows = {r["name"]: r for r in d["top_self"] + d.get("top_total", [])}
one = rows["main::{lambda(double)#1}::operator()(double) const"]
two = rows["main::{lambda(double)#2}::operator()(double) const"]
# three times the work: the first is well above the second, which has its own samples
assert one["self_weight"] > 1.5 * two["self_weight"] > 0, (one, two)
assert one["line"] != two["line"], (one, two)
# JSON keeps template arguments
assert any(n.startswith("double cxx_apply<main::{lambda(double)#1}>(std::vector<double, std::allocator<double> > const&")
           for n in rows), sorted(rows)
PY

# ---- text elides template arguments; --full-names keeps them ----
grep -qE '^ .*double cxx_apply<…>\(std::vector<…> const&, main::\{lambda\(double\)#[12]\}\)  cxx_sites.cpp' report.txt ||
	fail "report text: cxx_apply's template arguments are not elided"
assert_not_contains "report text keeps std::allocator<double>" "std::allocator<double>" report.txt
"$FATHOM" report --full-names cxx.fdump >full.txt 2>/dev/null || fail "fathom report --full-names failed"
grep -qF 'double cxx_apply<main::{lambda(double)#1}>(std::vector<double, std::allocator<double> > const&, main::{lambda(double)#1})' full.txt ||
	fail "report --full-names: template arguments missing: $(grep -m2 cxx_apply full.txt)"

# ---- allocation sites are the program's functions ----
"$FATHOM" mem cxx.fdump >mem.txt 2>merr.txt || fail "fathom mem failed: $(cat merr.txt)"
sed 's/^/  | /' mem.txt | sed -n '/Top allocation sites by calls/,/^  |\s*$/p' >&2
line_of() { grep -n -- "$1" "$src" | head -1 | cut -d: -f1; }
vline=$(line_of 'v.push_back(i \* 0.5);')
mline=$(line_of 'm\[i\] = i \* 0.25;')
sline=$(line_of 's += "a piece of text')
assert_contains "vector site" "cxx_fill_vector(int) (cxx_sites.cpp:$vline)" mem.txt
assert_contains "map site" "cxx_fill_map(int) (cxx_sites.cpp:$mline)" mem.txt
assert_contains "string site" "cxx_make_string(int) (cxx_sites.cpp:$sline)" mem.txt
assert_not_contains "allocator frame as a site" "new_allocator" mem.txt
python3 - "$vline" "$mline" "$sline" <<'PY' || fail "fathom mem --json: wrong C++ allocation sites"
import json, subprocess, os, sys
vline, mline, sline = map(int, sys.argv[1:])
d = json.loads(subprocess.run([os.environ["FATHOM"], "mem", "--json", "--top", "0", "-q", "cxx.fdump"],
                              capture_output=True, check=True).stdout)
sites = {(s["function"], s["line"]): s for s in d["sites"]}
# 20 calls each: the vector grows 11 times per 1,000 elements, the map makes 100 nodes
assert sites[("cxx_fill_vector(int)", vline)]["calls"] == 20 * 11, sites
assert sites[("cxx_fill_map(int)", mline)]["calls"] == 20 * 100, sites
assert sites[("cxx_make_string(int)", sline)]["calls"] > 0, sites
for s in d["sites"]:
    assert not s["function"].startswith(("std::", "__gnu_cxx::", "operator new")), s["function"]
PY

# ---- --raw-sites: the allocator frame, shortened unless --full-names ----
"$FATHOM" mem --raw-sites cxx.fdump >raw.txt 2>/dev/null || fail "fathom mem --raw-sites failed"
grep -qE '__new_allocator<…>::allocate\(unsigned long, void const\*\) \(new_allocator.h:[0-9]+\)' raw.txt ||
	fail "mem --raw-sites: no std::__new_allocator<…>::allocate site: $(grep -m3 allocate raw.txt)"
assert_not_contains "raw sites text keeps template arguments" "__new_allocator<double>" raw.txt
"$FATHOM" mem --raw-sites --full-names cxx.fdump >rawfull.txt 2>/dev/null || fail "fathom mem --raw-sites --full-names failed"
assert_contains "raw sites with full names" "std::__new_allocator<double>::allocate(unsigned long, void const*)" rawfull.txt
"$FATHOM" mem --raw-sites --json -q cxx.fdump >raw.json || fail "fathom mem --raw-sites --json failed"
grep -qF '"function":"std::__new_allocator<double>::allocate(unsigned long, void const*)"' raw.json ||
	grep -qF '"function": "std::__new_allocator<double>::allocate(unsigned long, void const*)"' raw.json ||
	fail "mem --raw-sites --json: no full allocator name"
