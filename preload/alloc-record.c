/* The allocation recording core: the stack of an allocation (unwound from
 * the hook, cached per thread), the ALLOC, FREE and REALLOC events, and
 * sampled mode's countdown; for the malloc interposers (malloc-hooks.c)
 * and the wrapper of the Python allocators (python-alloc.c).
 *
 * Context: malloc. Everything here may run inside any function of the
 * program that allocates, on any thread, with any locks held: no locks, no
 * stdio, errno preserved. It runs on the program's stack: frames stay
 * small (the unwinder's state and the frame buffers are per thread, in
 * struct tstate).
 */
#define _GNU_SOURCE
#include "alloc-record.h"
#include "python.h"

#include <errno.h>
#include <string.h>

TLS int64_t arec_left;
TLS int arec_armed;

/* --------------------------------------------------------- stack capture */

static inline unsigned cache_set(uint64_t ip0, uint64_t sp0)
{
	return (unsigned)(((ip0 ^ (sp0 << 9)) * 0x9e3779b97f4a7c15ull) >> (64 - 6)) % SCACHE_SETS;
}

/* A frame pointer the unwinder does not know (no register holds it). */
#define UNKNOWN_RBP 1

/* Whether the frames of the last walk above its frame j are still on the
 * stack: every return address in its slot, the slots within the live stack
 * (above frame j, below hi). A frame's caller follows from its return address, stack and
 * frame pointers and the memory above it, so a walk that reaches frame j
 * of the last one (the same three) goes on as it did, and reading the
 * return addresses back costs a load a frame where unwinding costs a table
 * lookup and a few reads. */
static inline int outer_intact(const struct tstate *t, unsigned j, uintptr_t hi)
{
	/* Every slot read lies between frame j and the top of the stack (a
	 * last walk that crossed from a signal stack may hold others). */
	uint64_t lo = t->last_sps[j];
	for (unsigned m = j + 1; m < t->last_n; m++) {
		uint64_t at = t->last_sps[m] - 8;
		if (at < lo || at + 8 > hi || *(const uint64_t *)(uintptr_t)at != t->last_ips[m])
			return 0;
	}
	return 1;
}

/* Unwinds from here with the agent's unwinder, drops the agent's own
 * frames, interns the stack (frame 0 is ip0 - 1: inside the call
 * instruction, so that it names the calling line) and fills the cache entry.
 * The raw frames stay in t->hook_frames + 2 (*n of them).
 * Context: malloc, t->busy set. */
