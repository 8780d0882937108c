/* The mapping hooks: mmap, mmap64, munmap, mremap, brk and sbrk, interposed
 * by LD_PRELOAD, record the program's mappings and the growth of its break
 * (MAP, UNMAP, REMAP records) with the stack of the caller, whenever
 * allocation tracking is on (FATHOM_MMAP=0 turns them off).
 *
 * What they see: the calls that go through the dynamic symbol table. glibc
 * maps for itself through internal aliases (malloc's large blocks and
 * arenas, thread stacks, the loader's objects), which never reach these
 * hooks: a large malloc is counted once, in the heap. An allocator that
 * calls mmap through its PLT inside a malloc the hooks recorded (the guard
 * says GUARD_REAL) has its mapping marked FD_MAP_HEAP, which the analyzer
 * counts in the heap, not again among the mappings.
 *
 * The agent's own mappings (rings, tables, zstd's memory, the signal
 * stack) are never recorded: every call whose return address is in the
 * agent's code, or made under its guard, passes straight through. That
 * covers the calls the sampling handler makes (intern.c, a thread's state):
 * the pass-through is a compare and a call.
 *
 * Context: malloc. These run inside any function of the program, on any
 * thread, possibly before the agent started (another library's
 * constructor): they pass through until the agent is ready, keep errno,
 * take no locks.
 */
#define _GNU_SOURCE
#include "alloc-record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int (*real_brk)(void *);
static void *(*real_sbrk)(intptr_t);

/* Set by mmap_hooks_start() when mappings are recorded; the hooks also
 * stop whenever allocation tracking does (agent_alloc_on). */
static volatile int g_on;

void mmap_hooks_start(void)
{
	g_on = 0; /* (again at each attach of a late agent: its configuration may differ) */
	const char *s = config_getenv("FATHOM_MMAP");
	if (s && strcmp(s, "1")) {
		if (strcmp(s, "0"))
			say("fathom: FATHOM_MMAP='%s' is not 0 or 1; not recording mappings", s);
		return;
	}
	if (!AGENT_NEXT(real_mmap, "mmap") || !AGENT_NEXT(real_munmap, "munmap") ||
	    !AGENT_NEXT(real_mremap, "mremap"))
		return;
	AGENT_NEXT(real_mmap64, "mmap64");
	AGENT_NEXT(real_brk, "brk");
	AGENT_NEXT(real_sbrk, "sbrk");
	g_on = agent_cfg.alloc != FD_ALLOC_OFF && agent_text_hi > agent_text_lo;
}

/* Whether the call from ra is the program's, to be recorded: inside a
 * recorded malloc (GUARD_REAL) it is the allocator's. Context: any. */
static inline int recording(uint64_t ra)
{
	return LIKELY(g_on) && agent_alloc_on && (!agent_guard || agent_guard == GUARD_REAL) &&
	       !(ra >= agent_text_lo && ra < agent_text_hi);
}

/* Pushes one mapping event, its word 0's field the sequence number; with
 * a stack, w[1] becomes the caller's stack. The guard is held meanwhile
 * (the stack's own work allocates). Context: malloc. */
static void push(uint64_t *w, unsigned n, uint64_t ra, uint64_t sp0, int stack)
{
	int saved = errno, guard = agent_guard;
	agent_guard = 1;
	struct tstate *t = arec_tstate();
	if (t) {
		uint64_t seq = arec_map_begin(t, n, stack ? &w[1] : NULL, ra, sp0);
		w[0] = EV_W0(EV_KIND(w[0]), n, seq);
		arec_map_end(t, w, n);
	}
	agent_guard = guard;
	errno = saved;
}

/* The kind of a new mapping. */
static unsigned map_kind(int prot, int flags, int fd)
{
	if (agent_guard == GUARD_REAL)
		return FD_MAP_HEAP;
	if (flags & (MAP_STACK | MAP_GROWSDOWN))
		return FD_MAP_STACK;
	if (prot == PROT_NONE)
		return FD_MAP_GUARD;
	if (!(flags & MAP_ANONYMOUS) && fd >= 0)
		return FD_MAP_FILE;
	return FD_MAP_ANON;
}

/* Records a mapping made at p. Context: malloc. */
static __attribute__((noinline)) void on_map(void *p, size_t len, int prot, int flags, int fd, uint64_t off,
					     uint64_t ra, uint64_t sp0)
{
	uint64_t w[EV_MAP_FIXED + EV_MAP_PATH_WORDS];
	unsigned kind = map_kind(prot, flags, fd), n = EV_MAP_FIXED;
	w[0] = EV_W0(EV_MAP, 0, 0);
	w[2] = (uintptr_t)p;
	w[3] = len;
	w[4] = kind | (uint64_t)(prot & 0xff) << 8 | (uint64_t)(uint32_t)flags << 32;
	w[5] = kind == FD_MAP_FILE ? off : 0;
	w[6] = agent_now();
	if (kind == FD_MAP_FILE) {
		char link[32], *path = (char *)&w[EV_MAP_FIXED];
		int saved = errno;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t l = readlink(link, path, EV_MAP_PATH_WORDS * 8 - 1);
		errno = saved;
		if (l > 0) {
			memset(path + l, 0, 8);
			n += (unsigned)(l / 8 + 1);
		}
	}
	push(w, n, ra, sp0, 1);
}

