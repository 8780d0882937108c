# asyncio: three coroutines share one event loop, each doing CPU work in
# chunks and yielding to the loop between chunks (await asyncio.sleep(0)),
# orders about 60% of the work, refunds 30% and audit 10%. Each coroutine
# times its chunks with the thread's CPU clock; the program prints the split
# as the truth, and the part of the run's wall time the thread ran.
import asyncio
import sys
import time

spent = {"orders": 0.0, "refunds": 0.0, "audit": 0.0}


async def orders(rounds, n):
    s = 0
    for r in range(rounds):
        t0 = time.thread_time()
        for i in range(6 * n):
            s += (i * r) % 11
        spent["orders"] += time.thread_time() - t0
        await asyncio.sleep(0)
    return s


async def refunds(rounds, n):
    s = 0
    for r in range(rounds):
        t0 = time.thread_time()
        for i in range(3 * n):
            s += (i * r) % 11
        spent["refunds"] += time.thread_time() - t0
        await asyncio.sleep(0)
    return s


async def audit(rounds, n):
    s = 0
    for r in range(rounds):
        t0 = time.thread_time()
        for i in range(n):
            s += (i * r) % 11
        spent["audit"] += time.thread_time() - t0
        await asyncio.sleep(0)
    return s


async def main(rounds, n):
    return await asyncio.gather(orders(rounds, n), refunds(rounds, n), audit(rounds, n))


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
w0, c0 = time.monotonic(), time.thread_time()
print("results", *asyncio.run(main(rounds, n)))
# How much of the run the thread had a CPU: below 1 it waited for one.
running = (time.thread_time() - c0) / max(time.monotonic() - w0, 1e-9)
all_ = sum(spent.values())
print("truth " + " ".join("%s=%.1f" % (k, 100 * v / all_) for k, v in spent.items()) + " running=%.3f" % running)