static __attribute__((noinline)) uint32_t stack_slow(struct tstate *t, unsigned set, uint64_t ip0,
						     uint64_t sp0, unsigned *nout)
{
	/* hook_frames holds the STACK event: header, then the frames. */
	uint64_t *ips = t->hook_frames + 2, *sps = t->hook_sps, *rbps = t->hook_rbps;
	unsigned n = 0;
	int saved = errno;
	/* A signal handler of the program that interrupted the SIGPROF
	 * handler's unwinding may allocate: the state is in use. */
	int walk = !t->in_unwind;
	if (walk) {
		t->unwind_caller = ip0;
		t->in_unwind = 1;
		__asm__ volatile("" ::: "memory");
		struct unwind *u = &t->uw;
		unwind_capture(u->reg);
		unwind_init_captured(u, t->stack_lo, t->stack_hi);
		u->cache = t->uw_cache;
		unsigned j = 0;
		/* Past the agent's own frames (learned once, then one step). */
		int more = unwind_skip(u, agent_text_lo, agent_text_hi);
		while (more) {
			uint64_t ip = u->reg[UW_RA], sp = u->reg[UW_RSP];
			ips[n] = ip;
			sps[n] = sp;
			rbps[n] = u->known & (1u << UW_RBP) ? u->reg[UW_RBP] : UNKNOWN_RBP;
			/* The last walk's frames are in stack order too. */
			while (j < t->last_n && t->last_sps[j] < sp)
				j++;
			if (j < t->last_n && t->last_sps[j] == sp && t->last_ips[j] == ip &&
			    t->last_rbps[j] == rbps[n] && outer_intact(t, j, u->ok_hi[0])) {
				unsigned m = t->last_n - j - 1;
				if (m > FD_MAX_FRAMES - n - 1)
					m = FD_MAX_FRAMES - n - 1;
				memcpy(ips + n + 1, t->last_ips + j + 1, m * sizeof(uint64_t));
				memcpy(sps + n + 1, t->last_sps + j + 1, m * sizeof(uint64_t));
				memcpy(rbps + n + 1, t->last_rbps + j + 1, m * sizeof(uint64_t));
				n += 1 + m;
				break;
			}
			n++;
			more = n < FD_MAX_FRAMES && unwind_step(u);
		}
		__asm__ volatile("" ::: "memory");
		t->in_unwind = 0;
	}
	if (n == 0) {
		ips[0] = ip0;
		sps[0] = sp0;
		n = 1;
	}
	*nout = n;
	uint64_t raw0 = ips[0];
	errno = saved;
	/* The intern table's slot comes from memory while the last walk and
	 * the cache entry are written. */
	ips[0] = raw0 - 1;
	uint64_t h = intern_hash(ips, n);
	intern_prefetch(&agent_intern, h);
	ips[0] = raw0;
	if (walk) {
		memcpy(t->last_ips, ips, n * sizeof(uint64_t));
		memcpy(t->last_sps, sps, n * sizeof(uint64_t));
		memcpy(t->last_rbps, rbps, n * sizeof(uint64_t));
		t->last_n = n;
	}
	struct scache_entry *e = NULL;
	if (n <= SCACHE_FRAMES && raw0 == ip0 && sps[0] == sp0) {
		unsigned way = t->cache_rr[set];
		e = &t->cache[set * SCACHE_WAYS + way];
		t->cache_rr[set] = (uint8_t)((way + 1) % SCACHE_WAYS);
		t->cache_mru[set] = (uint8_t)way;
		e->gen = 0; /* invalid while being rewritten */
		e->ip0 = ip0;
		e->sp0 = sp0;
		e->n = n;
		memcpy(e->ip, ips, n * sizeof(uint64_t));
		for (unsigned k = 0; k < n; k++)
			e->ra_at[k] = sps[k] - 8;
		/* The check reads frames 1 to n - 1 four at a time: the count
		 * is padded with frames that always match (each slot is
		 * itself). */
		for (unsigned k = n; k < scache_check_end(n); k++) {
			e->ip[k] = (uintptr_t)&e->ip[k];
			e->ra_at[k] = (uintptr_t)&e->ip[k];
		}
	}
	ips[0] = raw0 - 1;
	int is_new;
	uint32_t id = intern_stack_hashed(&agent_intern, ips, n, h, &is_new);
	if (!id) {
		ips[0] = raw0;
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
		return 0;
	}
	if (is_new) {
		t->hook_frames[0] = EV_W0(EV_STACK, n + 2, n);
		t->hook_frames[1] = id;
		thread_push_wait(t, t->hook_frames, n + 2);
	}
	ips[0] = raw0;
	if (e) {
		e->id = id;
		e->gen = agent_intern_gen;
	}
	return id;
}

/* A cached stack is reused when every return address it recorded is still
 * in its slot on the live stack: frame k's layout depends only on its code
 * address and stack pointer, so equal return addresses from the innermost
 * frame outwards mean an equal stack. Whether entry e holds the stack of
 * the call that returns to ip0 with stack pointer sp0. */
static inline __attribute__((always_inline)) int entry_holds(const struct scache_entry *e, uint64_t ip0,
							     uint64_t sp0, uint32_t gen)
{
	if ((e->ip0 ^ ip0) | (e->sp0 ^ sp0) | (e->gen ^ gen))
		return 0;
	/* One pointer walks both arrays (ra_at follows ip), four frames a
	 * step with one branch for them, up to the pad; locals, because the
	 * loads from the stack may alias the entry as far as the compiler
	 * knows. */
	const uint64_t *q = e->ip + 1, *end = e->ip + e->n;
	for (; q < end; q += 4) {
		uint64_t diff = (*(const uint64_t *)(uintptr_t)q[SCACHE_RA_AT] ^ q[0]) |
				(*(const uint64_t *)(uintptr_t)q[SCACHE_RA_AT + 1] ^ q[1]) |
				(*(const uint64_t *)(uintptr_t)q[SCACHE_RA_AT + 2] ^ q[2]) |
				(*(const uint64_t *)(uintptr_t)q[SCACHE_RA_AT + 3] ^ q[3]);
		if (diff)
			return 0;
	}
	return 1;
}

