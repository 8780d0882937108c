# A dump with 300,000 module records and 100,000 threads is read in seconds:
# the module map and the per-thread tables are O(n log n) (they were
# quadratic: minutes). The figures and the module each frame is attributed
# to (reloaded, replaced, overlapped, forward-referenced modules) are checked.
source "$SRCDIR/tests/lib.sh"

run "$PROGS/in_gendump" --modules 300000 --threads 100000 big.fdump >facts.txt
fact() { sed -n "s/^$1=//p" facts.txt; }
assert_eq "threads written" 100000 "$(fact threads)"

start=$(date +%s.%N)
timeout 60 "$FATHOM" report -q --json --threads big.fdump >report.json
rc=$?
[ "$rc" = 124 ] && fail "fathom report took more than 60 s"
assert_eq "fathom report exit status" 0 "$rc"
timeout 60 "$FATHOM" mem -q --json big.fdump >mem.json
rc=$?
[ "$rc" = 124 ] && fail "fathom mem took more than 60 s"
assert_eq "fathom mem exit status" 0 "$rc"
# The per-thread exports and the viewer's data: one pass over the
# (stack, thread) entries and the modules, not one per thread or per module.
timeout 60 "$FATHOM" export -q --format speedscope -o big.speedscope big.fdump
rc=$?
[ "$rc" = 124 ] && fail "fathom export --format speedscope took more than 60 s"
assert_eq "fathom export --format speedscope exit status" 0 "$rc"
timeout 60 "$FATHOM" export -q --format pprof --threads -o big.pb.gz big.fdump
rc=$?
[ "$rc" = 124 ] && fail "fathom export --format pprof --threads took more than 60 s"
assert_eq "fathom export --format pprof exit status" 0 "$rc"
timeout 60 "$FATHOM" view -q --data-only -o view.json big.fdump
rc=$?
[ "$rc" = 124 ] && fail "fathom view took more than 60 s"
assert_eq "fathom view exit status" 0 "$rc"
note "report, mem, export and view: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"

python3 - "$(fact samples)" "$(fact alloc_calls)" "$(fact alloc_bytes)" "$(fact leaked_bytes)" \
	"$(fact leaked_blocks)" "$(fact frame0)" "$(fact frame1)" "$(fact frame2)" "$(fact frame3)" <<'PY' ||
import json, sys
samples, calls, nbytes, leaked, blocks = map(int, sys.argv[1:6])
frames = sys.argv[6:10]
r = json.load(open("report.json"))
m = json.load(open("mem.json"))
def check(what, want, got):
    if want != got:
        sys.exit(f"{what}: expected {want!r}, got {got!r}")
check("samples", samples, r["samples"])
check("threads listed", 100000, len(r["threads"]))
check("samples per thread", {2}, {t["samples"] for t in r["threads"]})
check("distinct tids", 100000, len({t["tid"] for t in r["threads"]}))
# Thread k samples stack 1 and a stack whose module record came later.
w1 = next(t for t in r["threads"] if t["name"] == "w1")
check("w1's hottest", sorted([frames[0] + "+0x100", "libm1030.so+0x40"]), sorted(h["name"] for h in w1["hottest"]))
check("modules of the hottest stack", sorted(frames), sorted(e["module"] for e in r["top_total"][:4]))
check("alloc calls", calls, m["totals"]["alloc_calls"])
check("alloc bytes", nbytes, m["totals"]["alloc_bytes"])
check("leaked bytes", leaked, m["leaks"]["bytes"])
check("leaked blocks", blocks, m["leaks"]["blocks"])
check("leak stack", frames, [f["module"] for f in m["leaks"]["stacks"][0]["frames"]])
ss = json.load(open("big.speedscope"))
# The all-threads CPU profile, one per thread, then the memory metrics'.
cpu = [x for x in ss["profiles"] if x["name"].startswith("cpu: ")]
check("speedscope per-thread profiles", 100000, len(cpu) - 1)
check("speedscope thread w1's stacks", 2, len(next(x for x in cpu if x["name"].startswith("cpu: w1 ("))["samples"]))
v = json.load(open("view.json"))
vp = v["profiles"][0] if "profiles" in v else v
check("viewer threads", 100000, len(vp["threads"]))
check("viewer module names distinct", len(vp["modules"]), len(set(vp["modules"])))
PY
	fail "the figures differ (see above)"
