/* Python support in the agent: finds a CPython 3.11-3.13 in the process, walks
 * the sampled thread's Python frames in the signal handler, and writes the
 * code objects those frames name into the dump (python.c).
 */
#ifndef FATHOM_PYTHON_H
#define FATHOM_PYTHON_H

#include <signal.h>
#include <stddef.h>
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

/* The frames a walk passed, by address and instruction pointer (eval-loop
 * shims included): what a cached walk is checked against. n is 0 when the
 * walk was cut or passed more than PY_CHAIN_MAX frames. */
#define PY_CHAIN_MAX 32
struct py_chain {
	unsigned n;
	uint64_t fa[PY_CHAIN_MAX], fi[PY_CHAIN_MAX];
};
/* Walks this thread's Python frames into py (FD_PY_FRAME words, innermost
 * first, at most max) under the fault guard; *more is set when frames were
 * left; with ch, notes the chain walked. Returns the count (0: none, or
 * Python frames are off). Context: malloc (the sampling handler has
 * python_frames). */
unsigned python_walk(uint64_t *py, unsigned max, int *more, struct py_chain *ch);
/* Of count chains, first and every stride bytes after it, the one whose
 * frames are still this thread's (chains with n 0 never match), or -1;
 * PY_NO_FRAMES when the thread runs no Python now (no thread state, no
 * frame, the interpreter finalizing, or Python frames off): nothing to
 * walk. Context: malloc. */
#define PY_NO_FRAMES (-2)
int python_chain_pick(const struct py_chain *first, size_t stride, unsigned count);

/* A thread's cache of the Python part of its allocation stacks
 * (python-alloc.c): walks found again by python_chain_pick, each with the
 * stacks interned for the native stacks it came with (direct-mapped by the
 * native stack's id: a line that calls into a C library, sqlite3's step,
 * meets tens of malloc sites under it). */
#define PYC_ENTRIES 16
#define PYC_MEMO 16
struct pyc_entry {
	struct py_chain ch;
	unsigned np;
	uint32_t gen;
	uint32_t nat[PYC_MEMO], id[PYC_MEMO];
	uint64_t py[PY_CHAIN_MAX];
};
/* Appends the marker and the np Python frames py after the n native frames
 * in f (room for FD_MAX_FRAMES), cutting either side to fit; more: the
 * walk left frames. Returns the new count. Context: signal or malloc. */
unsigned python_append(uint64_t *f, unsigned n, const uint64_t *py, unsigned np, int more);

/* Set while the thread's Python frames are walked (the interpreter is
 * found and supported): the allocation hooks then add them to stacks. */
extern volatile int python_walk_on;

/* python-alloc.c: the Python allocators wrapped (docs/AGENT.md, "Python
 * allocations"). */
struct tstate;
/* Set while the wrapper is to be installed or checked: the next
 * allocation hook on a thread holding the GIL does it. */
extern volatile int python_alloc_wanted;
/* The interpreter found through handle h (NULL: the program) has the
 * allocator API: look for the moment to wrap it. Context: not signal. */
void python_alloc_found(void *h);
void python_alloc_poll_slow(void);
/* Installs or checks the wrapper when wanted. Context: malloc, agent_guard
 * set or not. */
static inline void python_alloc_poll(void)
{
	if (__builtin_expect(python_alloc_wanted, 0))
		python_alloc_poll_slow();
}
/* The sampling handler on a thread while the wrapper is wanted: in sampled
 * mode, its next allocation goes the slow way, where the poll is.
 * Context: signal. */
void python_alloc_kick(void);
/* The stack of an allocation, through malloc's hooks or the wrapped Python
 * allocators: its native frames, then, when the thread runs Python, its
 * Python frames (cached per thread), so that the malloc of a C extension
 * is charged to the Python line that called it. Context: malloc (any
 * thread, with or without the GIL or a thread state, during the
 * interpreter's start and finalization, in the program's signal
 * handlers: the walk reads under the fault guard and stops at whatever is
 * missing), t->busy set. */
uint32_t python_alloc_stack(struct tstate *t, uint64_t ra, uint64_t sp0);
/* The writer's round: asks for a check that the wrapper is still the
 * interpreter's allocator (PYTHONMALLOC, -X dev and a second
 * Py_Initialize reset it). Context: the writer. */
void python_alloc_tick(void);

/* The writer: the interpreter's description, code objects not yet written,
 * the counters when they changed. Context: the writer (wlock held). */
void python_write(struct enc *e, int final);
/* Before an exec (before 1), once no sample can come: the program's own
 * SIGSEGV and SIGBUS dispositions are put back for the new image; after a
 * failed exec (before 0), the guard again. */
void python_exec(int before);
/* In a forked child: its dump needs every code object again. */
void python_after_fork(void);
/* The next file of a rotation gets every code object again (wlock held). */
void python_rotate(void);
/* sigaction() for SIGSEGV and SIGBUS while the fault guard's handler is
 * installed: the program's disposition is kept apart and chained to.
 * Returns 1 when handled (the result in *ret), 0 to pass through. */
int python_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *ret);

#pragma GCC visibility pop

#endif
