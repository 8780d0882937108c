# samples/python/threads.py: counting primes in four threads against four
# processes. The GIL: the threads take turns, so the threaded process never
# uses more than one CPU's worth (CPU time at most 1.15x its wall time) and
# each worker thread gets about a quarter of the CPU; the processes each
# write a dump and each carries about a quarter of is_prime's CPU. Processes
# are faster only where CPUs are free: asserted on an idle machine, noted on
# a busy one. Debian's python3.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
py=$(py_base) || exit 77   # py_base said why
src=$SRCDIR/samples/python/threads.py
# A function, not a command line: sample_compare splits its arguments on
# spaces (and its locals would shadow a variable named prog).
threads() { "$py" "$src" "$@"; }

sample_compare 0 threads slow fast   # one round: judged below, on an idle machine only
sample_same_output slow.plain fast.plain
assert_contains "threads.py output" "primes below" slow.plain

sample_record slow -F 999 -- "$py" "$src" slow
sample_same_output slow.plain slow.out
sample_record fast -F 999 -- "$py" "$src" fast
sample_same_output fast.plain fast.out

# The threads: each worker about a quarter, and one CPU at most between them.
"$FATHOM" report --threads --json slow.fdump >slow.json 2>/dev/null || fail "fathom report --threads failed"
read -r ratio shares < <(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
p = r["processes"][0]
workers = [t["weight"] for t in r["threads"] if t["tid"] != p["pid"]]
s = sum(workers) or 1
print("%.2f" % (r["cpu_ns"] / p["duration_ns"]), ",".join("%.1f" % (100 * w / s) for w in sorted(workers)))' slow.json)
note "threads.py slow: CPU $ratio x the wall time; the worker threads' shares: $shares"
assert_le "threads.py slow: CPU time over wall time (the GIL)" 1.15 "$ratio"
IFS=, read -r -a ws <<<"$shares"
assert_eq "threads.py slow: worker threads" 4 "${#ws[@]}"
for w in "${ws[@]}"; do assert_near "threads.py slow: a worker thread's share of the workers' CPU" 25 "$w" 10; done

# The processes: one dump each, each worker with a quarter of is_prime.
shares=""
for d in fast.fdump.*; do
	"$FATHOM" report --json --top 0 "$d" >one.json 2>/dev/null || fail "fathom report $d failed"
	ns=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f" % sum(e["total_ns"] for e in r["top_total"] if e["name"] == "threads.is_prime"))' one.json)
	[ "$ns" -gt 0 ] && shares+=" $ns"
done
read -r -a ns <<<"$shares"
assert_eq "threads.py fast: worker processes with is_prime in their dump" 4 "${#ns[@]}"
total=$(IFS=+; echo $((${ns[*]})))
for n in "${ns[@]}"; do
	share=$(awk -v a="$n" -v t="$total" 'BEGIN { printf "%.1f\n", 100 * a / t }')
	note "threads.py fast: a worker process: $share% of is_prime"
	assert_near "threads.py fast: a worker process's share of is_prime" 25 "$share" 10
done

sample_assert_speedup "threads.py: processes over threads" 1.3
note "threads.py: threads $t_slow s, processes $t_fast s (${speedup}x; load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs)"