/* The ways of a set are tried from the one that matched last: call sites
 * that share the innermost frames (one allocating function called along
 * several paths) share a set, and each way that fails costs the
 * comparisons up to the first frame that differs. Returns the stack's id,
 * 0 when no way holds it. */
static inline __attribute__((always_inline)) uint32_t stack_ways(struct tstate *t, unsigned set, uint64_t ip0,
								 uint64_t sp0, const uint64_t **frames,
								 unsigned *nf, unsigned from)
{
	const struct scache_entry *ways = &t->cache[set * SCACHE_WAYS];
	unsigned first = t->cache_mru[set];
	uint32_t gen = agent_intern_gen;
	for (unsigned i = from; i < SCACHE_WAYS; i++) {
		unsigned way = (first + i) & (SCACHE_WAYS - 1);
		const struct scache_entry *e = &ways[way];
		if (entry_holds(e, ip0, sp0, gen)) {
			if (i)
				t->cache_mru[set] = (uint8_t)way;
			if (frames) {
				*frames = e->ip;
				*nf = e->n;
			}
			return e->id;
		}
	}
	return 0;
}

static inline __attribute__((always_inline)) uint32_t stack_cached(struct tstate *t, unsigned set,
								   uint64_t ip0, uint64_t sp0,
								   const uint64_t **frames, unsigned *nf)
{
	return stack_ways(t, set, ip0, sp0, frames, nf, 0);
}

static inline __attribute__((always_inline)) uint32_t stack_of(struct tstate *t, uint64_t ip0, uint64_t sp0,
							       const uint64_t **frames, unsigned *nf)
{
	unsigned set = cache_set(ip0, sp0);
	uint32_t id = stack_cached(t, set, ip0, sp0, frames, nf);
	if (LIKELY(id))
		return id;
	unsigned n;
	id = stack_slow(t, set, ip0, sp0, &n);
	if (frames) {
		*frames = t->hook_frames + 2;
		*nf = n;
	}
	return id;
}

uint32_t arec_stack(struct tstate *t, uint64_t ip0, uint64_t sp0, const uint64_t **frames, unsigned *nf)
{
	return stack_of(t, ip0, sp0, frames, nf);
}

/* An allocation's stack: python_alloc_stack's, without its calls when no
 * Python frames are walked. Context: malloc, t->busy set. */
static inline __attribute__((always_inline)) uint32_t alloc_stack(struct tstate *t, uint64_t ra, uint64_t sp0)
{
	if (LIKELY(!python_walk_on))
		return stack_of(t, ra, sp0, NULL, NULL);
	return python_alloc_stack(t, ra, sp0);
}

/* ----------------------------------------------------------- recording */

/* arec_alloc_stack's way for everything but a cached native stack. */
static __attribute__((noinline)) uint32_t alloc_stack_full(struct tstate *t, uint64_t ra, uint64_t sp0)
{
	/* The set's other ways first (the last-matched one failed). */
	if (LIKELY(!(python_alloc_wanted | python_walk_on))) {
		uint32_t id = stack_ways(t, cache_set(ra, sp0), ra, sp0, NULL, NULL, 1);
		if (id)
			return id;
	}
	python_alloc_poll();
	thread_busy_on(t);
	uint32_t id = alloc_stack(t, ra, sp0);
	thread_busy_off(t);
	return id;
}

/* The common case, no Python frames and the stack in the way of its set
 * that matched last, makes no call and needs no busy flag (the cache is
 * the hooks' own: agent_guard keeps them from nesting), and so saves no
 * register. */
__attribute__((noinline)) uint32_t arec_alloc_stack(struct tstate *t, uint64_t ra, uint64_t sp0)
{
	if (LIKELY(!(python_alloc_wanted | python_walk_on))) {
		unsigned set = cache_set(ra, sp0);
		const struct scache_entry *e = &t->cache[set * SCACHE_WAYS + t->cache_mru[set]];
		if (LIKELY(entry_holds(e, ra, sp0, agent_intern_gen)))
			return e->id;
	}
	return alloc_stack_full(t, ra, sp0);
}

