#!/usr/bin/env bash
# fathom export --format pprof on a real recording, read by go tool pprof: the
# same top functions and totals as fathom report (CPU) and fathom mem (heap).
source "$SRCDIR/tests/lib.sh"
GO=$(command -v go || echo /usr/lib/go/bin/go)
[ -x "$GO" ] || fail "go not found (apt-get install golang-go; scripts/test.sh does it)"
export HOME=$WORKDIR PPROF_TMPDIR=$WORKDIR GOCACHE=$WORKDIR/gocache GOFLAGS=
pprof() { "$GO" tool pprof "$@" 2>pprof.err || { cat pprof.err >&2; fail "go tool pprof $* failed"; }; }
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

run "$FATHOM" record --alloc -o hot.fdump -- "$PROGS/export_hot" 600 300 100 >/dev/null
run "$FATHOM" report hot.fdump --json >report.json
run "$FATHOM" mem hot.fdump --json >mem.json
run "$FATHOM" export hot.fdump --format pprof -o hot.pb.gz

# CPU: the top three by self time, and the totals.
report_top=$(json report.json '" ".join(e["name"] for e in r["top_self"][:3])')
assert_eq "report's top 3" "export_hot_a export_hot_b export_hot_c" "$report_top"
pprof -top hot.pb.gz >top.txt
pprof_top=$(awk '/flat%/ { s = 1; next } s && NF >= 6 { print $6; if (++n == 3) exit }' top.txt | tr '\n' ' ' | sed 's/ $//')
assert_eq "top 3 functions (go tool pprof -top vs fathom report)" "$report_top" "$pprof_top"
assert_contains "pprof default type" "Type: cpu" top.txt
pprof -raw hot.pb.gz >raw.txt
sums=$(awk '/^Samples:/ { s = 1; getline; next } s && /^ *[0-9]/ { sub(/:.*/, ""); for (i = 1; i <= NF; i++) t[i] += $i }
	/^Locations/ { s = 0 } END { for (i = 1; i <= 8; i++) printf "%.0f ", t[i] }' raw.txt)
read -r samples cpu_ns calls bytes temp inuse_obj inuse_bytes peak <<<"$sums"
assert_eq "pprof samples total = report weight" "$(json report.json 'r["weight"]')" "$samples"
# The report's cpu_ns has 6 significant digits in its JSON: compute it from the periods.
hz=$(json report.json 'r["processes"][0]["hz"]')
assert_near "pprof cpu ns = report periods at $hz Hz" "$(awk -v w="$samples" -v hz="$hz" 'BEGIN { printf "%.0f", w * 1e9 / hz }')" "$cpu_ns" 10
assert_near "pprof cpu ns = report cpu_ns" "$(json report.json 'int(r["cpu_ns"])')" "$cpu_ns" "$(awk -v c="$cpu_ns" 'BEGIN { print c * 1e-5 }')"
pprof -top -sample_index=samples hot.pb.gz >top-samples.txt
assert_contains "pprof samples total" "of $samples total" top-samples.txt
pprof -traces hot.pb.gz >traces.txt
for f in export_hot_a export_hot_b export_hot_c main worker start_thread; do
	grep -qE "^ +[0-9.]+[mu]?s +$f\$|^ +$f\$" traces.txt || fail "pprof -traces lacks $f"
done
# Source lines survive: export_hot_a's samples are in export_hot.c.
pprof -top -lines hot.pb.gz >lines.txt
grep -qE " export_hot_a .*/export_hot\.c:[0-9]+\$" lines.txt || fail "no file:line for export_hot_a in pprof -lines"
pprof -list 'export_hot_a$' hot.pb.gz >list.txt
assert_contains "pprof -list finds the source" "ROUTINE ======================== export_hot_a in " list.txt

# Heap: totals equal fathom mem's, and the top sites are the right ones.
assert_eq "alloc_objects = mem alloc_calls" "$(json mem.json 'r["totals"]["alloc_calls"]')" "$calls"
assert_eq "alloc_space = mem alloc_bytes" "$(json mem.json 'r["totals"]["alloc_bytes"]')" "$bytes"
assert_eq "inuse_space = mem leaked bytes" "$(json mem.json 'r["leaks"]["bytes"]')" "$inuse_bytes"
assert_eq "inuse_objects = mem leaked blocks" "$(json mem.json 'r["leaks"]["blocks"]')" "$inuse_obj"
assert_eq "peak_space = mem peak" "$(json mem.json 'r["peak"]["bytes"]')" "$peak"
pprof -top -sample_index=inuse_space hot.pb.gz >inuse.txt
assert_eq "top leak in pprof" export_leak "$(awk '/flat%/ { getline; print $6; exit }' inuse.txt)"
pprof -top -sample_index=alloc_space hot.pb.gz >alloc.txt
assert_eq "top allocator in pprof" export_churn "$(awk '/flat%/ { getline; print $6; exit }' alloc.txt)"

# The main program is the first mapping, with its build-id.
build_id=$(readelf -n "$PROGS/export_hot" 2>/dev/null | sed -n 's/.*Build ID: //p')
if [ -n "$build_id" ]; then
	grep -A1 '^Mappings' raw.txt | tail -1 | grep -q "export_hot $build_id" ||
		fail "first mapping is not export_hot with build-id $build_id: $(grep -A1 '^Mappings' raw.txt | tail -1)"
fi

# One weight only; one thread only.
run "$FATHOM" export hot.fdump --format pprof --weight leaked -o leaked.pb.gz
pprof -raw leaked.pb.gz >leaked.txt
assert_eq "one sample type" "inuse_space/bytes[dflt]" "$(grep -A1 '^Samples:' leaked.txt | tail -1 | tr -s ' ' | sed 's/^ //')"
wtid=$(json report.json '[t["tid"] for t in r["threads"] if t["name"] == "export-worker"][0]')
run "$FATHOM" export hot.fdump --format pprof --tid "$wtid" -o worker.pb.gz
pprof -top worker.pb.gz >worker.txt
assert_eq "the worker thread's top" export_hot_c "$(awk '/flat%/ { getline; print $6; exit }' worker.txt)"
assert_not_contains "worker thread only" export_hot_a worker.txt

# Thread labels (--threads): pprof can list them and focus on one.
run "$FATHOM" export hot.fdump --format pprof --threads -o threads.pb.gz
pprof -tags hot.pb.gz >notags.txt
assert_not_contains "no labels by default" "export-worker" notags.txt
pprof -tags threads.pb.gz >tags.txt
assert_contains "thread label" "export-worker" tags.txt
assert_contains "tid label" "$wtid" tags.txt
pprof -top -tagfocus thread=export-worker threads.pb.gz >focus.txt
assert_eq "top with -tagfocus thread=export-worker" export_hot_c "$(awk '/flat%/ { getline; print $6; exit }' focus.txt)"
assert_not_contains "focused on the worker" export_hot_a focus.txt

# pprof is binary: not to a terminal, but to a pipe.
"$FATHOM" export hot.fdump --format pprof | head -c 2 | od -An -tx1 | grep -q "1f 8b" || fail "pprof to a pipe"
note "ok: go tool pprof agrees with fathom report and fathom mem ($pprof_top)"
