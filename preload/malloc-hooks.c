/* The allocation hooks: malloc and friends, interposed by LD_PRELOAD, record
 * every allocation (exact mode) or a Poisson sample of them by bytes
 * (sampled mode) with the stack of the code that called the allocator.
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
#include "agent.h"
#include "sset.h"

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

/* --------------------------------------------------------- stack capture */

static inline unsigned cache_set(uint64_t ip0, uint64_t sp0)
{
	return (unsigned)(((ip0 ^ (sp0 << 9)) * 0x9e3779b97f4a7c15ull) >> (64 - 6)) % SCACHE_SETS;
}

/* Unwinds from here with the agent's unwinder, drops the agent's own
 * frames, interns the stack (frame 0 is ip0 - 1: inside the call
 * instruction, so that it names the calling line) and fills the cache entry.
 * Context: malloc, t->busy set. */
static __attribute__((noinline)) uint32_t alloc_stack_slow(struct tstate *t, unsigned set, uint64_t ip0,
							   uint64_t sp0)
{
	/* hook_frames holds the STACK event: header, then the frames. */
	uint64_t *ips = t->hook_frames + 2, *sps = t->hook_sps;
	unsigned n = 0;
	int saved = errno;
	/* A signal handler of the program that interrupted the SIGPROF
	 * handler's unwinding may allocate: the state is in use. */
	if (!t->in_unwind) {
		t->unwind_caller = ip0;
		t->in_unwind = 1;
		__asm__ volatile("" ::: "memory");
		struct unwind *u = &t->uw;
		unwind_capture(u->reg);
		unwind_init_captured(u, t->stack_lo, t->stack_hi);
		u->cache = t->uw_cache;
		int skipping = 1;
		do {
			uint64_t ip = u->reg[UW_RA];
			if (skipping && ip >= agent_text_lo && ip < agent_text_hi)
				continue;
			skipping = 0;
			ips[n] = ip;
			sps[n] = u->reg[UW_RSP];
			n++;
		} while (n < FD_MAX_FRAMES && unwind_step(u));
		__asm__ volatile("" ::: "memory");
		t->in_unwind = 0;
	}
	if (n == 0) {
		ips[0] = ip0;
		sps[0] = sp0;
		n = 1;
	}
	uint64_t raw0 = ips[0];
	errno = saved;
	ips[0] = raw0 - 1;
	int is_new;
	uint32_t id = intern_stack(&agent_intern, ips, n, &is_new);
	if (!id) {
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
		return 0;
	}
	if (is_new) {
		t->hook_frames[0] = EV_W0(EV_STACK, n + 2, n);
		t->hook_frames[1] = id;
		thread_push_wait(t, t->hook_frames, n + 2);
	}
	ips[0] = raw0;
	if (n <= SCACHE_FRAMES && raw0 == ip0 && sps[0] == sp0) {
		struct scache_entry *e = &t->cache[set * SCACHE_WAYS + t->cache_rr[set]];
		t->cache_rr[set] = (uint8_t)((t->cache_rr[set] + 1) % SCACHE_WAYS);
		e->gen = 0; /* invalid while being rewritten */
		e->ip0 = ip0;
		e->sp0 = sp0;
		e->n = n;
		memcpy(e->ip, ips, n * sizeof(uint64_t));
		for (unsigned k = 0; k < n; k++)
			e->ra_at[k] = sps[k] - 8;
		e->id = id;
		e->gen = agent_intern_gen;
	}
	return id;
}

/* The stack of the allocation whose caller returns to ip0 with stack pointer
 * sp0. A cached stack is reused when every return address it recorded is
 * still in its slot on the live stack: frame k's layout depends only on its
 * code address and stack pointer, so equal return addresses from the
 * innermost frame outwards mean an equal stack.
 * Context: malloc, t->busy set. */
static inline uint32_t alloc_stack(struct tstate *t, uint64_t ip0, uint64_t sp0)
{
	unsigned set = cache_set(ip0, sp0);
	struct scache_entry *e = &t->cache[set * SCACHE_WAYS];
	for (unsigned way = 0; way < SCACHE_WAYS; way++, e++) {
		if (e->ip0 != ip0 || e->sp0 != sp0 || e->gen != agent_intern_gen)
			continue;
		/* Locals, because the loads from the stack may alias the entry
		 * as far as the compiler knows. */
		const uint64_t *ip = e->ip, *ra_at = e->ra_at;
		unsigned k, n = e->n;
		for (k = 1; k < n; k++)
			if (*(const uint64_t *)(uintptr_t)ra_at[k] != ip[k])
				break;
		if (k >= n)
			return e->id;
	}
	return alloc_stack_slow(t, set, ip0, sp0);
}

/* ----------------------------------------------------------- recording */

