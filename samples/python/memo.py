"""Sample "memo" in Python: answering Fibonacci queries by naive recursion
(slow) against functools.lru_cache (fast). Practice: cache what you would
otherwise recompute. The slow profile is all fib.

Usage: memo.py slow|fast [QUERIES [MAX_N]]"""
import functools
import sys


def fib(n):
    """Naive recursion: about 2*fib(n) calls, every subproblem recomputed."""
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@functools.lru_cache(maxsize=None)
def fib_cached(n):
    """The same recursion; the cache answers each n once for the whole run."""
    if n < 2:
        return n
    return fib_cached(n - 1) + fib_cached(n - 2)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("slow", "fast"):
        sys.exit(__doc__.splitlines()[-1])
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    max_n = int(sys.argv[3]) if len(sys.argv) > 3 else 27
    f = fib if sys.argv[1] == "slow" else fib_cached
    total = 0
    for q in range(queries):
        # n near max_n, varied so that no two neighbouring queries repeat
        n = max_n - (q * 7) % 5
        total += f(n)
    print("%d queries, sum of answers %d" % (queries, total))


main()
