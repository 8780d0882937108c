# A generator pipeline: read -> parse -> keep -> total, each stage pulling
# items one at a time from the generator before it. Each stage times its own
# work on every item with the monotonic clock (cheap, unlike the thread CPU
# clock, a system call) and the program prints that split as the truth.
# Handing an item over (resuming a generator, returning from its yield) is
# in no stage's window; items are large (48 fields) so that it stays a few
# percent of the time, and every number is below 256, an int CPython caches, so
# that no stage frees a row of numbers outside its window.
import sys
import time

clock = time.perf_counter_ns
spent = {"read": 0, "parse": 0, "keep": 0, "total": 0}


def read(n):
    for i in range(n):
        t0 = clock()
        fields = []
        for k in range(48):
            fields.append("%d" % ((i * 31 + k * 17) % 256))
        line = ",".join(fields)
        spent["read"] += clock() - t0
        yield line


def parse(lines):
    for line in lines:
        t0 = clock()
        row = list(map(int, line.split(",")))
        spent["parse"] += clock() - t0
        yield row


def keep(rows):
    for row in rows:
        t0 = clock()
        x = 0
        for k, v in enumerate(row):
            x += (v ^ k) * (v + 3) % 97
        spent["keep"] += clock() - t0
        if x % 5:
            yield x


def total(values):
    s = 0
    for v in values:
        t0 = clock()
        s += v * v % 1009
        spent["total"] += clock() - t0
    return s


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 90000
    s = total(keep(parse(read(n))))
    all_ = sum(spent.values())
    print("sum", s)
    print("truth " + " ".join("%s=%.1f" % (k, 100 * v / all_) for k, v in spent.items()))


main()
