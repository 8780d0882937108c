# A test file for pytest (run by test-py-pytest.sh as `python3 -m pytest -s
# pyt_orders.py`; the name keeps it out of pytest's own collection elsewhere).
# test_totals is CPU-bound and prints its own CPU time as the truth;
# test_parse is quick; test_faulthandler checks that pytest installed
# faulthandler (its SIGSEGV handler is there while the profiler samples);
# test_fails fails on purpose and runs only when asked for with `-k fails`.
import faulthandler
import time


def order_total(i):
    return (i * 7919) % 1009 + (i % 13) * 3


def test_totals():
    t0 = time.thread_time()
    s = 0
    for i in range(6000000):
        s += order_total(i) % 17
    spent = time.thread_time() - t0
    print("\ntruth test_totals_cpu=%.3f" % spent)
    assert s == 47979493


def test_parse():
    assert [int(x) for x in "1,2,3".split(",")] == [1, 2, 3]


def test_faulthandler():
    assert faulthandler.is_enabled()


def test_fails():
    assert order_total(3) == 0
