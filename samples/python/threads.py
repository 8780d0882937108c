"""Sample "threads" in Python: counting primes by trial division in four
threads (slow) against four processes (fast). Practice: for CPU-bound pure
Python, use processes: the interpreter's global lock (the GIL) lets one
thread run Python at a time, so threads take turns and add no speed, while
each process has its own interpreter and its own CPU.

Usage: threads.py slow|fast [LIMIT [WORKERS]]"""
import multiprocessing
import sys
import threading


def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


def count_primes(worker, limit, workers, block=1000):
    """Primes in this worker's blocks of the range: block b goes to worker
    b % workers, so that every worker gets an even share of the work although
    the cost per number grows with the number."""
    count = 0
    for lo in range(worker * block, limit, workers * block):
        for n in range(lo, min(lo + block, limit)):
            if is_prime(n):
                count += 1
    return count


def with_threads(limit, workers):
    counts = [0] * workers

    def work(w):
        counts[w] = count_primes(w, limit, workers)

    threads = [threading.Thread(target=work, args=(w,), name="worker-%d" % w) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def with_processes(limit, workers):
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        counts = pool.starmap(count_primes, [(w, limit, workers) for w in range(workers)])
        # Let the workers exit by themselves: leaving the with block would
        # otherwise end them with SIGTERM (Pool.terminate).
        pool.close()
        pool.join()
    return sum(counts)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("slow", "fast"):
        sys.exit(__doc__.splitlines()[-1])
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 300000
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    count = (with_threads if sys.argv[1] == "slow" else with_processes)(limit, workers)
    print("%d primes below %d" % (count, limit))


if __name__ == "__main__":
    main()
