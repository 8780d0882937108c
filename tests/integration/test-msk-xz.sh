# xz -T2 compresses in worker threads that block every signal: fathom's
# samples must cover most of the CPU time the run used (its rusage), not one
# sample for seconds of work, and xz's output must be unchanged.
. "$SRCDIR/tests/lib.sh"

command -v xz >/dev/null || skip "xz is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
cd "$WORKDIR" || exit 1
# Compressible but not trivial; 1 MiB blocks give both workers work.
awk 'BEGIN { x = 1; for (i = 0; i < 60000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "line %d value %d %s\n", i, x % 100000, (i % 3 ? "alpha" : "beta") } }' >input.txt

xz -T2 -6 --block-size=1MiB -c input.txt >plain.xz || fail "xz failed"
# The recorded run's CPU time (user + system), xz's and its threads'.
python3 - "$FATHOM" <<'PY' >rusage.txt || fail "fathom record failed"
import resource, subprocess, sys
with open("rec.xz", "wb") as out, open("rec.err", "wb") as err:
	rc = subprocess.call([sys.argv[1], "record", "-o", "xz.fdump", "--", "xz", "-T2", "-6",
			      "--block-size=1MiB", "-c", "input.txt"], stdout=out, stderr=err)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(round((r.ru_utime + r.ru_stime) * 1000))
sys.exit(rc)
PY
cmp -s plain.xz rec.xz || fail "xz's output changed under the agent"
cpu_ms=$(cat rusage.txt)
run "$FATHOM" report --json xz.fdump >xz.json
read -r samples sampled_ms measured_ms < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a = d["cpu_account"]
print(d["samples"], round(a["sampled_ns"] / 1e6), round(a["measured_ns"] / 1e6))' xz.json)
note "xz used ${cpu_ms} ms of CPU (rusage, with fathom record's and the agent's writer's); its threads measured ${measured_ms} ms; fathom sampled ${samples} samples, ${sampled_ms} ms"
# The reference is the threads' own CPU clocks (the report's CPU account):
# rusage also holds the agent's writer and fathom record, which grow on a
# loaded machine. It must still hold most of rusage, or it misses threads.
awk -v m="$measured_ms" -v c="$cpu_ms" 'BEGIN { exit !(m >= 0.5 * c) }' ||
	fail "the threads measured ${measured_ms} ms of xz's ${cpu_ms} ms of CPU"
# Sampled, not charged at the threads' ends: on main the workers (every
# signal blocked) gave one sample.
awk -v s="$sampled_ms" -v m="$measured_ms" 'BEGIN { exit !(s >= 0.8 * m) }' ||
	fail "fathom sampled ${sampled_ms} ms of the ${measured_ms} ms xz's threads measured (less than 80%)"
# As samples, not one weight at the end: about one per 10 ms at 99 Hz.
awk -v n="$samples" -v c="$measured_ms" 'BEGIN { exit !(n >= 0.6 * c / 10.1) }' ||
	fail "only ${samples} samples for ${measured_ms} ms of CPU at 99 Hz"
