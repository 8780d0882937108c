/* Python support in the agent: finds a CPython 3.11-3.13 in the process, walks
 * the sampled thread's Python frames in the signal handler, and writes the
 * code objects those frames name into the dump (python.c).
 */
#ifndef FATHOM_PYTHON_H
#define FATHOM_PYTHON_H

#include <signal.h>
#include <stdint.h>

struct enc;

#pragma GCC visibility push(hidden)

/* At start, once CPU sampling is on: looks for an interpreter in the program
 * and the libraries loaded so far. Says once why one found is not supported. */
void python_init(void);
/* After a dlopen (an embedding program loads libpython late). */
void python_after_dlopen(void *handle);
/* Appends the sampled thread's Python frames (a marker and tagged entries,
 * FD_PY_* in fathom-dump.h) after the n native frames in f, which holds
 * FD_MAX_FRAMES entries; cuts native and Python frames to fit. Returns the
 * new count. Context: signal (the sampling handler), async-signal-safe. */
unsigned python_frames(uint64_t *f, unsigned n);
/* The writer: the interpreter's description, code objects not yet written,
 * the counters when they changed. Context: the writer (wlock held). */
void python_write(struct enc *e, int final);
/* Before an exec (before 1), once no sample can come: the program's own
 * SIGSEGV and SIGBUS dispositions are put back for the new image; after a
 * failed exec (before 0), the guard again. */
void python_exec(int before);
/* In a forked child: its dump needs every code object again. */
void python_after_fork(void);
/* sigaction() for SIGSEGV and SIGBUS while the fault guard's handler is
 * installed: the program's disposition is kept apart and chained to.
 * Returns 1 when handled (the result in *ret), 0 to pass through. */
int python_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *ret);

#pragma GCC visibility pop

#endif
