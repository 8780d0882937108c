#!/usr/bin/env bash
# fathom wait, flame --weight wait and the exports on a synthetic dump whose
# waits are known exactly (waitprof_gendump prints them): the totals per
# reason, thread and lock, the holders' release site and its share, the
# sites by file:line, the timeline, and the estimator of sampled short
# waits (its sum within three standard deviations of the truth, and the
# error it reports equal to the generator's).
source "$SRCDIR/tests/lib.sh"

"$PROGS/waitprof_gendump" w.fdump >facts.txt || fail "waitprof_gendump failed"
fact() { sed -n "s/^$1=//p" facts.txt; }
note "facts: $(tr '\n' ' ' <facts.txt)"

"$PROGS/waitprof_gendump" --short 200000 --seed 5 many.fdump >many.txt || fail "waitprof_gendump --short failed"
"$PROGS/waitprof_gendump" --no-wait plain.fdump >/dev/null || fail "waitprof_gendump --no-wait failed"
run "$FATHOM" wait --json w.fdump >w.json
run "$FATHOM" wait w.fdump >w.txt
run "$FATHOM" wait --json --tid 101 w.fdump >t.json
run "$FATHOM" wait --json many.fdump >many.json
# What the JSON says, as key=value lines (one Python for all: each start costs).
python3 - >got.txt <<'PY' || fail "reading the JSON"
import json
d, t, m = (json.load(open(f)) for f in ("w.json", "t.json", "many.json"))
print("total_ns=%d" % d["wait_ns"])
for r, v in d["by_reason"].items():
    print("%s_ns=%d" % (r, v))
for th in d["threads"]:
    print("wait_%d_ns=%d" % (th["tid"], th["wait_ns"]))
    print("timeline_%d=%s" % (th["tid"], th["timeline"]["text"]))
print("order=" + " ".join(str(th["tid"]) for th in d["threads"]))
o = d["objects"][0]
print("top_object=%s %s %s" % (o["address"], o["kind"], o["group"]))
print("mutex_ns=%d" % o["wait_ns"])
print("mutex_threads=%d" % o["threads"])
w, h = o["waiters"][0], o["holders"][0]
print("mutex_site=%s (%s:%d)" % (w["function"], w["file"].split("/")[-1], w["line"]))
print("holder_site=%s (%s:%d)" % (h["function"], h["file"].split("/")[-1], h["line"]))
print("holder_share=%g" % (h["share"] * 100))
print("releases=%d" % o["releases"])
s = d["sites"][0]
print("join_site=%s (%s:%d)" % (s["function"], s["file"].split("/")[-1], s["line"]))
print("join_leaf=" + s["stack"][0]["function"])
print("short_est_ns=%d" % [o["wait_ns"] for o in d["objects"] if o["address"] == "0x6000"][0])
print("sigma2_ns=%d" % round(d["sigma2_ns"]))
print("many_est_ns=%d" % [o["wait_ns"] for o in m["objects"] if o["address"] == "0x6000"][0])
print("tid=%d %d %s %d" % (t["wait_ns"], len(t["objects"]), t["objects"][0]["address"], t["objects"][0]["wait_ns"]))
PY
got() { sed -n "s/^$1=//p" got.txt; }
for k in total_ns lock_ns condition_ns pipe_ns poll_ns sleep_ns join_ns mutex_ns mutex_threads mutex_site holder_site holder_share join_site short_est_ns; do
	assert_eq "$k" "$(fact $k)" "$(got $k)"
done
assert_eq "no socket or file waits" "0 0" "$(got socket_ns) $(got file_ns)"
for t in 100 101 102 103 104 105 106; do
	assert_eq "thread $t waited" "$(fact wait_${t}_ns)" "$(got wait_${t}_ns)"
done
assert_eq "threads shown, most waiting first" "100 103 106 101 105 102 104" "$(got order)"

