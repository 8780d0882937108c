# CPU-bound pure Python: three functions take about 60/30/10 of the time;
# the program measures each with its own CPU clock and prints the truth.
import sys
import time


def spin_a(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def spin_b(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def spin_c(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 6000000
    spent = {"a": 0.0, "b": 0.0, "c": 0.0}
    rounds = 20
    for _ in range(rounds):
        for name, fn, share in (("a", spin_a, 6), ("b", spin_b, 3), ("c", spin_c, 1)):
            t0 = time.thread_time()
            fn(total * share // (10 * rounds))
            spent[name] += time.thread_time() - t0
    all_ = sum(spent.values())
    print("truth a=%.1f b=%.1f c=%.1f" % tuple(100 * spent[k] / all_ for k in "abc"))


main()
