# Python threads that wait, for test-wait-py-threads: each waits in one way
# for about 300 ms, measured by its own clock around the call, and prints
# "truth ROLE TID NS": Event.wait() (a semaphore wait), Event.wait with a
# timeout, Lock.acquire with a timeout and queue.get with a timeout (timed
# semaphore waits: sem_clockwait on glibc 2.34 and later), time.sleep.
import queue
import threading
import time

HOLD = 0.3
ev_plain, ev_timed = threading.Event(), threading.Event()
lock = threading.Lock()
q = queue.Queue()
waiting = []
out = []


# The thread says it is about to wait (no wait of its own: the main thread
# polls the list), then waits.
def timed(role, fn):
    def run():
        waiting.append(role)
        t0 = time.monotonic_ns()
        fn()
        out.append("truth %s %d %d" % (role, threading.get_native_id(), time.monotonic_ns() - t0))
    return threading.Thread(target=run, name=role)


def get3():
    for _ in range(3):
        q.get(timeout=5)


threads = [
    timed("event", ev_plain.wait),
    timed("event_timed", lambda: ev_timed.wait(timeout=5)),
    timed("lock_timed", lambda: lock.acquire(timeout=5) and lock.release()),
    timed("queue_timed", get3),
    timed("sleep", lambda: time.sleep(HOLD)),
]
lock.acquire()
for t in threads:
    t.start()
while len(waiting) < len(threads):
    time.sleep(0.001)
for _ in range(3):
    time.sleep(HOLD / 3)
    q.put(1)
ev_plain.set()
ev_timed.set()
lock.release()
for t in threads:
    t.join()
print("\n".join(sorted(out)))