# The contended mutex: its waiters, and its holders' release site.
assert_eq "top object" "0x5000 mutex lock" "$(got top_object)"
assert_eq "contended releases" 100 "$(got releases)"
assert_contains "text: the lock line" "mutex 0x5000: 600.0 ms waited by 3 threads, at $(fact mutex_site) 100%" w.txt
assert_contains "text: the holders" "held mostly at $(fact holder_site) 78%, $(fact flush_site) 22% of 100 contended releases; held 1.0 ms on average" w.txt
assert_contains "text: the condition" "cond 0x7000: 200.0 ms waited by 1 thread, at $(fact cond_site) 100%" w.txt

# The calls that waited, past libc (the stacks' leaves are pthread_join,
# read, epoll_wait...): function and line.
for s in mutex read poll sleep cond; do
	assert_contains "site $s" "$(fact ${s}_site)" w.txt
done
assert_eq "the site's stack starts in libc" "___pthread_join" "$(got join_leaf)"

# The timeline (60 columns over 1.2 s): counter-1 ran 0-200 ms, waited
# 200-500, ran 500-600 and ended; the consumer alternated 50 ms each.
assert_eq "counter-1's timeline" "##########~~~~~~~~~~~~~~~#####$(printf '%30s' '')" "$(got timeline_101)"
assert_eq "consumer's timeline" "~~###~~###~~###~~###$(printf '%40s' '')" "$(got timeline_104)"
assert_contains "text timeline" "101      counter-1        |##########~~~~~~~~~~~~~~~#####" w.txt

# The estimator: counter-3's short waits on mutex 0x6000 were sampled; the
# sum of their weights is what the dump says, within 3 sigma of the truth.
sigma=$(fact short_sigma_ns) est=$(got short_est_ns)
assert_near "reported error (2 sigma)" "$(awk -v s="$sigma" 'BEGIN { printf "%.0f", 2 * s }')" "$(got sigma2_ns)" 2
awk -v e="$est" -v t="$(fact short_true_ns)" -v s="$sigma" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(d <= 3 * s) }' ||
	fail "estimate $est is more than 3 sigma ($sigma) from the truth $(fact short_true_ns)"
# Many more short waits: the relative error shrinks as the estimator says.
mfact() { sed -n "s/^$1=//p" many.txt; }
mest=$(got many_est_ns)
awk -v e="$mest" -v t="$(mfact short_true_ns)" -v s="$(mfact short_sigma_ns)" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(d <= 3 * s && d <= 0.03 * t) }' ||
	fail "200000 short waits: estimate $mest vs truth $(mfact short_true_ns) (sigma $(mfact short_sigma_ns))"
note "estimator: 4000 waits: $est vs $(fact short_true_ns) (sigma $sigma); 200000: $mest vs $(mfact short_true_ns) (sigma $(mfact short_sigma_ns)), $(mfact short_records) records"

# --tid: one thread's waits and objects.
assert_eq "--tid 101" "300000000 1 0x5000 300000000" "$(got tid)"

