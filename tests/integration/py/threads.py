# Threads: two run Python loops, two hash a big buffer with hashlib (C code
# that releases the GIL): every one keeps its Python frames.
import hashlib
import sys
import threading

BUF = b"x" * (8 << 20)


def py_worker(n):
    s = 0
    for i in range(n):
        s += i * i % 11
    return s


def c_worker(rounds):
    d = b""
    for _ in range(rounds):
        d = hashlib.sha256(BUF).digest()
    return d


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000
    ts = [threading.Thread(target=py_worker, args=(n,), name="py-%d" % i) for i in range(2)]
    ts += [threading.Thread(target=c_worker, args=(n // 100000,), name="c-%d" % i) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("done")


main()
