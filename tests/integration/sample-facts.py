#!/usr/bin/env python3
"""Reads one fact out of `fathom report --json` or `fathom mem --json` for the
sample tests (see sample_fact in sample-lib.sh for the queries). Exits 1 with a
message when the JSON lacks what the query needs, so a test cannot pass on a
shape it did not understand."""
import json
import re
import sys


def die(msg):
    print("sample-facts: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))


def functions(rep):
    """The report's function rows as (name, self_percent, total_percent). The
    report lists them twice, by self and by total; with --top large enough both
    lists hold every function, and a function is in one if it is in the other."""
    rows = {}
    for key in ("top_self", "top_total"):
        lst = rep.get(key)
        if not isinstance(lst, list):
            die("report JSON has no '%s' list (keys: %s)" % (key, ", ".join(rep)))
        for r in lst:
            try:
                rows[r["name"]] = (r["name"], float(r["self_percent"]), float(r["total_percent"]))
            except (KeyError, TypeError, ValueError):
                die("a function row lacks name, self_percent or total_percent: %r" % r)
    return list(rows.values())


def report_samples(rep):
    v = rep.get("samples")
    if not isinstance(v, int):
        die("report JSON has no 'samples' count (keys: %s)" % ", ".join(rep))
    return v


def dig(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            die("no field '%s' in the JSON" % path)
        obj = obj[part]
    if not isinstance(obj, (int, float)):
        die("field '%s' is not a number: %r" % (path, obj))
    return obj


def frame_names(entry):
    return [f.get("function") or f.get("name") or "" for f in entry.get("frames", [])]


def stacks_share(mem, section, func, weight):
    sec = mem.get(section)
    if not isinstance(sec, dict) or "stacks" not in sec:
        die("mem JSON has no '%s.stacks'" % section)
    total = sec.get("bytes", 0)
    held = sum(s.get(weight, 0) for s in sec["stacks"] if func in frame_names(s))
    return 100.0 * held / total if total else 0.0


def mem_sites(mem):
    sites = mem.get("sites")
    if not isinstance(sites, list):
        die("mem JSON has no 'sites' list")
    return sites


def base(site):
    """A site's source file, its base name ("" when it has none)."""
    return (site.get("file") or "").rsplit("/", 1)[-1]


def main(argv):
    if len(argv) < 3:
        die("usage: sample-facts.py QUERY ARGS... FILE")
    q, args, path = argv[1], argv[2:-1], argv[-1]
    doc = load(path)
    if q == "self":
        print("%.2f" % sum(s for n, s, t in functions(doc) if n == args[0]))
    elif q == "total":
        rx = re.compile(args[0])
        print("%.2f" % max([t for n, s, t in functions(doc) if rx.search(n)] or [0.0]))
    elif q == "top-self":
        rows = functions(doc)
        if not rows:
            die("the report lists no functions")
        n, s, t = max(rows, key=lambda r: r[1])
        print("%s %.2f" % (n, s))
    elif q == "samples":
        print(report_samples(doc))
    elif q == "threads":
        threads = doc.get("threads")
        if not isinstance(threads, list):
            die("report JSON has no 'threads' list (run with --threads?)")
        for t in threads:
            try:
                print("%.2f %d %s" % (float(t["percent"]), t["samples"], t.get("name") or t["tid"]))
            except (KeyError, TypeError, ValueError):
                die("a thread row lacks percent, samples or tid: %r" % t)
    elif q == "mem":
        print(dig(doc, args[0]))
    elif q == "site":
        print(sum(s.get(args[1], 0) for s in mem_sites(doc) if s.get("function") == args[0]))
    elif q == "top-sites":
        # FIELD N: the N sites with the most FIELD, one a line:
        # "FILE:LINE FUNCTION VALUE" (FILE's base name).
        sites = sorted(mem_sites(doc), key=lambda s: -s.get(args[0], 0))
        for s in sites[: int(args[1])]:
            print("%s:%d %s %d" % (base(s), s.get("line") or 0, s.get("function"), s.get(args[0], 0)))
    elif q == "file-sites":
        # FILE FIELD: FIELD summed over the sites in source file FILE.
        print(sum(s.get(args[1], 0) for s in mem_sites(doc) if base(s) == args[0]))
    elif q == "peak-share":
        print("%.2f" % stacks_share(doc, "peak", args[0], "bytes"))
    elif q == "leak-share":
        print("%.2f" % stacks_share(doc, "leaks", args[0], "bytes"))
    else:
        die("unknown query '%s'" % q)


if __name__ == "__main__":
    main(sys.argv)
