"""Allocation workloads for the py-mem tests and bench-py-alloc.sh.

usage: mem_json.py WORKLOAD N [--tracemalloc]
  json   N dicts of a number, a string and a short list; json.dumps, then json.loads
  dicts  a list of N dicts built in a loop, kept until the end
  big    one bytes object of N bytes
  native N sqlite3 inserts in a database in memory: C code called from
         Python that takes its memory from malloc itself
The workload's result stays live, and the program leaves by os._exit: what
the workload allocated is what fathom mem reports leaked at exit. With
--tracemalloc, tracemalloc traces the workload and the program prints, for
each line of this file, the bytes and blocks live at its end
('tm line LINE BYTES BLOCKS'), each block charged as fathom mem charges a
site: to its innermost frame outside Python's own library. 'range FILE A B'
says which lines are the workload's (A <= line < B).
"""
import json
import os
import sys


def make_record(i):
    return {"id": i, "name": "item-%d" % i, "tags": [i, i + 1, i + 2]}


def build(n):
    return [make_record(i) for i in range(n)]


def encode(data):
    return json.dumps(data)


def decode(text):
    return json.loads(text)


def workload_json(n):
    data = build(n)
    text = encode(data)
    back = decode(text)
    return data, text, back


def make_row(i):
    row = {}
    row["key"] = i
    row["label"] = "row %d" % i
    row["values"] = [i * 0.5, i * 1.5]
    return row


def workload_dicts(n):
    rows = []
    for i in range(n):
        rows.append(make_row(i))
    return rows


def workload_big(n):
    blob = bytes(n)
    return blob


def workload_native(n):
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("create table t (k integer primary key, v text)")
    for i in range(n):
        db.execute("insert into t values (?, ?)", (i, "v%08d" % i))
    db.commit()
    return db


WORK = {"json": workload_json, "dicts": workload_dicts, "big": workload_big, "native": workload_native}


def site(tb):
    """The first frame of a traceback (innermost first) outside Python's
    own library, as fathom mem's site rule: the line a program wrote."""
    frames = list(tb)[::-1]
    for f in frames:
        n = f.filename
        if not (n.startswith("<") or ("/lib/python3" in n and "-packages/" not in n)):
            return f
    return frames[0]


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    tm = "--tracemalloc" in sys.argv
    first = make_record.__code__.co_firstlineno
    print("range %s %d %d" % (__file__.rsplit("/", 1)[-1], first, main.__code__.co_firstlineno))
    if tm:
        import tracemalloc
        tracemalloc.start(64)
    keep = WORK[kind](n)
    if tm:
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        lines = {}
        for t in snap.traces:
            f = site(t.traceback)
            if f.filename == __file__:
                b, c = lines.get(f.lineno, (0, 0))
                lines[f.lineno] = (b + t.size, c + 1)
        for ln, (b, c) in sorted(lines.items()):
            print("tm line %d %d %d" % (ln, b, c))
    print("done", kind, n, type(keep).__name__, flush=True)
    # Everything the workload made is live at exit: fathom's "leaked at
    # exit" per site is then tracemalloc's live bytes per line.
    os._exit(0)


if __name__ == "__main__":
    main()
