# fathom record --rotate 1s over 5 s of a server-like program (two threads,
# blocks that live across files and are freed by the other thread): the
# files given together read as one process whose exact allocation figures
# equal the program's own counters (calls, bytes and leaks at its sites),
# with no more unknown frees than the first file has alone (frees of blocks
# of an earlier file are matched), no event lost or doubled (the files'
# figures alone add up to the merged ones), a CPU account that closes, and
# CPU shares equal to an unrotated recording's within sampling noise. Each
# file read alone says what it lacks.
source "$SRCDIR/tests/lib.sh"

record() { # NAME SECONDS ARGS...: records rot_server into NAME.fdump
	local name=$1 secs=$2
	shift 2
	rm -f "$name.pid"
	"$FATHOM" record -F 250 --alloc "$@" -o "$name.fdump" -- "$PROGS/rot_server" "$PWD/$name.pid" \
		>"$name.out" 2>"$name.err" &
	local rec=$!
	for _ in $(seq 100); do [ -s "$name.pid" ] && break; sleep 0.05; done
	[ -s "$name.pid" ] || fail "the program did not start: $(cat "$name.err")"
	sleep "$secs"
	kill -TERM "$(cat "$name.pid")"
	wait $rec || fail "fathom record failed: $(cat "$name.err")"
}
record r 5.3 --rotate 1s
record u 5.3
cat r.err >&2
files=$(ls r.fdump r.fdump.*.r* 2>/dev/null | sort -V)
n=$(echo "$files" | wc -l)
note "files: $(echo $files)"
assert_ge "files made" 5 "$n"
assert_contains "the summary lists the series" "r.fdump.$(cat r.pid).r2" r.err

"$FATHOM" mem --json $files >m.json 2>m.err || fail "fathom mem of the series failed: $(cat m.err)"
"$FATHOM" report --json $files >r.json 2>r.err || fail "fathom report of the series failed: $(cat r.err)"
"$FATHOM" report --json u.fdump >u.json 2>/dev/null || fail "fathom report of the unrotated recording failed"
first=$(echo "$files" | head -1)
"$FATHOM" report --json "$first" >f1.json 2>f1.err || fail "fathom report of the first file failed"
: >alone.txt
for f in $files; do
	"$FATHOM" mem --json "$f" >>alone.txt 2>"$f.err" || fail "fathom mem $f alone failed: $(cat "$f.err")"
	echo >>alone.txt
	"$FATHOM" report "$f" >"$f.txt" 2>>"$f.err" || fail "fathom report $f alone failed"
	assert_contains "$f alone says it is part of a series" "a rotated recording of pid" "$f.err"
	[ "$f" = "$first" ] || assert_contains "$f alone says what came before is unknown" \
		"read without the files before it" "$f.err"
done
assert_contains "the first file says the recording goes on" "goes on in file 2, not read" "$first.err"

python3 - r.out m.json r.json u.json f1.json alone.txt <<'PY' || fail "the series does not read as one recording"
import json, math, sys
out = open(sys.argv[1]).read().split()
calls, nbytes, live, live_bytes, leaks, leak_bytes = (int(out[i]) for i in (1, 2, 4, 5, 7, 8))
m = json.load(open(sys.argv[2]))
r, u, f1 = (json.load(open(a)) for a in sys.argv[3:6])
sites = {s["function"]: s for s in m["sites"]}
a, l = sites["rot_alloc"], sites["rot_leak"]
print("# program:", out, file=sys.stderr)
print("# rot_alloc", a["calls"], a["bytes"], a["leaked_blocks"], a["leaked_bytes"],
      "rot_leak", l["calls"], l["bytes"], l["leaked_blocks"], l["leaked_bytes"], file=sys.stderr)
assert (a["calls"], a["bytes"]) == (calls, nbytes), "rot_alloc's calls and bytes"
assert (a["leaked_blocks"], a["leaked_bytes"]) == (live, live_bytes), "rot_alloc's leaks"
assert (l["calls"], l["bytes"], l["leaked_blocks"], l["leaked_bytes"]) == (leaks, leak_bytes, leaks, leak_bytes), "rot_leak"
assert len(r["processes"]) == 1, "one process"
p = r["processes"][0]
print("# unknown frees: series", p["frees_unknown"], "first file alone", f1["processes"][0]["frees_unknown"], file=sys.stderr)
assert p["frees_unknown"] == f1["processes"][0]["frees_unknown"], "frees of an earlier file's blocks not matched"
# Each file alone: its events, none twice, none lost.
dec, text, alone = json.JSONDecoder(), open(sys.argv[6]).read(), []
i = 0
while text[i:].strip():
    while text[i].isspace():
        i += 1
    o, i = dec.raw_decode(text, i)
    alone.append(o["totals"])
for k in ("alloc_calls", "alloc_bytes"):
    s = sum(t[k] for t in alone)
    print("#", k, "files alone", s, "series", m["totals"][k], file=sys.stderr)
    assert s == m["totals"][k], k
acc = r["cpu_account"]
print("# cpu account", acc, file=sys.stderr)
# Each file's trailer counts its own CPU time: summed, the process's.
assert 0.9 <= acc["ratio"] <= 1.1, "the CPU account does not close"
assert abs(acc["process_ns"] - acc["measured_ns"]) <= 0.1 * acc["measured_ns"], "the trailers' CPU time"
def shares(d):
    n = d["samples"]
    return n, {f["name"]: f["self_samples"] / n for f in d["top_self"]}
na, sa = shares(r)
nb, sb = shares(u)
for fn in ("work_a", "work_b"):
    pa, pb = sa.get(fn, 0), sb.get(fn, 0)
    pp = (pa * na + pb * nb) / (na + nb)
    bound = 4 * math.sqrt(pp * (1 - pp) * (1 / na + 1 / nb)) + 0.02
    print(f"# {fn}: rotated {pa:.3f} of {na}, unrotated {pb:.3f} of {nb}, bound {bound:.3f}", file=sys.stderr)
    assert abs(pa - pb) <= bound, fn
PY
