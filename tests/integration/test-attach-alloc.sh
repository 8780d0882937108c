# A malloc-heavy program (1000 live blocks at alloc_site replaced in turn, a
# calloc burst of 64 at burst_site every 1000) attached mid-run with --alloc:
# its sites, their shares of the calls as in a recording from the launch
# (within 2 points), 1000 blocks live at alloc_site at the detach (999
# when the detach fell between a free and the malloc that replaces it: the
# program runs on while the writer ends the dump; seen once in CI),
# and the frees of the blocks allocated before the attach counted apart
# (1000 to 1064 of them), never as negative live bytes.
source "$SRCDIR/tests/integration/attach-lib.sh"

sites() { # DUMP -> "alloc_share burst_share live_blocks_at_alloc_site"
	"$FATHOM" mem --json "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
calls = {s["function"]: s["calls"] for s in r["sites"]}
live = {s["function"]: s["leaked_blocks"] for s in r["sites"]}
tot = sum(calls.values()) or 1
print(100.0 * calls.get("alloc_site", 0) / tot, 100.0 * calls.get("burst_site", 0) / tot,
      live.get("alloc_site", 0), min([s["leaked_bytes"] for s in r["sites"]] + [0]))'
}

# From the launch, for the shares.
"$FATHOM" record --alloc --no-cpu -q -o launch.fdump -- "$PROGS/attach_target" alloc >launch.out &
LP=$!
for _ in $(seq 100); do grep -q ready launch.out 2>/dev/null && break; sleep 0.05; done
sleep 1
pkill -TERM -P $LP attach_target 2>/dev/null || kill -TERM $(pgrep -P $LP) 2>/dev/null
wait $LP
read -r la lb llive lmin < <(sites launch.fdump)
note "launch: alloc_site $la% of calls, burst_site $lb%, $llive blocks live at alloc_site"

attach_start alloc
sleep 0.5
"$FATHOM" record --alloc --pid "$TPID" --duration 1 -o att.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid failed"; }
cat err.txt >&2
assert_contains "allocation events" "allocation events" err.txt
read -r aa ab alive amin < <(sites att.fdump)
note "attach: alloc_site $aa% of calls, burst_site $ab%, $alive blocks live at alloc_site, smallest live $amin"
"$FATHOM" mem att.fdump >mem.txt || fail "fathom mem failed"
sed 's/^/  | /' mem.txt | head -30 >&2
assert_near "alloc_site's share of calls, attached vs launched" "$la" "$aa" 2
assert_near "burst_site's share of calls, attached vs launched" "$lb" "$ab" 2
assert_ge "blocks live at alloc_site at the detach" 999 "$alive"
assert_le "blocks live at alloc_site at the detach" 1000 "$alive"
assert_ge "no negative live bytes" 0 "$amin"
before=$(sed -n 's/.*freed, allocated before attach *\([0-9,]*\).*/\1/p' mem.txt | tr -d ,)
[ -n "$before" ] || fail "mem does not count the frees of blocks allocated before the attach"
assert_ge "frees of blocks from before the attach" 1000 "$before"
assert_le "frees of blocks from before the attach" 1064 "$before"
assert_contains "peak since attach" "Peak heap since attach" mem.txt
assert_contains "live at detach" "Live at detach" mem.txt
kill -0 "$TPID" || fail "the target died"
attach_stop
