# Deep recursion: 200 Python frames of recurse() over a CPU-bound leaf.
import sys

sys.setrecursionlimit(10000)


def leaf(n):
    s = 0
    for i in range(n):
        s += i % 3
    return s


def recurse(depth, n):
    if depth == 0:
        return leaf(n)
    return recurse(depth - 1, n) + 1


def main():
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    total = 0
    for _ in range(rounds):
        total += recurse(depth, 100000)
    print("done", total)


main()