/* Context: malloc. */
static __attribute__((noinline)) void *mmap_slow(void *a, size_t len, int prot, int flags, int fd, off_t off,
						 uint64_t ra, uint64_t sp0)
{
	void *p = real_mmap(a, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		on_map(p, len, prot, flags, fd, (uint64_t)off, ra, sp0);
	return p;
}

/* Context: malloc. */
EXPORT void *mmap(void *a, size_t len, int prot, int flags, int fd, off_t off)
{
	if (UNLIKELY(!AGENT_NEXT(real_mmap, "mmap")))
		return MAP_FAILED;
	if (LIKELY(!recording(CALLER_RA)))
		return real_mmap(a, len, prot, flags, fd, off);
	return mmap_slow(a, len, prot, flags, fd, off, CALLER_RA, CALLER_SP);
}

/* Context: malloc. glibc's mmap64 is mmap on 64-bit systems; on others
 * its offset is wider. */
EXPORT void *mmap64(void *a, size_t len, int prot, int flags, int fd, off64_t off)
{
	if (UNLIKELY(!AGENT_NEXT(real_mmap64, "mmap64")))
		return MAP_FAILED;
	if (LIKELY(!recording(CALLER_RA)))
		return real_mmap64(a, len, prot, flags, fd, off);
	void *p = real_mmap64(a, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		on_map(p, len, prot, flags, fd, (uint64_t)off, CALLER_RA, CALLER_SP);
	return p;
}

/* The sequence number is taken before the real call (an address unmapped
 * here may be mapped again by another thread at once), the event pushed
 * only when it succeeded. Context: malloc. */
static __attribute__((noinline)) int munmap_slow(void *a, size_t len)
{
	int saved = errno, guard = agent_guard;
	agent_guard = 1;
	struct tstate *t = arec_tstate();
	uint64_t w[5] = {EV_W0(EV_UNMAP, 0, 0), (uintptr_t)a, len, 0, FD_MAP_ANON};
	uint64_t seq = t ? arec_map_begin(t, 5, NULL, 0, 0) : 0;
	errno = saved;
	int r = real_munmap(a, len);
	saved = errno;
	if (t) {
		w[0] = EV_W0(EV_UNMAP, 5, seq);
		w[3] = agent_now();
		/* A failed call pushes nothing (n 0); the number is skipped. */
		arec_map_end(t, w, r == 0 ? 5 : 0);
	}
	agent_guard = guard;
	errno = saved;
	return r;
}

/* Context: malloc. */
EXPORT int munmap(void *a, size_t len)
{
	if (UNLIKELY(!AGENT_NEXT(real_munmap, "munmap")))
		return -1;
	if (LIKELY(!recording(CALLER_RA)))
		return real_munmap(a, len);
	return munmap_slow(a, len);
}

/* Context: malloc. */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *fixed = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		fixed = va_arg(ap, void *);
		va_end(ap);
	}
	if (UNLIKELY(!AGENT_NEXT(real_mremap, "mremap")))
		return MAP_FAILED;
	void *p = real_mremap(old, old_len, new_len, flags, fixed);
	if (p == MAP_FAILED || LIKELY(!recording(CALLER_RA)))
		return p;
	uint64_t w[8] = {EV_W0(EV_REMAP, 0, 0), 0,	 (uintptr_t)old,  old_len,
			 (uintptr_t)p,		new_len, (unsigned)flags, agent_now()};
	push(w, 8, CALLER_RA, CALLER_SP, 1);
	return p;
}

/* The break moved from old by inc bytes: a MAP of its growth, an UNMAP of
 * what it gave back. Context: malloc. */
static void on_brk(uintptr_t old, intptr_t inc, uint64_t ra, uint64_t sp0)
{
	if (inc > 0) {
		uint64_t w[EV_MAP_FIXED] = {EV_W0(EV_MAP, 0, 0),
					    0,
					    old,
					    (uint64_t)inc,
					    FD_MAP_BRK | (uint64_t)(PROT_READ | PROT_WRITE) << 8,
					    0,
					    agent_now()};
		push(w, EV_MAP_FIXED, ra, sp0, 1);
	} else if (inc < 0) {
		uint64_t w[5] = {EV_W0(EV_UNMAP, 0, 0), old + (uintptr_t)inc, (uint64_t)-inc, agent_now(),
				 FD_MAP_BRK};
		push(w, 5, ra, sp0, 0);
	}
}

/* Context: malloc. */
EXPORT void *sbrk(intptr_t inc)
{
	if (UNLIKELY(!AGENT_NEXT(real_sbrk, "sbrk")))
		return (void *)-1;
	void *old = real_sbrk(inc);
	if (inc && old != (void *)-1 && recording(CALLER_RA))
		on_brk((uintptr_t)old, inc, CALLER_RA, CALLER_SP);
	return old;
}

/* Context: malloc. */
EXPORT int brk(void *addr)
{
	if (UNLIKELY(!AGENT_NEXT(real_brk, "brk")))
		return -1;
	if (LIKELY(!recording(CALLER_RA)) || !real_sbrk)
		return real_brk(addr);
	void *old = real_sbrk(0);
	int r = real_brk(addr);
	if (r == 0 && old != (void *)-1)
		on_brk((uintptr_t)old, (intptr_t)((uintptr_t)addr - (uintptr_t)old), CALLER_RA, CALLER_SP);
	return r;
}
