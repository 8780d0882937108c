/* The waiting profile's recording core (wait-record.c), shared by the lock
 * interposers (wait-locks.c), the blocking calls (blocking*.c) and the
 * syscall() stub's futex waits (signal-action.c): when a wait is recorded,
 * with which weight, on which stack.
 *
 * Context: the program's threads, in any interposed call, possibly inside
 * the program's signal handlers: no locks, no stdio, errno preserved.
 */
#ifndef FATHOM_WAIT_H
#define FATHOM_WAIT_H

#include "agent.h"

#include <pthread.h>

#pragma GCC visibility push(hidden)

/* wait_end's flags. */
#define WAIT_FD 1u /* the object is a descriptor: its kind is recorded */
#define WAIT_NB 2u /* ...and a wait on a non-blocking descriptor is none */

/* The caller's return address and stack pointer, as the malloc hooks take
 * them (alloc-record.h): the key of the per-thread stack cache. */
#define WAIT_RA ((uint64_t)(uintptr_t)__builtin_return_address(0))
#define WAIT_SP ((uint64_t)(uintptr_t)__builtin_dwarf_cfa())

/* The start of a wait (ns since the agent's start), or 0 when it is not to
 * be timed: waits off, or the agent's own call. */
static inline uint64_t wait_start(void)
{
	if (LIKELY(!agent_wait_on) || agent_guard)
		return 0;
	uint64_t now = agent_now();
	return now ? now : 1;
}

/* The wait that started at t0 ended at t1 (both ns since start): records
 * it when the estimator says so (wait-record.c), on the stack of the call
 * that returns to ra with stack pointer sp. reason: FD_WAIT_*; flags:
 * WAIT_*. Preserves errno. */
void wait_done(uint64_t t0, uint64_t t1, unsigned reason, uint64_t object, unsigned flags, uint64_t ra,
	       uint64_t sp);

/* wait_done, ending now; a wrapper's macro, so that the stack is its
 * caller's. */
#define WAIT_END(t0, reason, object, flags)                                                                  \
	do {                                                                                                 \
		if (UNLIKELY(t0))                                                                            \
			wait_done((t0), agent_now(), (reason), (uint64_t)(object), (flags), WAIT_RA,         \
				  WAIT_SP);                                                                  \
	} while (0)

/* A contended release of mutex object, held held_ns (0: unknown), standing
 * for weight contended releases: a HOLD on the releaser's stack. Preserves
 * errno. */
void wait_hold(uint64_t object, uint64_t held_ns, uint64_t weight, uint64_t ra, uint64_t sp);

/* A draw of the thread's generator: 1 with probability num / den. */
int wait_chance(uint64_t num, uint64_t den);

/* The mutex m was acquired at time at after a wait (or by a condition
 * wait's return): a contended release of it can say how long it was held
 * (wait-locks.c). */
void wait_held_note(const void *m, uint64_t at);

#pragma GCC visibility pop

#endif