static inline struct tstate *tstate_get(void)
{
	struct tstate *t = agent_tls;
	if (UNLIKELY(!t)) {
		t = thread_attach();
		if (!t)
			atomic_fetch_add_explicit(&agent_lost_alloc, 1, memory_order_relaxed);
	}
	return t;
}

static inline void leave(struct tstate *t)
{
	__asm__ volatile("" ::: "memory");
	t->busy = 0;
	__asm__ volatile("" ::: "memory");
	if (UNLIKELY(t->pending))
		thread_flush_pending(t);
}

/* The sequence number comes after the allocator returned (fathom-dump.h). */
static __attribute__((noinline)) void rec_alloc(struct tstate *t, void *p, size_t n, uint64_t ra,
						uint64_t sp0)
{
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
	uint32_t id = alloc_stack(t, ra, sp0);
	thread_reserve(t, 4);
	uint64_t seq = agent_next_seq();
	uint64_t w[4] = {EV_W0(EV_ALLOC, 4, seq), id, n, (uintptr_t)p};
	thread_push(t, w, 4);
	leave(t);
}

/* The sequence number comes before the real free (fathom-dump.h). */
static __attribute__((noinline)) void rec_free(struct tstate *t, void *p)
{
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
	thread_reserve(t, 2);
	uint64_t seq = agent_next_seq();
	uint64_t w[2] = {EV_W0(EV_FREE, 2, seq), (uintptr_t)p};
	thread_push(t, w, 2);
	leave(t);
}

static __attribute__((noinline)) void rec_realloc(struct tstate *t, void *old, void *p, size_t n, uint64_t ra,
						  uint64_t sp0)
{
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
	uint32_t id = alloc_stack(t, ra, sp0);
	thread_reserve(t, 5);
	uint64_t seq = agent_next_seq();
	uint64_t w[5] = {EV_W0(EV_REALLOC, 5, seq), id, n, (uintptr_t)old, (uintptr_t)p};
	thread_push(t, w, 5);
	leave(t);
}
/* Sampled mode: this thread's countdown, in bytes, to its next sampled
 * allocation. It is a TLS variable of its own, not a field of struct
 * tstate, so that the hooks' common case is one subtraction at a fixed
 * offset from the thread pointer, with no state to look up. A thread's
 * first allocation finds it at zero or below and draws it (sample_armed). */
static TLS int64_t sample_left;
static TLS int sample_armed;

/* Sampled mode: the countdown fell to zero or below with the allocation
 * just made (its size already subtracted). Returns the thread's state when
 * that allocation is to be recorded, after drawing the next interval; NULL
 * when it is not (the thread's first draw left room, or the thread cannot
 * be tracked). Context: malloc, agent_guard set. */
static struct tstate *sample_due(void)
{
	struct tstate *t = tstate_get();
	if (UNLIKELY(!t)) {
		/* Untracked: every allocation comes back here (and is counted
		 * lost by tstate_get). */
		sample_left = 0;
		return NULL;
	}
	if (UNLIKELY(!sample_armed)) {
		sample_armed = 1;
		if ((sample_left += agent_sample_interval(t)) > 0)
			return NULL;
	}
	while (sample_left <= 0)
		sample_left += agent_sample_interval(t);
	return t;
}

/* Sampled mode: records the allocation sample_due() chose.
 * Context: malloc, agent_guard set. */
static __attribute__((noinline)) void sampled_alloc(struct tstate *t, void *p, size_t n, uint64_t ra,
						    uint64_t sp0)
{
	if (!sset_insert((uintptr_t)p)) {
		atomic_fetch_add_explicit(&agent_lost_alloc, 1, memory_order_relaxed);
		return;
	}
	rec_alloc(t, p, n, ra, sp0);
}

/* After a successful allocation of n bytes at p. Context: malloc,
 * agent_guard set. */
static inline __attribute__((always_inline)) void on_alloc(void *p, size_t n, uint64_t ra, uint64_t sp0)
{
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED) {
		if (LIKELY((sample_left -= (int64_t)n) > 0))
			return;
		struct tstate *t = sample_due();
		if (t)
			sampled_alloc(t, p, n, ra, sp0);
		return;
	}
	struct tstate *t = tstate_get();
	if (t)
		rec_alloc(t, p, n, ra, sp0);
}

/* Whether p may be a sampled block still live: one load of the filter. */
static inline int maybe_sampled(const void *p)
{
	return sset_maybe((uintptr_t)p);
}

/* Before the real free of p. Context: malloc, agent_guard set. */
static inline __attribute__((always_inline)) void on_free(void *p)
{
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED) {
		if (LIKELY(!maybe_sampled(p)))
			return;
		if (!sset_remove((uintptr_t)p))
			return;
	}
	struct tstate *t = tstate_get();
	if (t)
		rec_free(t, p);
}

