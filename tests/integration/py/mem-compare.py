"""Compares fathom mem's live bytes per line at exit with the program's own
tracemalloc figures (mem_json.py): usage
  mem-compare.py MEM.json TM.txt [--tol PCT] [--top K] [--sampled]
Prints both sides per line and 'ok' or the first disagreement, exit 1 then.
Lines compared: the workload's (the program's 'range' line); bytes and
(unless --sampled) blocks within PCT (10), the same top K lines (3)."""
import json
import sys

mem = json.load(open(sys.argv[1]))
tm_lines = {}
lo = hi = None
fname = None
for l in open(sys.argv[2]):
    w = l.split()
    if w[:1] == ["range"]:
        fname, lo, hi = w[1], int(w[2]), int(w[3])
    elif w[:2] == ["tm", "line"]:
        tm_lines[int(w[2])] = (int(w[3]), int(w[4]))
tol = 10.0
if "--tol" in sys.argv:
    tol = float(sys.argv[sys.argv.index("--tol") + 1])
sampled = "--sampled" in sys.argv
ntop = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 3
fa = {}
for s in mem["sites"]:
    f = (s.get("file") or "").rsplit("/", 1)[-1]
    if f == fname and lo <= s["line"] < hi:
        b, c = fa.get(s["line"], (0, 0))
        fa[s["line"]] = (b + s["leaked_bytes"], c + s["leaked_blocks"])
tm = {k: v for k, v in tm_lines.items() if lo <= k < hi}
bad = []
for k in sorted(set(fa) | set(tm)):
    print("line %d: fathom %d B %d blocks, tracemalloc %d B %d blocks" % (k, *fa.get(k, (0, 0)), *tm.get(k, (0, 0))))
fb, fc = sum(v[0] for v in fa.values()), sum(v[1] for v in fa.values())
tb, tc = sum(v[0] for v in tm.values()), sum(v[1] for v in tm.values())
print("total: fathom %d B %d blocks, tracemalloc %d B %d blocks" % (fb, fc, tb, tc))
if abs(fb - tb) > tol / 100 * tb:
    bad.append("bytes differ by more than %g%%" % tol)
if not sampled and abs(fc - tc) > tol / 100 * tc:
    bad.append("blocks differ by more than %g%%" % tol)
top = lambda d: sorted(d, key=lambda k: -d[k][0])[:ntop]
print("top %d lines" % ntop + ": fathom %s, tracemalloc %s" % (top(fa), top(tm)))
if set(top(fa)) != set(top(tm)):
    bad.append("the top %d lines differ" % ntop)
print("; ".join(bad) if bad else "ok")
sys.exit(1 if bad else 0)
