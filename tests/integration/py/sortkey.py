# sorted(key=lambda ...): by_key sorts records with a Python lambda as the
# key, which the sort (C code in the interpreter) calls once a record;
# checksum walks the records in plain Python. The program times both with its
# CPU clock, and prints the truth: each function's share, and the share
# of the sort spent in the key's own code, timed as map() calling the same
# lambda once a record (C code calling it, as the sort does) less map()
# calling a lambda that does nothing (the calls themselves, which a sampler
# sees in the C code that makes them).
import sys
import time

clock = time.thread_time_ns


def by_key(rows, key):
    return sorted(rows, key=key)


def checksum(rows):
    s = 0
    for a, b, c in rows:
        s = (s * 31 + a * b + c) % 1000000007
    return s


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 120000
    rows = [(i, (i * 7919) % 10007, (i * 104729) % 65521) for i in range(n)]
    key = lambda r: (r[2] * 7919 + r[1] * 31 + r[0]) % 1000003

    def nothing(r):  # not a lambda: the key lambda's qualname is its own
        return 0

    spent = {"by_key": 0, "checksum": 0, "keys": 0, "calls": 0}
    s = 0
    for _ in range(30):
        t0 = clock()
        out = by_key(rows, key)
        t1 = clock()
        s += checksum(out)
        t2 = clock()
        keys = list(map(key, rows))
        t3 = clock()
        calls = list(map(nothing, rows))
        t4 = clock()
        spent["by_key"] += t1 - t0
        spent["checksum"] += t2 - t1
        spent["keys"] += t3 - t2
        spent["calls"] += t4 - t3
    print("checksum", s)
    both = spent["by_key"] + spent["checksum"]
    print("truth by_key=%.1f checksum=%.1f key_in_sort=%.1f"
          % (100 * spent["by_key"] / both, 100 * spent["checksum"] / both, 100 * (spent["keys"] - spent["calls"]) / spent["by_key"]))


main()
