#!/usr/bin/env bash
# Symbolization of large modules: fathom report on a clang++ -O2 recording
# (libLLVM, libclang-cpp: tens of thousands of symbols, usually without debug
# info) and on a node recording (a 80 MB executable; and with --jit, its
# perf map), each next to
# --no-symbols (the time spent symbolizing is the difference). Prints the
# figures; fails only when a report fails or symbolizing the clang recording
# takes more than BENCH_SYMBOLIZE_LIMIT seconds of CPU.
source "$SRCDIR/tests/lib.sh"
perf_maps_removed_at_exit # node's, with --jit
LIMIT=${BENCH_SYMBOLIZE_LIMIT:-30}
[ -x /usr/bin/time ] || skip "no /usr/bin/time"
command -v clang++ >/dev/null || skip "no clang++"

cat >big.cpp <<'C'
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
int main()
{
	std::map<std::string, std::vector<int>> m;
	std::regex r("a+b*");
	std::unordered_map<int, std::string> u;
	for (int i = 0; i < 100; i++) {
		std::ostringstream o;
		o << i;
		m[o.str()].push_back(i);
		u[i] = o.str();
	}
	std::cout << m.size() << std::regex_match("aab", r) << u.size() << "\n";
}
C
run "$FATHOM" record -q -F 999 -o clang.fdump -- clang++ -O2 -c big.cpp -o big.o
dumps=(clang)
if command -v node >/dev/null; then
	cat >fib.js <<'J'
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
let s = 0;
const t0 = Date.now();
while (Date.now() - t0 < 3000) {
	s += fib(25);
	const a = [];
	for (let i = 0; i < 10000; i++) a.push({i, s: String(i)});
	s += JSON.stringify(a.slice(0, 100)).length;
}
console.log(s);
J
	run "$FATHOM" record -q -F 999 -o node.fdump -- node fib.js >/dev/null
	# With its perf map (--jit): the JavaScript functions named from it.
	run "$FATHOM" record -q -F 999 --jit -o node-jit.fdump -- node fib.js >/dev/null
	dumps+=(node node-jit)
fi
uptime >&2
# cpu CMD...: user+system seconds of CMD
cpu() {
	/usr/bin/time -f "%U %S" -o time.txt "$@" >/dev/null 2>&1 || fail "failed: $*"
	awk '{ printf "%.2f", $1 + $2 }' time.txt
}
for d in "${dumps[@]}"; do
	samples=$("$FATHOM" report -q --json --no-symbols "$d.fdump" | python3 -c 'import json, sys; print(json.load(sys.stdin)["samples"])')
	with=$(cpu "$FATHOM" report -q "$d.fdump")
	without=$(cpu "$FATHOM" report -q --no-symbols "$d.fdump")
	printf "%-8s %6s samples  report %6s s cpu  --no-symbols %6s s cpu\n" "$d" "$samples" "$with" "$without"
	if [ "$d" = clang ]; then
		assert_le "clang report CPU (s)" "$LIMIT" "$with"
	fi
done
exit 0
