/* libfakepy.c stripped of every symbol but Py_Version. */
#define FAKEPY_STRIPPED
#include "libfakepy.c"
