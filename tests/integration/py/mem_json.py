"""Allocation workloads for the py-mem tests and bench-py-alloc.sh.

usage: mem_json.py WORKLOAD N [--tracemalloc]
  json   N dicts of a number, a string and a short list; json.dumps, then json.loads
  dicts  a list of N dicts built in a loop, kept until the end
  big    one bytes object of N bytes
With --tracemalloc, tracemalloc runs over the measured region only and the
program prints its own figures: 'tm count C bytes B' (allocations made in
the region and still live at its end are not the point: C and B are every
allocation of the region, from a trace taken with a filter of nothing) and
'tm top FILE:LINE BYTES' for the 3 lines that allocated the most bytes
still live at the region's end.
"""
import json
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


WORK = {"json": workload_json, "dicts": workload_dicts, "big": workload_big}


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    tm = "--tracemalloc" in sys.argv
    if tm:
        import tracemalloc
        tracemalloc.start(1)
    keep = WORK[kind](n)
    if tm:
        snap = tracemalloc.take_snapshot()
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stats = snap.statistics("lineno")
        me = [s for s in stats if s.traceback[0].filename == __file__]
        live = sum(s.size for s in me)
        count = sum(s.count for s in me)
        print("tm live_bytes %d live_count %d peak %d" % (live, count, peak))
        for s in me[:3]:
            f = s.traceback[0]
            print("tm top %s:%d %d" % (f.filename.rsplit("/", 1)[-1], f.lineno, s.size))
    print("done", kind, n, type(keep).__name__)


if __name__ == "__main__":
    main()
