# JIT frames from a perf map, with a program that writes its own code into
# an anonymous executable mapping and a map naming it (progs/jit_synth.c):
# the names and their shares (3:1:1), later lines winning over earlier ones
# for the same addresses, garbage lines counted, a map bounded by
# FATHOM_PERFMAP_MAX keeping its end, an exec's new image not taking the
# old image's map, and pid reuse (a map left by another process of the same
# pid: a warning, not its names; appended to since: a warning, and the new
# lines win). The maps the program writes are removed at the end.
source "$SRCDIR/tests/lib.sh"
[ "$(uname -m)" = x86_64 ] || skip "jit_synth's loops are x86_64 machine code"
perf_maps_removed_at_exit
P=$PROGS/jit_synth

# The JIT functions' shares of a report, "name:percent ..." sorted by name.
jit_shares() {
	"$FATHOM" report --json "$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join("%s:%.0f" % (f["name"], f["self_percent"])
               for f in sorted(r["top_self"], key=lambda f: f["name"]) if f["name"].startswith("jit_")))'
}
share() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2://p"; }

# 1. The map as written: three names, shares near 60/20/20; the early
# line covering all three names only the one no later line covers; the
# overridden name never appears; the three garbage lines are counted.
run "$FATHOM" record -q -F 1000 -o m.fdump -- "$P" map 0.6 >/dev/null
"$FATHOM" report m.fdump >m.txt 2>m.err || fail "fathom report failed"
s=$(jit_shares m.fdump)
note "shares: $s"
assert_near "jit_hot_fn's self %" 60 "$(share "$s" jit_hot_fn)" 18
assert_near "jit_cold_fn's self % (its later line wins)" 20 "$(share "$s" jit_cold_fn)" 12
assert_near "jit_region_fn's self % (the rest of the early line)" 20 "$(share "$s" jit_region_fn)" 12
assert_not_contains "an overridden line's name" "jit_stale_name_fn" m.txt
assert_not_contains "a garbage line's name" "not_hex" m.txt
assert_contains "garbage lines counted" '3 lines not of the form "START SIZE NAME" skipped' m.err
assert_eq "one warning line per problem" 1 "$(grep -c 'perf-' m.err)"

# 2. A bound: FATHOM_PERFMAP_MAX=60 keeps the map's last whole lines (the
# cold function's), says so, and names nothing from the part left out.
FATHOM_PERFMAP_MAX=60 run "$FATHOM" record -q -o b.fdump -- "$P" map 0.3 >/dev/null
"$FATHOM" report b.fdump >b.txt 2>b.err || fail "fathom report failed"
assert_contains "the bound said" "(it is over FATHOM_PERFMAP_MAX)" b.err
assert_contains "the map's end kept" "jit_cold_fn" b.txt
assert_not_contains "the map's start left out" "jit_hot_fn" b.txt
assert_not_contains "the map's start left out" "jit_region_fn" b.txt

# 3. exec: the first image's dump has the names; the second image (same
# pid, no map of its own) neither takes the first image's map nor warns.
run "$FATHOM" record -q -o e.fdump -- "$P" exec 0.3 >/dev/null
second=$(ls e.fdump.* 2>/dev/null | head -1)
[ -n "$second" ] || fail "no dump for the exec'd image"
"$FATHOM" report e.fdump >e1.txt 2>e1.err || fail "fathom report failed"
"$FATHOM" report "$second" >e2.txt 2>e2.err || fail "fathom report failed"
assert_contains "the first image's JIT names" "jit_hot_fn" e1.txt
assert_not_contains "the second image takes the first image's map" "jit_hot_fn" e2.txt
assert_not_contains "the second image takes the first image's map" "jit_region_fn" e2.txt
assert_not_contains "the second image warns about the first image's map" "perf-" e2.err

# 4. pid reuse, in a pid namespace of our own (predictable pids) with a
# /tmp of its own: a map left by an earlier process of the pid the program
# will get, naming every address.
# A build under /tmp (a fresh clone there) stays reachable: its top
# directory is bound back into the new /tmp through /mnt (the namespace's
# own mounts: the machine's /mnt and /tmp are untouched).
keep=
case $FATHOM in /tmp/?*/*) keep=/tmp/${FATHOM#/tmp/} && keep=${keep%%/${keep#/tmp/*/}} ;; esac
ns_run() { # MODE DUMP: the program as pid 50, after a stale map for it
	unshare -pfm --mount-proc sh -c "
		if [ -n '$keep' ]; then
			mount --rbind /tmp /mnt && mount -t tmpfs tmpfs /tmp && mkdir -p '$keep' &&
				mount --rbind '/mnt/${keep#/tmp/}' '$keep' && cd '$PWD' || exit 77
		else
			mount -t tmpfs tmpfs /tmp || exit 77
		fi
		echo '0 7fffffffffff jit_other_process_fn' >/tmp/perf-50.map
		sleep 0.3
		echo 49 >/proc/sys/kernel/ns_last_pid || exit 77
		exec '$FATHOM' record -q -F 1000 -o '$2' -- '$P' $1 0.3 >/dev/null"
}
ns_run nomap s.fdump
rc=$?
[ $rc = 77 ] && skip "no pid namespace with a /tmp of its own here (parts 1-3 passed)"
[ $rc = 0 ] || fail "the recording in a pid namespace failed ($rc)"
[ "$(dump_pid s.fdump)" = 50 ] || skip "the program did not get the pid the stale map was for (parts 1-3 passed)"
"$FATHOM" report s.fdump >s.txt 2>s.err || fail "fathom report failed"
assert_contains "pid reuse warned" "before process 50 started: another process's of the same pid" s.err
assert_not_contains "another process's names" "jit_other_process_fn" s.txt

# Appended to (as CPython's map is): used, with a warning; the new lines
# win where they overlap the stale one.
ns_run append a.fdump || fail "the recording in a pid namespace failed"
"$FATHOM" report a.fdump >a.txt 2>a.err || fail "fathom report failed"
assert_contains "a map born before the process warned" "was created before process 50 started and written since" a.err
s=$(jit_shares a.fdump)
note "shares after appending: $s"
assert_near "jit_hot_fn's self % over a stale map" 60 "$(share "$s" jit_hot_fn)" 18
echo "ok: synthetic JIT names, bounds, exec and pid reuse"
