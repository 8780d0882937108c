/* The allocation recording core (alloc-record.c) that the malloc
 * interposers (malloc-hooks.c) and the wrapper of the Python allocators
 * (python-alloc.c) share: the stack of an allocation, the events, and
 * sampled mode's countdown.
 *
 * Context: malloc, throughout (see malloc-hooks.c).
 */
#ifndef FATHOM_ALLOC_RECORD_H
#define FATHOM_ALLOC_RECORD_H

#include "agent.h"
#include "sset.h"

#pragma GCC visibility push(hidden)

/* Sampled mode: this thread's countdown, in bytes, to its next sampled
 * allocation. It is a TLS variable of its own, not a field of struct
 * tstate, so that the hooks' common case is one subtraction at a fixed
 * offset from the thread pointer, with no state to look up. A thread's
 * first allocation finds it at zero or below and draws it (arec_armed: a
 * fresh draw, also after python_alloc_kick). */
extern TLS int64_t arec_left;
extern TLS int arec_armed;

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

/* The stack of the allocation whose caller returns to ip0 with stack
 * pointer sp0, interned (0 when it could not be). With frames, also the
 * native frames themselves (*frames[0] is ip0 itself, the others return
 * addresses): valid until the next call on this thread.
 * Context: malloc, t->busy set. */
uint32_t arec_stack(struct tstate *t, uint64_t ip0, uint64_t sp0, const uint64_t **frames, unsigned *n);

/* The events, each with its sequence number and (allocations) the stack
 * of python_alloc_stack: the native frames, then the thread's Python
 * frames when it runs Python, whichever allocator was called (malloc
 * from a C extension, or the wrapped Python allocators). Context: malloc,
 * agent_guard set. */
void arec_alloc(struct tstate *t, void *p, size_t n, uint64_t ra, uint64_t sp0);
/* arec_alloc in two halves, for a hook that takes the stack before it
 * calls the allocator (it is the same after), so that only the stack's id
 * lives across that call: the stack (0 when it could not be interned),
 * then the event. Context: malloc, agent_guard set. */
uint32_t arec_alloc_stack(struct tstate *t, uint64_t ra, uint64_t sp0);
static inline __attribute__((always_inline)) void arec_alloc_push(struct tstate *t, uint32_t id, void *p,
								  size_t n)
{
	thread_busy_on(t);
	thread_push_seq(t, 4, EV_W0(EV_ALLOC, 4, 0), id, n, (uintptr_t)p, 0);
	thread_busy_off(t);
}
void arec_free(struct tstate *t, void *p);
void arec_realloc(struct tstate *t, void *old, void *p, size_t n, uint64_t ra, uint64_t sp0);

/* A mapping event (mmap-hooks.c): arec_map_begin makes room for n words,
 * fills *stack (unless NULL) and returns the event's sequence number;
 * arec_map_end pushes n words (0: nothing). Context: malloc, agent_guard
 * set. */
uint64_t arec_map_begin(struct tstate *t, unsigned n, uint64_t *stack, uint64_t ra, uint64_t sp0);
void arec_map_end(struct tstate *t, const uint64_t *w, unsigned n);

/* Sampled mode: the countdown fell to zero or below with the allocation
 * just made. Returns the thread's state when that allocation is to be
 * recorded, NULL when not. Context: malloc, agent_guard set. */
struct tstate *arec_sample_due(void);
/* Sampled mode: records the allocation arec_sample_due() chose.
 * Context: malloc, agent_guard set. */
void arec_sampled(struct tstate *t, void *p, size_t n, uint64_t ra, uint64_t sp0);
/* After a realloc of old (not NULL) to n bytes returned p (NULL: it
 * failed, old is intact); was: arec_realloc_before's answer. Context:
 * malloc, agent_guard set. */
void arec_realloc_after(void *old, int was, void *p, size_t n, uint64_t ra, uint64_t sp0);

/* This thread's state; NULL (counted lost) when it cannot be tracked.
 * Context: malloc. */
static inline struct tstate *arec_tstate(void)
{
	struct tstate *t = agent_tls;
	if (UNLIKELY(!t)) {
		t = thread_attach();
		if (!t)
			atomic_fetch_add_explicit(&agent_lost_alloc, 1, memory_order_relaxed);
	}
	return t;
}

/* Whether p may be a sampled block still live: one load of the filter. */
static inline int arec_maybe_sampled(const void *p)
{
	return sset_maybe((uintptr_t)p);
}

/* After a successful allocation of n bytes at p. Context: malloc,
 * agent_guard set. */
static inline __attribute__((always_inline)) void arec_on_alloc(void *p, size_t n, uint64_t ra, uint64_t sp0)
{
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED) {
		if (LIKELY((arec_left -= (int64_t)n) > 0))
			return;
		struct tstate *t = arec_sample_due();
		if (t)
			arec_sampled(t, p, n, ra, sp0);
		return;
	}
	struct tstate *t = arec_tstate();
	if (t)
		arec_alloc(t, p, n, ra, sp0);
}

/* The FREE event of p, inline: arec_free's body, for the free hook.
 * Context: malloc, agent_guard set. */
static inline __attribute__((always_inline)) void arec_free_inline(struct tstate *t, void *p)
{
	thread_busy_on(t);
	thread_push_seq(t, 2, EV_W0(EV_FREE, 2, 0), (uintptr_t)p, 0, 0, 0);
	thread_busy_off(t);
}

/* Before the real free of p. Context: malloc, agent_guard set. */
static inline __attribute__((always_inline)) void arec_on_free(void *p)
{
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED) {
		if (LIKELY(!arec_maybe_sampled(p)))
			return;
		if (!sset_remove((uintptr_t)p))
			return;
	}
	struct tstate *t = arec_tstate();
	if (t)
		arec_free_inline(t, p);
}

/* Before a realloc of old (not NULL): in sampled mode, takes old out of
 * the live set and says whether it was there. Context: malloc, agent_guard
 * set. */
static inline int arec_realloc_before(void *old)
{
	return agent_cfg.alloc == FD_ALLOC_SAMPLED && arec_maybe_sampled(old) && sset_remove((uintptr_t)old);
}

#pragma GCC visibility pop

#endif
