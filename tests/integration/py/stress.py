# Stress: daemon threads that call small Python functions without end (the
# frame push and pop the sampler races with), one that compresses with the
# GIL released, faulthandler installed; the main thread prints results that
# do not depend on timing and exits while the daemons still run.
import faulthandler
import sys
import threading
import zlib

faulthandler.enable()


def tiny(x):
    return x + 1


def churn():
    n = 0
    while True:
        n = tiny(n)
        if n % 1000 == 0:
            n = sum(tiny(i) for i in range(10))


def squeeze():
    data = bytes(range(256)) * 4096
    while True:
        zlib.compress(data, 6)


def gen(n):
    for i in range(n):
        yield i * i


def main():
    for f in (churn, churn, squeeze):
        threading.Thread(target=f, daemon=True).start()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    for r in range(rounds):
        total = sum(tiny(x) for x in gen(20000))
        words = sorted(str(i) for i in range(2000))
        print(r, total, words[r], zlib.crc32(" ".join(words).encode()))
    sys.stdout.flush()


main()