# The same weights in flame graphs and exports.
"$FATHOM" flame --folded --weight wait w.fdump >w.folded || fail "flame --weight wait failed"
assert_eq "folded wait total" "$(fact total_ns)" "$(awk '{ s += $NF } END { printf "%.0f", s }' w.folded)"
assert_eq "folded mutex stack" "600000000" "$(awk '/;count_items;/ { print $NF }' w.folded)"
"$FATHOM" flame --folded --weight wait --tid 105 w.fdump >r.folded || fail "flame --weight wait --tid failed"
assert_eq "folded wait of the reader" "thread_root;read_pipe;__libc_read 300000000" "$(cat r.folded)"
run "$FATHOM" export --format speedscope -o w.speedscope.json w.fdump
assert_eq "speedscope wait profile" "nanoseconds $(fact total_ns)" "$(python3 -c 'import json; d=json.load(open("w.speedscope.json")); p=[p for p in d["profiles"] if p["name"] == "wait"][0]; print(p["unit"], sum(p["weights"]))')"
run "$FATHOM" export --format pprof -o w.pb.gz w.fdump
GO=$(command -v go || echo /usr/lib/go/bin/go)
if [ -x "$GO" ]; then
	export HOME=$WORKDIR PPROF_TMPDIR=$WORKDIR GOCACHE=$WORKDIR/gocache GOFLAGS=
	"$GO" tool pprof -raw w.pb.gz >raw.txt 2>raw.err || { cat raw.err >&2; fail "go tool pprof rejected the file"; }
	assert_eq "pprof sample types" "samples/count cpu/nanoseconds[dflt] wait/nanoseconds" "$(grep -A1 '^Samples:' raw.txt | tail -1 | xargs)"
	assert_eq "pprof wait total" "$(fact total_ns)" "$(awk '/^Samples:/ { s = 1; getline; next } s && /^ *[0-9]/ { sub(/:.*/, ""); t += $3 } /^Locations/ { s = 0 } END { printf "%.0f", t }' raw.txt)"
else
	note "go not found: the pprof file is not read back"
fi

# check --max-wait, and diff's waiting time: a regression when the mutex's
# waits triple, none between two seeds of the same run (their estimates
# differ by the sampling of short waits only).
"$PROGS/waitprof_gendump" --seed 2 same.fdump >/dev/null || fail "waitprof_gendump --seed 2 failed"
"$PROGS/waitprof_gendump" --lock-ms 300 slow.fdump >slow.txt || fail "waitprof_gendump --lock-ms failed"
rc=0
"$FATHOM" check w.fdump --max-wait 3s >check.txt || rc=$?
assert_eq "check --max-wait 3s: exit status" 1 "$rc"
assert_contains "check --max-wait: the figure" "Waiting time 3.21 s exceeds the budget of 3.00 s" check.txt
assert_contains "check --max-wait: the error" "the waiting time is an estimate (± 37.7 ms, two standard deviations)" check.txt
run "$FATHOM" check w.fdump --max-wait 3.5s >/dev/null
rc=0
"$FATHOM" check plain.fdump --max-wait 1s >/dev/null 2>check.err || rc=$?
assert_eq "check --max-wait without waits: exit status" 2 "$rc"
assert_contains "check --max-wait without waits" "record with 'fathom record --wait'" check.err
rc=0
"$FATHOM" diff --format json w.fdump slow.fdump >diff.json || rc=$?
assert_eq "diff: the mutex's waits tripled: exit status" 1 "$rc"
assert_eq "diff: wait-time item" "FAIL $(fact total_ns) $(sed -n 's/^total_ns=//p' slow.txt)" "$(python3 -c 'import json; i=[i for i in json.load(open("diff.json"))["items"] if i["metric"] == "wait-time"][0]; print(i["status"], round(i["base"]), round(i["value"]))')"
run "$FATHOM" diff --metric wait w.fdump same.fdump >same.txt
assert_contains "diff between seeds" "wait-time" same.txt
# A growth past a tiny threshold but within the estimates' error is no regression.
run "$FATHOM" diff --metric wait --wait-threshold 0.5 --format json w.fdump same.fdump >same.json
assert_contains "diff within the error" "within the estimate's error" same.json

# A recording without --wait says how to get one.
rc=0
"$FATHOM" wait plain.fdump >plain.out 2>plain.err || rc=$?
assert_eq "wait on a dump without waits: exit status" 1 "$rc"
assert_contains "wait on a dump without waits" "recorded without --wait" plain.err
assert_contains "wait on a dump without waits: what to do" "fathom record --wait" plain.err
rc=0
"$FATHOM" flame --folded --weight wait plain.fdump >/dev/null 2>flame.err || rc=$?
assert_eq "flame --weight wait without waits: exit status" 1 "$rc"
assert_contains "flame --weight wait without waits" "record with --wait" flame.err
exit 0
