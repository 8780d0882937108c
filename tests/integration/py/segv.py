# A genuine crash under faulthandler: its report and the exit status must be
# the same under fathom, whose fault guard keeps SIGSEGV for the walk.
import ctypes
import faulthandler
import signal
import sys

faulthandler.enable()
# What the program reads back of SIGSEGV is unchanged by fathom.
print("handler installed", signal.getsignal(signal.SIGSEGV))
sys.stdout.flush()

def crash():
    ctypes.string_at(0)
crash()
