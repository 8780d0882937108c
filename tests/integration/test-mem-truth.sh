# mem_truth knows its own heap facts exactly (calls, bytes, temporaries,
# leaks and bytes at the peak per function, across producer/consumer threads
# that free each other's buffers). 'fathom mem --json' must report them
# exactly in exact mode, and within 10% in sampled mode.
. "$SRCDIR/tests/lib.sh"

# compare.py MODE FACTS MEM_JSON: checks the report against the facts.
cat >compare.py <<'EOF'
import json, re, sys
mode, facts_path, mem_path = sys.argv[1:4]
facts = json.load(open(facts_path))
mem = json.load(open(mem_path))
failed = []

def fn_name(n):
    # gcc clones (mem_truth_leak.constprop.0) are the same function.
    return re.sub(r"\..*$", "", n or "")

got = {}
for s in mem["sites"]:
    name = fn_name(s["function"])
    if name in facts:
        g = got.setdefault(name, {k: 0 for k in ("calls", "bytes", "temp_calls", "leaked_bytes", "leaked_blocks", "peak_bytes")})
        for k in g:
            g[k] += s[k] or 0  # temp_calls is null in a sampled recording

def check(what, expected, actual, tol):
    ok = abs(actual - expected) <= tol * max(expected, 1) if tol else actual == expected
    print("%-4s %-40s expected %12d got %12d" % ("ok" if ok else "FAIL", what, expected, actual))
    if not ok:
        failed.append(what)

if mode == "exact":
    assert not mem["sampled"], "an exact recording reported as sampled"
    for name, f in facts.items():
        g = got.get(name)
        if g is None:
            failed.append(name)
            print("FAIL %s: no site in the report" % name)
            continue
        for k, v in f.items():
            check("%s %s" % (name, k), v, g[k], 0)
    truth_peak = sum(f["peak_bytes"] for f in facts.values())
    # The process's peak holds the program's blocks plus what libc keeps.
    print("peak %d, of which mem_truth_* %d" % (mem["peak"]["bytes"], truth_peak))
    if not (truth_peak <= mem["peak"]["bytes"] <= truth_peak + (1 << 20)):
        failed.append("peak")
    truth_leak = sum(f["leaked_bytes"] for f in facts.values())
    if mem["leaks"]["bytes"] < truth_leak:
        failed.append("total leaks")
    top = mem["peak"]["stacks"][0]["frames"][0]["function"]
    check("the largest stack at the peak is mem_truth_peak", 1, int(fn_name(top) == "mem_truth_peak"), 0)
    # CPU samples a full ring dropped (the writer fell behind on a loaded
    # machine) and a thread that waited for a CPU are said, and are not this
    # test's subject; any other warning is a fault in the memory figures.
    warned = [w for w in mem["warnings"]
              if not re.search(r"\d+ samples lost|waited for a CPU \d+% of the time", w)]
    if warned:
        print("warnings: %s" % warned)
        failed.append("warnings")
else:
    assert mem["sampled"], "a sampled recording not reported as sampled"
    assert mem["processes"][0]["alloc_sample_bytes"] > 0
    b = facts["mem_truth_bulk"]
    check("mem_truth_bulk calls (estimate)", b["calls"], got["mem_truth_bulk"]["calls"], 0.10)
    check("mem_truth_bulk bytes (estimate)", b["bytes"], got["mem_truth_bulk"]["bytes"], 0.10)
    # Sampling cannot tell temporaries (issue 13, item 11): not estimated.
    if mem["totals"]["temp_calls"] is not None:
        failed.append("temporaries reported by a sampled recording")
    check("mem_truth_peak at the peak (estimate)", facts["mem_truth_peak"]["peak_bytes"],
          got.get("mem_truth_peak", {}).get("peak_bytes", 0), 0.10)
    check("mem_truth_leak_big leaked (estimate)", facts["mem_truth_leak_big"]["leaked_bytes"],
          got.get("mem_truth_leak_big", {}).get("leaked_bytes", 0), 0.10)
    all_calls = sum(f["calls"] for f in facts.values())
    all_got = sum(g["calls"] for g in got.values())
    check("all mem_truth_* calls (estimate)", all_calls, all_got, 0.10)
sys.exit(1 if failed else 0)
EOF

note "exact mode"
run "$FATHOM" record -q --alloc -o exact.fdump -- "$PROGS/mem_truth" facts.json >out.txt
assert_contains "program output" "mem_truth: done" out.txt
run "$FATHOM" mem --json --top 0 exact.fdump >exact.json
python3 compare.py exact facts.json exact.json || fail "exact mode does not match the program's own facts"
# The text report names the same facts.
run "$FATHOM" mem exact.fdump >exact.txt
assert_contains "text report peak section" "Peak heap" exact.txt
assert_contains "text report leak site" "mem_truth_leak" exact.txt
# --sort picks the table's order: the first site by leaked bytes is the big leak.
run "$FATHOM" mem --sort leaked --top 1 exact.fdump >sorted.txt
first=$(sed -n '/^Top allocation sites by leaked bytes/{n;n;p}' sorted.txt)
case $first in *mem_truth_leak_big*) ;; *) fail "--sort leaked: first site is '$first'" ;; esac

note "sampled mode"
run "$FATHOM" record -q --alloc-sample 32k -o sampled.fdump -- "$PROGS/mem_truth" facts2.json >out2.txt
assert_contains "program output" "mem_truth: done" out2.txt
run "$FATHOM" mem --json --top 0 sampled.fdump >sampled.json
python3 compare.py sampled facts2.json sampled.json || fail "sampled estimates are more than 10% off"
run "$FATHOM" mem sampled.fdump >sampled.txt
assert_contains "sampled banner" "SAMPLED" sampled.txt

note "no allocation data"
run "$FATHOM" record -q -o cpu.fdump -- "$PROGS/mem_truth" facts3.json >/dev/null
"$FATHOM" mem cpu.fdump >nodata.txt 2>nodata.err
assert_eq "exit status without allocation data" 1 "$?"
assert_contains "hint" "record with 'fathom record --alloc" nodata.err
echo "ok"
