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
    """The report's function rows as (name, self_share, total_share) in percent."""
    rows = rep.get("functions")
    if not isinstance(rows, list):
        die("report JSON has no 'functions' list (keys: %s)" % ", ".join(rep))
    total = report_samples(rep)
    out = []
    for r in rows:
        name = r.get("name", r.get("function"))
        if name is None:
            die("a function row has no name: %r" % r)
        out.append((name, share(r, "self", total), share(r, "total", total)))
    return out


def share(row, what, total):
    """A row's share in percent: its *_pct field if it has one, else its weight
    over the profile's total."""
    for key in (what + "_pct", what + "_percent"):
        if key in row:
            return float(row[key])
    v = row.get(what)
    if isinstance(v, dict):
        for key in ("pct", "percent"):
            if key in v:
                return float(v[key])
        v = v.get("samples", v.get("weight"))
    if v is None:
        die("a function row has no '%s': %r" % (what, row))
    return 100.0 * float(v) / total if total else 0.0


def report_samples(rep):
    for key in ("samples", "total_samples", "sample_weight", "total"):
        v = rep.get(key)
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, dict):
            for k in ("samples", "weight", "cpu"):
                if isinstance(v.get(k), (int, float)):
                    return v[k]
    die("report JSON has no sample total (keys: %s)" % ", ".join(rep))


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
        total = sum(t.get("samples", 0) for t in threads)
        for t in threads:
            pct = t.get("pct", t.get("percent", t.get("share")))
            if pct is None:
                pct = 100.0 * t.get("samples", 0) / total if total else 0.0
            elif pct <= 1.0 and "share" in t:
                pct *= 100.0
            print("%.2f %d %s" % (pct, t.get("samples", 0), t.get("name") or t.get("tid")))
    elif q == "mem":
        print(dig(doc, args[0]))
    elif q == "site":
        sites = doc.get("sites")
        if not isinstance(sites, list):
            die("mem JSON has no 'sites' list")
        print(sum(s.get(args[1], 0) for s in sites if s.get("function") == args[0]))
    elif q == "peak-share":
        print("%.2f" % stacks_share(doc, "peak", args[0], "bytes"))
    elif q == "leak-share":
        print("%.2f" % stacks_share(doc, "leaks", args[0], "bytes"))
    else:
        die("unknown query '%s'" % q)


if __name__ == "__main__":
    main(sys.argv)
