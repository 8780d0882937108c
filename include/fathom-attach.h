/* What `fathom record --pid` and the agent it loads late share in the
 * target's memory, beside fathom_attach()'s configuration: the threads that
 * ran before the attach with the agent's signal blocked, which the attaching
 * fathom unblocks with ptrace once the agent has started, listing each one
 * here first so that the agent reports the signal blocked to it (the
 * program's view, preload/signal-mask.c). */
#ifndef FATHOM_ATTACH_SHARED_H
#define FATHOM_ATTACH_SHARED_H

#include <stdint.h>

#define FATHOM_LATE_MASK_MAX 1024

/* The agent exports one, named fathom_late_mask. */
struct fathom_late_mask {
	int32_t signo; /* set by the agent when its mask is virtual; 0: leave the threads alone */
	int32_t n;     /* entries of tid, written by fathom after the tids themselves */
	int32_t tid[FATHOM_LATE_MASK_MAX];
};

#endif
