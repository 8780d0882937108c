#!/usr/bin/env bash
# The analyzer's memory per distinct stack (issue 20 item 5): fathom mem's
# maximum RSS on a synthetic dump of about 285,000 distinct stacks, less its
# RSS on a tiny dump, at most 200 bytes a stack (255 before the replay's
# state moved into the weights and the loader's record shrank; 168 after),
# with the dump's facts read back exactly. perf-table.sh's row measures the
# same on 950,000 stacks.
source "$SRCDIR/tests/lib.sh"
[ -x /usr/bin/time ] || skip "/usr/bin/time is missing"

"$PROGS/stress_gendump" --events 900000 --stacks 300000 --live 10000 --addrs 2000 --sample-every 0 big.fdump \
	>facts.txt || fail "stress_gendump failed"
"$PROGS/stress_gendump" --events 1000 --stacks 10 --live 100 --addrs 2000 --sample-every 0 tiny.fdump >/dev/null ||
	fail "stress_gendump failed"
fact() { sed -n "s/^$1=//p" facts.txt; }

/usr/bin/time -f %M -o big.rss "$FATHOM" mem --json big.fdump >big.json || fail "fathom mem failed on big.fdump"
/usr/bin/time -f %M -o tiny.rss "$FATHOM" mem tiny.fdump >/dev/null || fail "fathom mem failed on tiny.fdump"
n=$(fact stacks)
per=$(awk -v r="$(cat big.rss)" -v b="$(cat tiny.rss)" -v n="$n" 'BEGIN { printf "%.0f", (r - b) * 1024 / n }')
note "$n stacks: max RSS $(cat big.rss) KB, tiny dump's $(cat tiny.rss) KB: $per bytes a stack"
assert_le "bytes a distinct stack" 200 "$per"

# Nothing dropped: the totals are the dump's.
j() { python3 -c 'import json,sys; d=json.load(open("big.json")); print(eval(sys.argv[1]))' "$1"; }
assert_eq "alloc calls" "$(fact alloc_calls)" "$(j 'd["totals"]["alloc_calls"]')"
assert_eq "leaked blocks" "$(fact leaked_blocks)" "$(j 'd["leaks"]["blocks"]')"
assert_eq "leaked bytes" "$(fact leaked_bytes)" "$(j 'd["leaks"]["bytes"]')"
assert_eq "peak bytes" "$(fact peak_bytes)" "$(j 'd["peak"]["bytes"]')"
