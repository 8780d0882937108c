/* libfakepy.c as a debug build: it exports _Py_NegativeRefcount. */
#define FAKEPY_DEBUG
#include "libfakepy.c"
