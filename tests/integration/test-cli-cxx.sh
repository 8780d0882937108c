# A C++ program as a user records it: demangled names of templates in
# namespaces, an inlined function and a lambda as rows of their own, and
# operator new's allocations attributed to the caller's code.
source "$SRCDIR/tests/lib.sh"

src="$SRCDIR/tests/integration/progs/cli_cxx.cpp"
run "$FATHOM" record --alloc -F 999 -o cxx.fdump -- "$PROGS/cli_cxx" 300000000 >out.txt 2>err.txt
assert_contains "program output" "cli_cxx done" out.txt
"$FATHOM" report cxx.fdump >report.txt 2>rerr.txt || fail "fathom report failed: $(cat rerr.txt)"
sed 's/^/  | /' report.txt | head -14 >&2

# The template member is demangled with its namespace, class, template
# argument and signature, and named by its declaration in the source; the
# text elides template arguments unless --full-names.
compute=$(grep -n 'unsigned long compute(unsigned long n) const' "$src" | cut -d: -f1)
assert_contains "demangled template member" "cli_ns::Widget<…>::compute(unsigned long) const  cli_cxx.cpp:$compute" report.txt
"$FATHOM" report --full-names cxx.fdump >full.txt 2>/dev/null || fail "fathom report --full-names failed"
assert_contains "template argument with --full-names" "cli_ns::Widget<int>::compute(unsigned long) const  cli_cxx.cpp:$compute" full.txt
# Functions without a DWARF linkage name are still qualified: the lambda
# (its real function) by its ELF symbol, as nm -C spells it without the
# "[clone ...]" suffix, at the lambda's line, which only its closure type
# records; the always-inlined static cli_mix by its namespace, at its line.
lambda_sym=$(nm -C "$PROGS/cli_cxx" | sed -n 's/^[0-9a-f]* [tT] \(main::.*operator().*\)$/\1/p' | sed 's/ \[clone .*//' | head -1)
[ -n "$lambda_sym" ] || fail "nm -C finds no lambda operator() in cli_cxx"
lambda=$(grep -n 'auto spin = \[\](unsigned long m)' "$src" | cut -d: -f1)
assert_contains "lambda named as nm -C names it, at its line" "$lambda_sym  cli_cxx.cpp:$lambda" report.txt
mix=$(grep -n 'unsigned long cli_mix(unsigned long x, unsigned long i)$' "$src" | cut -d: -f1)
assert_contains "inlined static function qualified by its namespace" "cli_ns::cli_mix  cli_cxx.cpp:$mix" report.txt
# No mangled name anywhere in the report.
assert_not_contains "mangled names" "_ZN" report.txt
# The three hot spots are the three top rows by self time: the inlined
# cli_mix (a row of its own although it has no code of its own), the lambda,
# and compute's own loop.
top3=$(awk '/by self time/ { getline; for (i = 0; i < 3; i++) { getline; print } exit }' report.txt)
for want in cli_mix 'operator()' 'Widget<…>::compute'; do
	grep -qF -- "$want" <<<"$top3" || fail "expected $want among the top three rows by self time, got: $top3"
done
# The inlined function's time is also its caller's: compute's total holds it.
python3 - <<'PY' || fail "report --json: inlined time is not in its caller's total"
import json, subprocess, os
d = json.loads(subprocess.run([os.environ["FATHOM"], "report", "--json", "-q", "cxx.fdump"],
                              capture_output=True, check=True).stdout)
rows = {r["name"]: r for r in d["top_self"]}
mix = rows["cli_ns::cli_mix"]
comp = rows["cli_ns::Widget<int>::compute(unsigned long) const"]
assert comp["total_weight"] >= comp["self_weight"] + mix["self_weight"], (comp, mix)
assert mix["file"].endswith("cli_cxx.cpp"), mix
PY

# Allocations: new'd nodes belong to cli_make_nodes's 'new Node' line, not to
# operator new inside libstdc++; the leaked arrays to main's call.
"$FATHOM" mem cxx.fdump >mem.txt 2>merr.txt || fail "fathom mem failed: $(cat merr.txt)"
sed 's/^/  | /' mem.txt | sed -n '/Top allocation sites by calls/,/^  |\s*$/p' >&2
newline=$(grep -n 'Node \*node = new Node;' "$src" | cut -d: -f1)
leakline=$(grep -n 'kept.push_back(cli_ns::cli_leak_array(1000));' "$src" | cut -d: -f1)
assert_contains "new'd site at the caller" "cli_ns::cli_make_nodes(int) (cli_cxx.cpp:$newline)" mem.txt
assert_not_contains "operator new as a site" "operator new" mem.txt
python3 - "$newline" "$leakline" <<'PY' || fail "fathom mem --json: wrong C++ allocation facts"
import json, subprocess, os, sys
newline, leakline = int(sys.argv[1]), int(sys.argv[2])
d = json.loads(subprocess.run([os.environ["FATHOM"], "mem", "--json", "--top", "0", "-q", "cxx.fdump"],
                              capture_output=True, check=True).stdout)
sites = {(s["function"], s["line"]): s for s in d["sites"]}
nodes = sites[("cli_ns::cli_make_nodes(int)", newline)]
assert nodes["calls"] == 10000 and nodes["bytes"] == 10000 * 48, nodes
assert nodes["frames"][0]["function"] == "cli_ns::cli_make_nodes(int)", nodes["frames"]
assert not any(s["function"].startswith("operator new") for s in d["sites"]), list(sites)
# Five arrays of 1000 ints leak, from the leaking function or (when the
# compiler turned it into a tail call) from main's line that calls it.
leak = [s for s in d["sites"] if s["leaked_blocks"] == 5]
assert len(leak) == 1 and leak[0]["leaked_bytes"] == 5 * 4000, leak
assert leak[0]["function"] == "cli_ns::cli_leak_array(int)" or (
    leak[0]["function"] == "main" and leak[0]["line"] == leakline), leak[0]
PY

# C++ names survive the flame graph (XML-escaped templates) and folded stacks.
"$FATHOM" flame cxx.fdump -o cxx.svg 2>ferr.txt || fail "fathom flame failed: $(cat ferr.txt)"
python3 - <<'PY' || fail "flame graph of a C++ program: templates not drawn or not well-formed XML"
import xml.etree.ElementTree as ET
root = ET.parse("cxx.svg").getroot()
texts = " ".join(t for e in root.iter() for t in [e.text or ""])
assert "cli_ns::Widget<int>::compute(unsigned long) const" in texts, "compute missing"
PY
"$FATHOM" flame --folded cxx.fdump >cxx.folded || fail "fathom flame --folded failed"
grep -qE 'main;cli_ns::Widget<int>::compute\(unsigned long\) const;cli_ns::cli_mix [0-9]+$' cxx.folded ||
	fail "folded stacks: no main;compute;cli_mix path: $(grep -m3 compute cxx.folded)"
