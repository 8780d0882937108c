/* The interposed thread functions: pthread_create (the new thread attaches
 * and gets its timer before it runs its start routine), and the renames
 * (pthread_setname_np, prctl PR_SET_NAME) whose new names go out as THREAD
 * records.
 *
 * Context: the program's threads.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "interpose.h"
#include "sigmask.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>

static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* The C library's pthread_create, for the writer's own thread; 0 when it
 * cannot be found. */
int thread_create_resolve(void)
{
	if (!real_pthread_create)
		real_pthread_create = agent_dlsym_next("pthread_create");
	return real_pthread_create != NULL;
}

int thread_create_real(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	return real_pthread_create(th, attr, fn, arg);
}

struct tramp {
	void *(*fn)(void *);
	void *arg;
	int sigmask_view; /* the creator's view of its mask (signal-mask.c) */
};

static void *trampoline(void *p)
{
	struct tramp a = *(struct tramp *)p;
	hooks_real_free(p);
	int g = agent_guard;
	agent_guard = 1;
	sigmask_thread_start(a.sigmask_view);
	struct tstate *t = thread_attach();
	thread_stack_bounds(t);
	if (t && agent_cfg.cpu)
		tcpu_note_birth(t, a.fn);
	if (t && agent_cpu_on)
		sample_arm(t, t->tid);
	agent_guard = g;
	return a.fn(a.arg);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (!real_pthread_create)
		real_pthread_create = agent_dlsym_next("pthread_create");
	if (!real_pthread_create)
		return EAGAIN;
	agent_multi = 1;
	if (!agent_ready)
		return real_pthread_create(th, attr, fn, arg);
	struct tramp *a = hooks_real_malloc(sizeof(*a));
	if (!a)
		return real_pthread_create(th, attr, fn, arg);
	a->fn = fn;
	a->arg = arg;
	a->sigmask_view = sigmask_thread_view();
	int r = real_pthread_create(th, attr, trampoline, a);
	if (r)
		hooks_real_free(a);
	return r;
}

REAL(pthread_setname_np, int (*)(pthread_t, const char *));

/* A thread renamed itself (pthread_setname_np, prctl PR_SET_NAME): its new
 * name goes out as a THREAD record from the thread itself. */
static void note_own_name(const char *name)
{
	if (!agent_ready)
		return;
	int g = agent_guard;
	agent_guard = 1;
	struct tstate *t = thread_attach();
	if (t) {
		t->busy = 1;
		__asm__ volatile("" ::: "memory");
		memset(t->name, 0, 16);
		memcpy(t->name, name, strnlen(name, 15));
		uint64_t w[5] = {EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0};
		memcpy(&w[3], t->name, 16);
		thread_push_wait(t, w, 5);
		__asm__ volatile("" ::: "memory");
		t->busy = 0;
		if (t->pending)
			thread_flush_pending(t);
	}
	agent_guard = g;
}

EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	if (!RESOLVE(pthread_setname_np))
		return ENOSYS;
	int r = real_pthread_setname_np(th, name);
	if (r || !agent_ready)
		return r;
	if (th == pthread_self()) {
		note_own_name(name);
		return r;
	}
	/* Another thread's: left in its state for the writer. */
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t && t->pth == (uintptr_t)th && atomic_load(&t->state) == TS_LIVE) {
			memset(t->xname, 0, 16);
			memcpy(t->xname, name, strnlen(name, 15));
			atomic_store(&t->xname_set, 1);
			break;
		}
	}
	return r;
}

REAL(prctl, int (*)(int, ...));

/* prctl: PR_SET_NAME renames the calling thread; every other option goes
 * through untouched. Four arguments are read and passed on, as glibc's own
 * variadic prctl reads them. */
EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (!RESOLVE(prctl)) {
		errno = ENOSYS;
		return -1;
	}
	int r = real_prctl(option, a2, a3, a4, a5);
	if (r == 0 && option == PR_SET_NAME && a2) {
		int e = errno;
		char name[16] = {0};
		memcpy(name, (const char *)a2, strnlen((const char *)a2, 15));
		note_own_name(name);
		errno = e;
	}
	return r;
}
