# fathom ctl PID rotate and fathom diff between snapshots: a program leaks
# 10, 20, then 30 blocks of 1000 bytes at three sites, with a snapshot after
# each step and a rotation between snapshots 2 and 3. fathom diff DUMP@1
# DUMP@2 (one file) shows exactly +20 blocks at leak_step2; across the
# rotation, fathom diff --since 2 --at 3 FILES shows exactly +30 at
# leak_step3, and --since 1 --at 3 both; the second file alone knows only
# what it allocated. Then a rotation by size (FATHOM_ROTATE=64K) keeps every
# allocation event, as the program counts them.
source "$SRCDIR/tests/lib.sh"

"$FATHOM" record --alloc -o l.fdump -- "$PROGS/win_server" "$PWD/pid" leak >l.out 2>l.err &
rec=$!
for n in 1 2 3; do
	for _ in $(seq 200); do grep -q "step$n" l.out 2>/dev/null && break; sleep 0.05; done
	grep -q "step$n" l.out || fail "the program did not reach step $n"
	"$FATHOM" ctl "$(cat pid)" snapshot "s$n" >>ctl.out 2>ctl.err || fail "ctl snapshot failed: $(cat ctl.err)"
	if [ $n = 2 ]; then
		"$FATHOM" ctl "$(cat pid)" rotate >>ctl.out 2>ctl.err || fail "ctl rotate failed: $(cat ctl.err)"
	fi
	touch "pid.go$n"
done
wait $rec || fail "the program failed"
cat ctl.out >&2
assert_contains "ctl says the rotation" "file 2 started at" ctl.out
second="l.fdump.$(cat pid).r2"
[ -s "$second" ] || fail "no second file $second: $(ls)"

"$FATHOM" diff l.fdump@1 l.fdump@2 >d12.txt 2>&1 || fail "diff l.fdump@1 l.fdump@2 failed: $(cat d12.txt)"
cat d12.txt >&2
grep -E '^ +\+19\.5 KiB +\+20 +leak_step2 ' d12.txt >/dev/null || fail "leak_step2 did not grow by 20 blocks"
[ "$(grep -c 'leak_step' d12.txt)" = 1 ] || fail "other sites grew between 1 and 2"

"$FATHOM" diff --since 2 --at 3 l.fdump "$second" >d23.txt 2>&1 || fail "diff across the rotation failed: $(cat d23.txt)"
cat d23.txt >&2
grep -E '^ +\+29\.3 KiB +\+30 +leak_step3 ' d23.txt >/dev/null || fail "leak_step3 did not grow by 30 blocks"
[ "$(grep -c 'leak_step' d23.txt)" = 1 ] || fail "other sites grew between 2 and 3"
"$FATHOM" diff --since 1 --at 3 "$second" l.fdump >d13.txt 2>&1 || fail "diff 1 to 3 failed: $(cat d13.txt)"
grep -E '^ +\+19\.5 KiB +\+20 +leak_step2 ' d13.txt >/dev/null || fail "1 to 3: leak_step2 is not +20: $(cat d13.txt)"
grep -E '^ +\+29\.3 KiB +\+30 +leak_step3 ' d13.txt >/dev/null || fail "1 to 3: leak_step3 is not +30"
"$FATHOM" mem --at 3 l.fdump "$second" >a3.txt 2>&1 || fail "mem --at 3 of the series failed"
grep -E '^ +9\.77 KiB +10 +leak_step1 ' a3.txt >/dev/null || fail "the series lost leak_step1's blocks: $(cat a3.txt)"

"$FATHOM" mem --at 3 "$second" >s3.txt 2>&1 || fail "mem --at 3 of the second file alone failed: $(cat s3.txt)"
assert_contains "the second file alone says so" "read without the files before it" s3.txt
grep -E '^ +29\.3 KiB +30 +leak_step3 ' s3.txt >/dev/null || fail "the second file alone lacks leak_step3: $(cat s3.txt)"
assert_not_contains "the second file alone knows nothing of step 1" "leak_step1" s3.txt

st=0; "$FATHOM" diff l.fdump@1 >o.txt 2>e.txt || st=$?
assert_eq "one side only" 2 "$st"
st=0; "$FATHOM" diff --since 1 --at 9 l.fdump >o.txt 2>e.txt || st=$?
assert_eq "a missing snapshot's status" 1 "$st"
assert_contains "a missing snapshot is said" "fathom diff: no snapshot 9" e.txt

# By size: a file every 64 KiB.
rm -f pid
FATHOM_ROTATE=64K FATHOM_ALLOC=exact FATHOM_OUTPUT="$PWD/z.%p.fdump" LD_PRELOAD="$FATHOM_AGENT" \
	"$PROGS/rot_server" "$PWD/pid" >z.out 2>z.err &
prog=$!
for _ in $(seq 100); do [ -s pid ] && break; sleep 0.05; done
sleep 2
kill -TERM "$(cat pid)"
wait $prog || fail "rot_server failed: $(cat z.err)"
files=$(ls z.*.fdump)
note "by size: $(echo $files)"
assert_ge "files made by size" 2 "$(echo "$files" | wc -l)"
for f in $files; do
	size=$(stat -c %s "$f")
	# A round's events (tens of KB at most here) may pass the size.
	assert_le "$f's size" 1000000 "$size"
done
"$FATHOM" mem --json $files >z.json 2>/dev/null || fail "fathom mem of the size series failed"
python3 - z.out z.json <<'PY' || fail "the size series lost or doubled events"
import json, sys
out = open(sys.argv[1]).read().split()
s = {x["function"]: x for x in json.load(open(sys.argv[2]))["sites"]}
a = s["rot_alloc"]
print("# program", out, "rot_alloc", a["calls"], a["bytes"], a["leaked_blocks"], file=sys.stderr)
assert (a["calls"], a["bytes"], a["leaked_blocks"]) == (int(out[1]), int(out[2]), int(out[4]))
PY
