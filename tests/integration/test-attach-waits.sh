# Waits and mappings after an attach (fathom record --pid --wait --alloc),
# as at a launch: the late agent takes over the blocking calls, the locks
# and mmap/munmap. A thread sleeping in nanosleep, one in poll and one
# waiting for a mutex that another holds show their waits at their sites;
# the mappings the main thread makes after the attach show at map_site,
# the four made before it (unknown, then unmapped) counted nowhere. Then
# the process leaves by _exit while attached: the agent's _exit ends the
# dump with its trailer, and fathom stops waiting at once.
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start waits
sleep 0.3
"$FATHOM" record -q --wait --alloc -F 1000 --pid "$TPID" --duration 1.5 -o w.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid --wait failed"; }
"$FATHOM" wait --json --top 0 w.fdump >w.json 2>werr.txt || { cat werr.txt >&2; fail "fathom wait failed"; }
python3 - >got.txt <<'PY' || fail "reading the JSON"
import json
d = json.load(open("w.json"))
th = {t["name"]: t for t in d["threads"]}
def share(name, reason):
    t = th.get(name)
    return t["by_reason"][reason] / t["seen_ns"] if t and t["seen_ns"] else 0
print("sleeper_sleep=%.3f" % share("sleeper", "sleep"))
print("poller_poll=%.3f" % share("poller", "poll"))
print("locker_lock=%.3f" % share("locker", "lock"))
def at(fn):
    return sum(s["wait_ns"] for s in d["sites"] if any(f["function"] == fn for f in s["stack"][:2]))
total = d["wait_ns"] or 1
for fn in ("sleep_site", "poll_site", "lock_site"):
    print("%s=%.3f" % (fn, at(fn) / total))
mutex = [o for o in d["objects"] if o["group"] == "lock"]
print("mutex=%s" % (mutex[0]["kind"] if mutex else "none"))
PY
got() { sed -n "s/^$1=//p" got.txt; }
note "$(tr '\n' ' ' <got.txt)"
assert_ge "the sleeper's share of its time in sleep" 0.8 "$(got sleeper_sleep)"
assert_ge "the poller's share of its time in poll" 0.8 "$(got poller_poll)"
assert_ge "the locker's share of its time waiting for the lock" 0.3 "$(got locker_lock)"
assert_ge "waits at sleep_site" 0.1 "$(got sleep_site)"
assert_ge "waits at poll_site" 0.1 "$(got poll_site)"
assert_ge "waits at lock_site" 0.05 "$(got lock_site)"
assert_eq "the contended lock" "mutex" "$(got mutex)"

"$FATHOM" mem w.fdump >mem.txt 2>&1 || { cat mem.txt >&2; fail "fathom mem failed"; }
site=$(grep -E ' anonymous +map_site ' mem.txt | head -1)
[ -n "$site" ] || { sed 's/^/  | /' mem.txt | head -40 >&2; fail "no mmap site at map_site"; }
note "map_site: $site"
read -r max max_unit _ _ calls _ <<<"$site"
assert_eq "map_site's most mapped at once" "4.00 MiB" "$max $max_unit"
# One per 20 ms and 1 MiB written: about 70 in the 1.5 s on a quiet
# machine, 18 at load 13.
assert_ge "map_site's mmap calls in 1.5 s (one per 20 ms at best)" 8 "$calls"
assert_contains "the mappings left at the end" "4.00 MiB at detach)" mem.txt

# An exit while attached (_exit: no destructor runs).
start=$(date +%s%N)
"$FATHOM" record -q --wait -F 1000 --pid "$TPID" --duration 20 -o x.fdump 2>xerr.txt &
REC=$!
sleep 1
attach_stop
wait "$REC" || { cat xerr.txt >&2; fail "fathom record --pid failed"; }
took=$(( ($(date +%s%N) - start) / 1000000 ))
note "fathom record --pid returned $took ms after its start (the exit at ~1000)"
assert_le "fathom stopped waiting at the exit (ms)" 10000 "$took"
assert_contains "the target's last words" "maps " target.out
"$FATHOM" report x.fdump >report.txt 2>&1 || { cat report.txt >&2; fail "fathom report failed"; }
assert_not_contains "the dump is whole (a trailer)" "no trailer" report.txt
assert_not_contains "the dump is whole" "truncated" report.txt
"$FATHOM" wait --json x.fdump >x.json 2>/dev/null || fail "fathom wait x failed"
assert_ge "waits recorded until the exit (ns)" 1 "$(python3 -c 'import json; print(json.load(open("x.json"))["wait_ns"])')"
