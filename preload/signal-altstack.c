/* The agent's signal stack for each thread, and the interposed sigaltstack
 * that keeps the program's view of its own.
 *
 * Context: sample_altstack_on runs in thread_attach, which the sampling
 * handler may call: async-signal-safe.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <signal.h>

/* The SIGPROF handler runs with SA_ONSTACK on a signal stack the agent owns
 * per thread (struct tstate's alt_sp), so that a sample costs the program's
 * stack nothing: the kernel's signal frame alone is several KB. It is
 * installed only on a thread without a signal stack of its own, and
 * sigaltstack is interposed so that the program sees and sets its own:
 * while ours is installed the program is told it has none; when it sets
 * one, that one is used (our handler then runs on it, as the program's
 * handlers do); when it disables its own, ours is put back. */
static int (*real_sigaltstack)(const stack_t *, stack_t *);

static int resolve_sigaltstack(void)
{
	if (!real_sigaltstack)
		real_sigaltstack = (int (*)(const stack_t *, stack_t *))agent_dlsym_next("sigaltstack");
	return real_sigaltstack != NULL;
}

static int put_ours(struct tstate *t)
{
	stack_t ss;
	ss.ss_sp = t->alt_sp;
	ss.ss_size = ALT_BYTES;
	ss.ss_flags = 0;
	return real_sigaltstack(&ss, NULL);
}

/* Context: any, async-signal-safe; on the thread t belongs to. */
void sample_altstack_on(struct tstate *t)
{
	if (!t->alt_sp || t->alt_on || !resolve_sigaltstack())
		return;
	int saved = errno;
	stack_t cur;
	if (real_sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE) && put_ours(t) == 0)
		t->alt_on = 1;
	errno = saved;
}

EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
	if (!resolve_sigaltstack()) {
		errno = ENOSYS;
		return -1;
	}
	struct tstate *t = agent_tls;
	if (!t || !t->alt_sp)
		return real_sigaltstack(ss, old);
	stack_t o;
	if (real_sigaltstack(ss, &o) < 0)
		return -1;
	if (o.ss_sp == t->alt_sp && !(o.ss_flags & SS_DISABLE)) {
		/* Ours was installed: to the program, there was none. */
		o.ss_sp = NULL;
		o.ss_size = 0;
		o.ss_flags = SS_DISABLE;
	}
	if (ss) {
		t->alt_on = 0;
		if (ss->ss_flags & SS_DISABLE) {
			int saved = errno;
			if (put_ours(t) == 0)
				t->alt_on = 1;
			errno = saved;
		}
	}
	if (old)
		*old = o;
	return 0;
}
