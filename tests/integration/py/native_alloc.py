"""Allocations a Python program makes through malloc itself, not through
the interpreter's allocators: a C library called by ctypes (libc's malloc),
a C extension's own state (zlib's deflate state, through the RAW domain),
and sqlite3 in threads that released the GIL. Blocks are kept and the
program ends with os._exit, so that they are all still live at exit.

Usage: native_alloc.py GRABS SQUEEZERS ROWS"""
import ctypes
import os
import sqlite3
import sys
import threading
import zlib

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]

kept = []


def grab(n):
    for _ in range(n):
        kept.append(libc.malloc(1_234_567))  # grab's line


def squeezers(n):
    for _ in range(n):
        kept.append(zlib.compressobj(6))  # squeezers' line


def store(rows):
    db = sqlite3.connect(":memory:")
    db.execute("create table t (k integer primary key, v text)")
    for i in range(rows):
        db.execute("insert into t values (?, ?)", (i, "v%08d" % i))  # store's line
    db.commit()
    kept.append(db)


def main():
    grabs, squeezes, rows = (int(a) for a in sys.argv[1:4])
    grab(grabs)
    squeezers(squeezes)
    threads = [threading.Thread(target=store, args=(rows,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.stdout.flush()
    os._exit(0)


main()
