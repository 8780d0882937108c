/* The wrappers of blocking calls (blocking.c, blocking-io.c): the blocked
 * state of the wall clock (blocking.c), the retry after the agent's signal,
 * and the waiting profile's timing (wait.h), in one struct blk per call.
 *
 * Context: the program's threads, possibly inside its signal handlers.
 */
#ifndef FATHOM_BLOCKING_H
#define FATHOM_BLOCKING_H

#include "wait.h"

#include <errno.h>

#pragma GCC visibility push(hidden)

/* Finds libc's function, or fails the call as the C library would have
 * without it. */
#define RESOLVE(var, name)                                                                                   \
	do {                                                                                                 \
		if (UNLIKELY(!(var))) {                                                                      \
			*(void **)&(var) = agent_dlsym_next(name);                                           \
			if (!(var)) {                                                                        \
				errno = ENOSYS;                                                              \
				return -1;                                                                   \
			}                                                                                    \
		}                                                                                            \
	} while (0)

/* One wrapper's view: the thread's state when this call marked it blocked
 * (NULL otherwise), the agent's signal count when the call started, and
 * the start of the wait when waits are recorded (0 otherwise). */
struct blk {
	struct tstate *t;
	unsigned sigs;
	uint64_t w0;
};

/* Marks the thread blocked (wall clock). */
void blk_enter_slow(struct blk *b, void *fn, uintptr_t sp);

/* Context: the wrapper's entry, before the call. fn: the libc function the
 * program called, when the wrapper calls another one; else NULL. */
static inline void blk_enter(struct blk *b, void *fn)
{
	b->t = NULL;
	b->sigs = agent_sample_sigs;
	b->w0 = wait_start();
	if (LIKELY(agent_cfg.clock != FD_CLOCK_WALL) || !agent_cpu_on || agent_guard)
		return;
	blk_enter_slow(b, fn, (uintptr_t)__builtin_frame_address(0));
}

/* The wrapper's exit, also when the thread is cancelled in the call (a
 * cleanup: the wrappers' files are built with -fexceptions). The waiting
 * profile keeps no state during the call: a cancelled call records no
 * wait, and leaves nothing behind. */
void blk_leave(struct blk *b);

/* The call failed with EINTR because of the agent's signal only: retry. */
static inline int blk_ours(struct blk *b, int failed_eintr)
{
	if (!failed_eintr || agent_sample_sigs == b->sigs)
		return 0;
	b->sigs = agent_sample_sigs;
	return 1;
}

#define BLK(b, fn)                                                                                           \
	struct blk b __attribute__((cleanup(blk_leave)));                                                    \
	blk_enter(&b, (void *)(fn))

/* The call returned: its wait goes to the estimator (wait.h), on the
 * stack of the wrapper's caller. */
#define BLK_WAIT(b, reason, object, flags) WAIT_END((b).w0, (reason), (object), (flags))

#pragma GCC visibility pop

#endif
