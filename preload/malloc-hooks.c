/* The allocation hooks: malloc and friends, interposed by LD_PRELOAD, record
 * every allocation (exact mode) or a Poisson sample of them by bytes
 * (sampled mode) with the stack of the code that called the allocator.
 * What is recorded, and how the stack is taken, is alloc-record.c's; the
 * bootstrap arena and the interposers are here.
 *
 * Context: malloc. Everything here may run inside any function of the
 * program that allocates, on any thread, with any locks held: no locks, no
 * stdio, errno preserved, and the per-thread guard keeps the agent's own
 * allocations (and dlsym's, zstd's) out of the record. The hooks run on the
 * program's stack: they keep their frames small (the unwinder's state and
 * the frame buffers are per thread, in struct tstate).
 *
 * Each hook takes its caller's return address and stack pointer (the key of
 * the per-thread stack cache) from its own call frame's CFA, which needs no
 * frame pointer: sampled mode's common case is a handful of instructions
 * and a tail call.
 */
#define _GNU_SOURCE
#include "alloc-record.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
} real;
static volatile int resolving;

/* ------------------------------------------------------ the bootstrap arena */

/* dlsym allocates (calloc for its error state) before the real functions are
 * known: those few blocks come from here and are never freed. */
#define ARENA_SIZE (256 * 1024)
static char arena[ARENA_SIZE] __attribute__((aligned(64)));
static _Atomic size_t arena_used;

static inline int in_arena(const void *p)
{
	return (uintptr_t)p - (uintptr_t)arena < ARENA_SIZE;
}

static void *arena_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	size_t cur = atomic_load(&arena_used);
	for (;;) {
		size_t start = (cur + 16 + align - 1) & ~(align - 1);
		if (n > ARENA_SIZE || start + n > ARENA_SIZE)
			return NULL;
		if (atomic_compare_exchange_weak(&arena_used, &cur, start + n)) {
			memcpy(arena + start - sizeof(size_t), &n, sizeof(size_t));
			/* free's fast path need not test for the arena. */
			atomic_store_explicit(&sset_filter[sset_filter_index((uintptr_t)(arena + start))],
					      255, memory_order_relaxed);
			return arena + start;
		}
	}
}

static size_t arena_size(const void *p)
{
	size_t n;
	memcpy(&n, (const char *)p - sizeof(size_t), sizeof(size_t));
	return n;
}

void hooks_resolve(void)
{
	if (real.malloc || resolving)
		return;
	resolving = 1;
	real.free = agent_dlsym_next("free");
	real.calloc = agent_dlsym_next("calloc");
	real.realloc = agent_dlsym_next("realloc");
	real.posix_memalign = agent_dlsym_next("posix_memalign");
	real.aligned_alloc = agent_dlsym_next("aligned_alloc");
	real.memalign = agent_dlsym_next("memalign");
	real.valloc = agent_dlsym_next("valloc");
	real.pvalloc = agent_dlsym_next("pvalloc");
	void *(*m)(size_t) = agent_dlsym_next("malloc");
	__atomic_store_n(&real.malloc, m, __ATOMIC_RELEASE);
	resolving = 0;
}

void *hooks_real_malloc(size_t n)
{
	if (!real.malloc)
		hooks_resolve();
	return real.malloc ? real.malloc(n) : arena_alloc(n, 16);
}

void hooks_real_free(void *p)
{
	if (p && !in_arena(p) && real.free)
		real.free(p);
}

int hooks_setup(void)
{
	if (agent_cfg.alloc == FD_ALLOC_OFF)
		return 0;
	/* The hooks' fast paths call the real functions without testing them. */
	if (!real.malloc || !real.free || !real.calloc || !real.realloc)
		return -ENOENT;
	if (agent_cfg.alloc != FD_ALLOC_SAMPLED)
		return 0;
	return sset_setup();
}

/* --------------------------------------------------------------- the hooks */

/* Each hook starts with sampled mode's common case, which touches nothing
 * but the countdown (or, in free, the filter) and ends in a tail call to
 * the real function; everything else is out of line. In that common case a
 * failed allocation still counts its bytes: the countdown is only the
 * sampling clock, and failures are rare. */

/* Sampled mode, the countdown crossed zero: the allocation is made here.
 * Context: malloc. */
