#!/usr/bin/env python3
"""Figures out of folded stacks (`fathom export -f folded`) for the tests of
real Python programs, and the hot line of a function out of `fathom report
--by line --json`: see py_inner and py_top_line in prog-lib.sh."""
import json
import os
import sys


def stacks(path):
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            frames, _, w = line.rpartition(" ")
            yield frames.split(";"), int(w)


def inner(path, prefix, under=None):
    by = {}
    total = 0
    for frames, w in stacks(path):
        if under is not None and under not in frames:
            continue
        total += w
        mine = [f for f in frames if f.startswith(prefix)]
        if mine:
            by[mine[-1]] = by.get(mine[-1], 0) + w
    for name, w in sorted(by.items(), key=lambda kv: -kv[1]):
        print(name, w)
    print("all", total)


def top_line(path, func, skip):
    """FUNC's line with the most total weight in `fathom report --by line
    --json`, as "file.py:N", leaving out the lines numbered in skip."""
    with open(path) as f:
        rep = json.load(f)
    rows = [r for r in rep["top_total"] if r.get("function") == func]
    rows = [r for r in rows if r["name"].rpartition(":")[2] not in skip]
    if not rows:
        sys.exit("stacks.py: no line of %s in %s" % (func, path))
    best = max(rows, key=lambda r: r["total_weight"])
    print(os.path.basename(best["name"]), best["total_weight"])


def main(argv):
    if len(argv) >= 4 and argv[1] == "inner":
        inner(*argv[2:5])
    elif len(argv) >= 4 and argv[1] == "top-line":
        top_line(argv[2], argv[3], set(argv[4:]))
    else:
        sys.exit("usage: stacks.py inner FOLDED PREFIX [UNDER] | top-line LINES.json FUNC [SKIP-LINE...]")


main(sys.argv)
