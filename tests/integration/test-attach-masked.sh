# fathom record --pid on a program whose second thread blocked every signal
# before the attach (as thread pools do): the attaching fathom lets the
# agent's signal through to it by ptrace, so it is sampled like the main
# thread (both spin: each about half of the samples; before, it had none and
# its CPU time read "not sampled"), and the thread still reads its mask as
# it set it, during and after the recording.
source "$SRCDIR/tests/integration/attach-lib.sh"

attach_start masked
sleep 0.5
FATHOM_ATTACH_DEBUG=1 "$FATHOM" record -F 500 --pid "$TPID" --duration 2 -o m.fdump 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --pid failed"; }
cat err.txt >&2
assert_contains "one thread unmasked" "1 threads unmasked" err.txt
"$FATHOM" report --json m.fdump >report.json || fail "fathom report failed"
"$FATHOM" report m.fdump >report.txt || fail "fathom report (text) failed"
sed 's/^/  | /' report.txt | head -16 >&2
read -r samples masked open < <(python3 - report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
share = {e["name"]: e["total_percent"] for e in r["top_total"]}
print(r["samples"], share.get("masked_work", 0.0), share.get("open_work", 0.0))
PY
)
note "samples $samples: masked_work $masked%, open_work $open%"
[ "$samples" -ge 40 ] || skip "only $samples samples in 2 s (load: $(cut -d' ' -f1 /proc/loadavg))"
assert_near "masked_work share" 50 "$masked" 15
assert_near "open_work share" 50 "$open" 15
assert_not_contains "no thread left unsampled" "not sampled" report.txt
# A second attach: the thread is let through already (nothing to unmask).
FATHOM_ATTACH_DEBUG=1 "$FATHOM" record -F 500 --pid "$TPID" --duration 0.5 -o m2.fdump 2>err2.txt ||
	{ cat err2.txt >&2; fail "the second fathom record --pid failed"; }
assert_contains "nothing to unmask the second time" "0 threads unmasked" err2.txt
"$FATHOM" report m2.fdump >report2.txt || fail "fathom report of the second attach failed"
assert_contains "masked_work sampled the second time" "masked_work" report2.txt
sleep 0.2
attach_stop
assert_contains "the thread's mask reads as it set it" "mask kept" target.out