/* The sequence number comes after the allocator returned (fathom-dump.h). */
__attribute__((noinline)) void arec_alloc(struct tstate *t, void *p, size_t n, uint64_t ra, uint64_t sp0)
{
	arec_alloc_push(t, arec_alloc_stack(t, ra, sp0), p, n);
}

/* The sequence number comes before the real free (fathom-dump.h). */
__attribute__((noinline)) void arec_free(struct tstate *t, void *p)
{
	/* No fence before the real free: once, the stores of the events
	 * landed in ring lines the writer had read, and the free's locked
	 * instructions waited for them (charged to the program's free); a
	 * fence here made that wait the agent's. Now the push asks for the
	 * lines ahead (prefetchw), the stores find them, and the fence only
	 * cost time: stk_mix heavy's stk_build read 71-73% with it, 76-79%
	 * without, 82% by the program's clock. */
	arec_free_inline(t, p);
}

__attribute__((noinline)) void arec_realloc(struct tstate *t, void *old, void *p, size_t n, uint64_t ra,
					    uint64_t sp0)
{
	thread_busy_on(t);
	uint32_t id = alloc_stack(t, ra, sp0);
	thread_push_seq(t, 5, EV_W0(EV_REALLOC, 5, 0), id, n, (uintptr_t)old, (uintptr_t)p);
	thread_busy_off(t);
}

struct tstate *arec_sample_due(void)
{
	struct tstate *t = arec_tstate();
	if (UNLIKELY(!t)) {
		/* Untracked: every allocation comes back here (and is counted
		 * lost by arec_tstate). */
		arec_left = 0;
		return NULL;
	}
	python_alloc_poll();
	if (UNLIKELY(!arec_armed)) {
		arec_armed = 1;
		if ((arec_left += agent_sample_interval(t)) > 0)
			return NULL;
	}
	while (arec_left <= 0)
		arec_left += agent_sample_interval(t);
	return t;
}

__attribute__((noinline)) void arec_sampled(struct tstate *t, void *p, size_t n, uint64_t ra, uint64_t sp0)
{
	if (!sset_insert((uintptr_t)p)) {
		atomic_fetch_add_explicit(&agent_lost_alloc, 1, memory_order_relaxed);
		return;
	}
	arec_alloc(t, p, n, ra, sp0);
}

void arec_realloc_after(void *old, int was, void *p, size_t n, uint64_t ra, uint64_t sp0)
{
	if (agent_cfg.alloc != FD_ALLOC_SAMPLED) {
		struct tstate *t;
		if (p && (t = arec_tstate()))
			arec_realloc(t, old, p, n, ra, sp0);
		return;
	}
	if (!p) {
		if (was)
			sset_insert((uintptr_t)old);
		return;
	}
	struct tstate *t = NULL;
	int now = (arec_left -= (int64_t)n) <= 0 && (t = arec_sample_due()) && sset_insert((uintptr_t)p);
	if (was && !t)
		t = arec_tstate();
	if (!t)
		return;
	if (was && now)
		arec_realloc(t, old, p, n, ra, sp0);
	else if (was)
		arec_free(t, old);
	else if (now)
		arec_alloc(t, p, n, ra, sp0);
}

/* ------------------------------------------------ the mapping hooks' events */

/* Begins a mapping event of n words (mmap-hooks.c): makes room, fills *stack
 * (when not NULL) with the caller's stack, and returns its sequence number.
 * t stays busy until arec_map_end. Context: malloc, agent_guard set. */
uint64_t arec_map_begin(struct tstate *t, unsigned n, uint64_t *stack, uint64_t ra, uint64_t sp0)
{
	thread_busy_on(t);
	if (stack)
		*stack = arec_stack(t, ra, sp0, NULL, NULL);
	thread_reserve(t, n);
	return agent_next_seq();
}

/* Pushes the event (none when n is 0: the call failed) and ends it.
 * Context: malloc, agent_guard set. */
void arec_map_end(struct tstate *t, const uint64_t *w, unsigned n)
{
	if (n)
		thread_push(t, w, n);
	thread_busy_off(t);
}