static __attribute__((noinline)) void *malloc_sampled(size_t n, uint64_t ra, uint64_t sp0)
{
	void *p = real.malloc(n);
	/* A failed allocation leaves the countdown below zero: the next one
	 * is sampled instead. */
	if (UNLIKELY(!p))
		return p;
	agent_guard = 1;
	struct tstate *t = arec_sample_due();
	if (t)
		arec_sampled(t, p, n, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Exact mode's common case: this thread is tracked and not inside the
 * agent, the real functions are known (hooks_setup), p (when a block to
 * free) is not the arena's. The thread's state, or NULL. */
static inline __attribute__((always_inline)) struct tstate *exact_thread(void)
{
	if (LIKELY(agent_alloc_on == FD_ALLOC_EXACT) && LIKELY(!agent_guard))
		return agent_tls;
	return NULL;
}

/* Exact mode's allocation on thread t (exact_thread): the stack is taken
 * before the allocator is called, so that only its id lives across the
 * call (a cached one takes no frame to find), the event after it returns.
 * Context: malloc. */
#define EXACT_ALLOC(t, call, size, ra, sp0)                                                                  \
	({                                                                                                   \
		agent_guard = 1;                                                                             \
		uint32_t id_ = arec_alloc_stack((t), (ra), (sp0));                                           \
		void *p_ = AS_PROGRAM(call);                                                                 \
		if (LIKELY(p_))                                                                              \
			arec_alloc_push((t), id_, p_, (size));                                               \
		agent_guard = 0;                                                                             \
		p_;                                                                                          \
	})

/* Context: malloc. Everything but sampled mode's common case. */
static __attribute__((noinline)) void *malloc_slow(size_t n, uint64_t ra, uint64_t sp0)
{
	struct tstate *t = exact_thread();
	if (LIKELY(t))
		return EXACT_ALLOC(t, real.malloc(n), n, ra, sp0);
	if (UNLIKELY(!real.malloc)) {
		hooks_resolve();
		if (!real.malloc)
			return arena_alloc(n, 16);
	}
	if (!RECORDING())
		return real.malloc(n);
	agent_guard = 1;
	void *p = AS_PROGRAM(real.malloc(n));
	if (LIKELY(p))
		arec_on_alloc(p, n, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Context: malloc. */
EXPORT void *malloc(size_t n)
{
	if (SAMPLING()) {
		if (LIKELY((arec_left -= (int64_t)n) > 0))
			return real.malloc(n);
		return malloc_sampled(n, CALLER_RA, CALLER_SP);
	}
	/* Not recording (CPU profiling only): pass through. */
	if (agent_alloc_on == FD_ALLOC_OFF && LIKELY(real.malloc))
		return real.malloc(n);
	return malloc_slow(n, CALLER_RA, CALLER_SP);
}

/* Context: malloc. Everything but sampled mode's common case. */
static __attribute__((noinline)) void free_slow(void *p)
{
	if (UNLIKELY(!p) || UNLIKELY(in_arena(p)))
		return;
	struct tstate *t = exact_thread();
	if (LIKELY(t)) {
		agent_guard = 1;
		arec_free_inline(t, p);
		agent_guard = GUARD_REAL;
		real.free(p);
		agent_guard = 0;
		return;
	}
	if (UNLIKELY(!real.free)) {
		hooks_resolve();
		if (!real.free)
			return;
	}
	if (!RECORDING() || (agent_cfg.alloc == FD_ALLOC_SAMPLED && LIKELY(!arec_maybe_sampled(p)))) {
		real.free(p);
		return;
	}
	agent_guard = 1;
	arec_on_free(p);
	agent_guard = GUARD_REAL;
	real.free(p);
	agent_guard = 0;
}

/* Context: malloc. A sampled block, and a block of the bootstrap arena, has
 * a nonzero filter counter; free(NULL) reaches the real free, which does
 * nothing. The guard needs no test here: the agent's own blocks are never
 * sampled. */
EXPORT void free(void *p)
{
	int mode = agent_alloc_on;
	if (LIKELY(mode == FD_ALLOC_SAMPLED) && LIKELY(!arec_maybe_sampled(p))) {
		real.free(p);
		return;
	}
	/* Not recording (CPU profiling only): pass through. */
	if (mode == FD_ALLOC_OFF && LIKELY(real.free) && LIKELY(!in_arena(p))) {
		real.free(p);
		return;
	}
	free_slow(p);
}

/* Context: malloc. */
static __attribute__((noinline)) void *calloc_slow(size_t a, size_t b, uint64_t ra, uint64_t sp0)
{
	struct tstate *t = exact_thread();
	if (LIKELY(t))
		return EXACT_ALLOC(t, real.calloc(a, b), a * b, ra, sp0);
	if (UNLIKELY(!real.calloc)) {
		hooks_resolve();
		if (!real.calloc) {
			size_t n;
			if (__builtin_mul_overflow(a, b, &n))
				return NULL;
			return arena_alloc(n, 16); /* the arena is zeroed and never reused */
		}
	}
	if (!RECORDING())
		return real.calloc(a, b);
	agent_guard = 1;
	void *p = AS_PROGRAM(real.calloc(a, b));
	if (LIKELY(p))
		arec_on_alloc(p, a * b, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Context: malloc. An overflowing size goes the slow way, which counts no
 * bytes for it. */
EXPORT void *calloc(size_t a, size_t b)
{
	size_t n;
	if (SAMPLING() && LIKELY(!__builtin_mul_overflow(a, b, &n)) && LIKELY(arec_left - (int64_t)n > 0)) {
		arec_left -= (int64_t)n;
		return real.calloc(a, b);
	}
	return calloc_slow(a, b, CALLER_RA, CALLER_SP);
}

/* Context: malloc. */
static __attribute__((noinline)) void *realloc_slow(void *old, size_t n, uint64_t ra, uint64_t sp0)
{
	if (UNLIKELY(!real.realloc)) {
		hooks_resolve();
		if (!real.realloc)
			return NULL;
	}
	if (UNLIKELY(in_arena(old))) {
		/* A block of the bootstrap arena moves to the real heap. */
		void *p = malloc(n);
		if (p) {
			size_t m = arena_size(old);
			memcpy(p, old, m < n ? m : n);
		}
		return p;
	}
	if (!RECORDING())
		return real.realloc(old, n);
	agent_guard = 1;
	void *p;
	if (!old) {
		p = AS_PROGRAM(real.realloc(NULL, n));
		if (p)
			arec_on_alloc(p, n, ra, sp0);
	} else if (n == 0) {
		/* glibc frees the block and returns NULL. */
		arec_on_free(old);
		p = AS_PROGRAM(real.realloc(old, 0));
	} else {
		int was = arec_realloc_before(old);
		p = AS_PROGRAM(real.realloc(old, n));
		arec_realloc_after(old, was, p, n, ra, sp0);
	}
	agent_guard = 0;
	return p;
}

/* Sampled mode's common case for realloc(old, n): old is a live block that
 * was not sampled (or NULL; not the arena's, whose counters are nonzero) and
 * the new block will not be. */
static inline int realloc_unsampled(void *old, size_t n)
{
	return SAMPLING() && LIKELY(n) && LIKELY(!arec_maybe_sampled(old)) &&
	       LIKELY(arec_left - (int64_t)n > 0);
}

/* Context: malloc. */
EXPORT void *realloc(void *old, size_t n)
{
	if (realloc_unsampled(old, n)) {
		arec_left -= (int64_t)n;
		return real.realloc(old, n);
	}
	return realloc_slow(old, n, CALLER_RA, CALLER_SP);
}

/* Context: malloc. */
EXPORT void *reallocarray(void *old, size_t a, size_t b)
{
	size_t n;
	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	if (realloc_unsampled(old, n)) {
		arec_left -= (int64_t)n;
		return real.realloc(old, n);
	}
	return realloc_slow(old, n, CALLER_RA, CALLER_SP);
}

/* Context: malloc. */
EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (UNLIKELY(!real.posix_memalign)) {
		hooks_resolve();
		if (!real.posix_memalign) {
			void *p = arena_alloc(n, align);
			if (!p)
				return ENOMEM;
			*out = p;
			return 0;
		}
	}
	if (!RECORDING())
		return real.posix_memalign(out, align, n);
	agent_guard = 1;
	int r = AS_PROGRAM(real.posix_memalign(out, align, n));
	if (r == 0)
		arec_on_alloc(*out, n, CALLER_RA, CALLER_SP);
	agent_guard = 0;
	return r;
}

/* Context: malloc. */
#define ALIGNED_HOOK(name, params, args, size)                                                               \
	EXPORT void *name params                                                                             \
	{                                                                                                    \
		if (UNLIKELY(!real.name)) {                                                                  \
			hooks_resolve();                                                                     \
			if (!real.name)                                                                      \
				return NULL;                                                                 \
		}                                                                                            \
		if (!RECORDING())                                                                            \
			return real.name args;                                                               \
		agent_guard = 1;                                                                             \
		void *p = AS_PROGRAM(real.name args);                                                        \
		if (LIKELY(p))                                                                               \
			arec_on_alloc(p, size, CALLER_RA, CALLER_SP);                                        \
		agent_guard = 0;                                                                             \
		return p;                                                                                    \
	}

ALIGNED_HOOK(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, (size_t n), (n), n)