/* The caller's return address, and its stack pointer once the call returns
 * (the canonical frame address of the hook's frame). */
#define CALLER_RA ((uint64_t)(uintptr_t)__builtin_return_address(0))
#define CALLER_SP ((uint64_t)(uintptr_t)__builtin_dwarf_cfa())

#define RECORDING() (LIKELY(agent_alloc_on) && !agent_guard)

/* Calls the real allocator for the program inside a hook (the guard held):
 * the guard says GUARD_REAL meanwhile, so that a CPU sample taken there is
 * the program's allocation, not the agent's work (signal-sample.c). */
#define AS_PROGRAM(call)                                                                                     \
	({                                                                                                   \
		agent_guard = GUARD_REAL;                                                                    \
		__typeof__(call) r_ = (call);                                                                \
		agent_guard = 1;                                                                             \
		r_;                                                                                          \
	})

/* The hooks' first test: sampled mode is recording and this thread is not
 * inside the agent. agent_alloc_on holds the mode, so this is two loads. */
#define SAMPLING() (LIKELY(agent_alloc_on == FD_ALLOC_SAMPLED) && LIKELY(!agent_guard))

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
	struct tstate *t = sample_due();
	if (t)
		sampled_alloc(t, p, n, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Context: malloc. Everything but sampled mode's common case. */
static __attribute__((noinline)) void *malloc_slow(size_t n, uint64_t ra, uint64_t sp0)
{
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
		on_alloc(p, n, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Context: malloc. */
EXPORT void *malloc(size_t n)
{
	if (SAMPLING()) {
		if (LIKELY((sample_left -= (int64_t)n) > 0))
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
	if (UNLIKELY(!real.free)) {
		hooks_resolve();
		if (!real.free)
			return;
	}
	if (!RECORDING() || (agent_cfg.alloc == FD_ALLOC_SAMPLED && LIKELY(!maybe_sampled(p)))) {
		real.free(p);
		return;
	}
	agent_guard = 1;
	on_free(p);
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
	if (LIKELY(mode == FD_ALLOC_SAMPLED) && LIKELY(!maybe_sampled(p))) {
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
		on_alloc(p, a * b, ra, sp0);
	agent_guard = 0;
	return p;
}

/* Context: malloc. An overflowing size goes the slow way, which counts no
 * bytes for it. */
EXPORT void *calloc(size_t a, size_t b)
{
	size_t n;
	if (SAMPLING() && LIKELY(!__builtin_mul_overflow(a, b, &n)) && LIKELY(sample_left - (int64_t)n > 0)) {
		sample_left -= (int64_t)n;
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
			on_alloc(p, n, ra, sp0);
	} else if (n == 0) {
		/* glibc frees the block and returns NULL. */
		on_free(old);
		p = AS_PROGRAM(real.realloc(old, 0));
	} else if (agent_cfg.alloc == FD_ALLOC_SAMPLED) {
		int was = maybe_sampled(old) && sset_remove((uintptr_t)old);
		p = AS_PROGRAM(real.realloc(old, n));
		if (!p) {
			if (was)
				sset_insert((uintptr_t)old);
		} else {
			struct tstate *t = NULL;
			int now = (sample_left -= (int64_t)n) <= 0 && (t = sample_due()) &&
				  sset_insert((uintptr_t)p);
			if (was && !t)
				t = tstate_get();
			if (t) {
				if (was && now)
					rec_realloc(t, old, p, n, ra, sp0);
				else if (was)
					rec_free(t, old);
				else if (now)
					rec_alloc(t, p, n, ra, sp0);
			}
		}
	} else {
		p = AS_PROGRAM(real.realloc(old, n));
		if (p) {
			struct tstate *t = tstate_get();
			if (t)
				rec_realloc(t, old, p, n, ra, sp0);
		}
	}
	agent_guard = 0;
	return p;
}

/* Sampled mode's common case for realloc(old, n): old is a live block that
 * was not sampled (or NULL; not the arena's, whose counters are nonzero) and
 * the new block will not be. */
static inline int realloc_unsampled(void *old, size_t n)
{
	return SAMPLING() && LIKELY(n) && LIKELY(!maybe_sampled(old)) && LIKELY(sample_left - (int64_t)n > 0);
}

/* Context: malloc. */
EXPORT void *realloc(void *old, size_t n)
{
	if (realloc_unsampled(old, n)) {
		sample_left -= (int64_t)n;
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
		sample_left -= (int64_t)n;
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
		on_alloc(*out, n, CALLER_RA, CALLER_SP);
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
			on_alloc(p, size, CALLER_RA, CALLER_SP);                                             \
		agent_guard = 0;                                                                             \
		return p;                                                                                    \
	}

ALIGNED_HOOK(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, (size_t n), (n), n)
