# A sqlite3 user-defined function: scored runs a query whose expression calls
# score, a Python function registered with create_function, once a row, so a
# sample in score has Python (scored) above libsqlite3 (sqlite3_step, the
# virtual machine) above Python again (score). plain runs a query sqlite
# answers alone, in C. The program times both with its CPU clock and
# prints the truth: each query's share, and two bounds on the share of scored
# spent in score's own code. The calls into score are C code, which a sampler
# sees under scored, not in score, so the program times them apart: scored
# less the same query calling a function that does nothing (unscored) is the
# upper bound (score's body also slows the query's C code around it, through
# the caches); map() calling score once a row less map() calling the empty
# function is the lower bound (the body runs in a tight loop, caches warm).
import sqlite3
import sys
import time

clock = time.thread_time_ns


def score(x):
    s = 0
    for i in range(8):
        s += (x * i + 7) % 13
    return s


def nothing(x):
    return 0


def scored(conn):
    return conn.execute("SELECT sum(score(v)) FROM t").fetchone()[0]


def unscored(conn):
    return conn.execute("SELECT sum(noop(v)) FROM t").fetchone()[0]


def plain(conn):
    return conn.execute("SELECT count(*), sum(g) FROM (SELECT v % 1009 AS g, count(*) AS c FROM t GROUP BY g ORDER BY c, g)").fetchone()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    conn = sqlite3.connect(":memory:")
    conn.create_function("score", 1, score, deterministic=True)
    conn.create_function("noop", 1, nothing, deterministic=True)
    conn.execute("CREATE TABLE t(v INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", ((i * 7919 % 1000003,) for i in range(n)))
    values = [r[0] for r in conn.execute("SELECT v FROM t")]
    times = {"scored": [], "plain": [], "unscored": [], "mapped": [], "empty": []}
    out = []
    for _ in range(10):
        t0 = clock()
        out.append(scored(conn))
        t1 = clock()
        out.append(plain(conn))
        t2 = clock()
        unscored(conn)
        t3 = clock()
        sum(map(score, values))
        t4 = clock()
        sum(map(nothing, values))
        t5 = clock()
        for k, t in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            times[k].append(t)
    spent = {k: sum(v) for k, v in times.items()}
    print("results", out[0], out[1])
    both = spent["scored"] + spent["plain"]
    print("truth scored=%.1f plain=%.1f score_low=%.1f score_high=%.1f"
          % (100 * spent["scored"] / both, 100 * spent["plain"] / both,
             100 * (spent["mapped"] - spent["empty"]) / spent["scored"],
             100 * (spent["scored"] - spent["unscored"]) / spent["scored"]))

main()
