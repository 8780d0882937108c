# multiprocessing: a Pool of two worker processes runs crunch over eight
# chunks while the parent waits. The first argument is the start method
# (fork, spawn or forkserver); the second how the pool ends: "with" (the
# usual `with Pool() as pool:`, whose exit terminates the workers with
# SIGTERM) or "join" (close() and join(): the workers exit by themselves).
# Each chunk measures its own CPU time; the program prints the total as the
# truth, and how many processes did the work.
import multiprocessing
import os
import sys
import time


def crunch(n):
    t0 = time.thread_time()
    s = 0
    for i in range(n):
        s += i * i % 7
    return s, time.thread_time() - t0, os.getpid()


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    end = sys.argv[2] if len(sys.argv) > 2 else "with"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1500000
    ctx = multiprocessing.get_context(method)
    if end == "with":
        with ctx.Pool(2) as pool:
            res = pool.map(crunch, [n] * 8, chunksize=1)
    else:
        pool = ctx.Pool(2)
        res = pool.map(crunch, [n] * 8, chunksize=1)
        pool.close()
        pool.join()
    print("sum", sum(r[0] for r in res))
    print("workers", len(set(r[2] for r in res)))
    print("truth crunch_cpu=%.3f" % sum(r[1] for r in res))


if __name__ == "__main__":
    main()
