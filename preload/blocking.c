/* The program's blocking calls (sleeps, waits, polls; the descriptors'
 * reads and writes are in blocking-io.c), interposed so that the agent's
 * sampling signal never ends one early, so that with the wall clock the
 * time a thread spends blocked shows at its true share, charged in exact
 * nanoseconds to the stack it blocked in, and, with FATHOM_WAIT, so that
 * each wait is timed for the waiting profile (wait-record.c: the estimator
 * decides what is recorded).
 *
 * Every wrapper retries a call that failed with EINTR when the agent's
 * signal alone interrupted it (agent_sample_sigs moved, see
 * signal-sample.c), with the time that is left: with the CPU clock a timer
 * can still expire as a thread enters a sleep. With the wall clock a
 * thread entering a blocking call marks itself (blk_on: a few stores, no
 * system call, so a call that returns at once costs nothing). The first
 * sample that lands in the call is recorded as usual, on the stack of the
 * call, and pauses the thread's timer: the thread gets no further signal
 * while it waits. On return the time since that sample is pushed as one
 * SAMPLE whose ns field (format 1.2) is that time, on the same stack, and
 * the timer restarts. The writer takes the time of threads still blocked
 * when the dump ends (blocking_take).
 *
 * Context: the wrappers run on the program's threads, possibly inside its
 * signal handlers (nanosleep, poll, read and the rest are
 * async-signal-safe): the marking happens only outside the agent
 * (agent_guard) and outside another wrapper (blk_depth); pushes run with
 * busy set, so that the sampling handler defers.
 */
#define _GNU_SOURCE
#include "blocking.h"

#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t period_ns(void)
{
	return 1000000000u / (unsigned)agent_cfg.hz;
}

/* ------------------------------------------------------ the blocked state */

/* Pauses (on = 0) or restarts the thread's timer. Inside the gate, so that
 * an exec deleting the timers meanwhile is never raced.
 * Context: async-signal-safe. */
static void timer_onoff(struct tstate *t, int on)
{
	if (!sample_gate_enter())
		return;
	if (__atomic_load_n(&t->has_timer, __ATOMIC_ACQUIRE) == 1) {
		struct itimerspec its;
		memset(&its, 0, sizeof(its));
		if (on) {
			uint64_t p = period_ns();
			its.it_interval.tv_sec = (time_t)(p / 1000000000u);
			its.it_interval.tv_nsec = (long)(p % 1000000000u);
			its.it_value = its.it_interval;
		}
		timer_settime(t->timer, 0, &its, NULL);
	}
	sample_gate_leave();
}

static int in_agent(uint64_t pc)
{
	return pc >= agent_text_lo && pc < agent_text_hi;
}

unsigned blocking_frames(struct tstate *t, uint64_t *f, unsigned n)
{
	unsigned k = 0;
	int put = 0;
	for (unsigned i = 0; i < n; i++) {
		/* A return address is past its call: look up the call. */
		if (!in_agent(f[i] - (i > 0))) {
			f[k++] = f[i];
			continue;
		}
		/* The wrapper's own frame stands for the function the program
		 * called, when the wrapper calls another (usleep: nanosleep);
		 * as a return address, one past its entry. */
		if (!put && t->blk_fn) {
			f[k] = t->blk_fn + (k > 0);
			k++;
		}
		put = 1;
	}
	return k ? k : 1;
}

void blocking_sampled(struct tstate *t, uint32_t id, uint64_t now)
{
	if (t->blk_paused)
		return;
	t->blk_id = id;
	atomic_store(&t->blk_since, now | 1);
	t->blk_paused = 1;
	timer_onoff(t, 0);
}

/* Ends the thread's blocked state: the time since the sample that paused
 * the timer is charged to that sample's stack, and the timer restarts. */
static void unblock(struct tstate *t)
{
	t->blk_on = 0;
	__asm__ volatile("" ::: "memory");
	if (!t->blk_paused)
		return;
	int saved = errno, g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	thread_busy_on(t);
	uint64_t since = atomic_exchange(&t->blk_since, 0), now = agent_now();
	if (since && now > since && t->blk_id) {
		uint64_t ns = now - since;
		uint64_t s[6];
		thread_push_wait(t, s, sample_event(s, ns / period_ns(), now, t->blk_id, ns, 0));
	}
	t->blk_paused = 0;
	timer_onoff(t, 1);
	thread_busy_off(t);
	NO_CANCEL_END(cs);
	agent_guard = g;
	errno = saved;
}

void blk_enter_slow(struct blk *b, void *fn, uintptr_t sp)
{
	struct tstate *t = agent_tls;
	if (!t && !(t = thread_attach()))
		return;
	if (t->blk_depth) {
		/* A call made by a signal handler inside a blocked call, on the
		 * same stack below it or on a signal stack: the outer call
		 * goes on counting. Above it on the thread's stack, the outer
		 * call is gone (a handler longjmp'd out of it): its state is
		 * ended, and this call takes over. */
		int gone = sp > t->blk_sp && sp >= t->stack_lo && sp < t->stack_hi;
		if (!gone)
			return;
		unblock(t);
	}
	t->blk_depth = 1;
	t->blk_sp = sp;
	t->blk_fn = (uint64_t)(uintptr_t)fn;
	__asm__ volatile("" ::: "memory");
	t->blk_on = 1;
	b->t = t;
}

void blk_leave(struct blk *b)
{
	struct tstate *t = b->t;
	if (!t)
		return;
	unblock(t);
	__asm__ volatile("" ::: "memory");
	t->blk_depth = 0;
}

uint64_t blocking_take(struct tstate *t, uint64_t now, uint32_t *id)
{
	uint64_t since = atomic_load(&t->blk_since);
	while (since && since < now) {
		if (atomic_compare_exchange_weak(&t->blk_since, &since, now | 1)) {
			*id = t->blk_id;
			return now - since;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ sleeps */

static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_usleep)(useconds_t);
static unsigned (*real_sleep)(unsigned);

/* nanosleep(req, rem), retried with what is left while the agent's signal
 * is what interrupted it. */
static BLOCKER int sleep_rel(struct blk *b, const struct timespec *req, struct timespec *rem)
{
	struct timespec left, *r = rem ? rem : &left;
	int ret = real_nanosleep(req, r);
	while (ret < 0 && blk_ours(b, errno == EINTR)) {
		struct timespec next = *r;
		ret = real_nanosleep(&next, r);
	}
	return ret;
}

EXPORT_BLOCKER int nanosleep(const struct timespec *req, struct timespec *rem)
{
	RESOLVE(real_nanosleep, "nanosleep");
	BLK(b, NULL);
	int ret = sleep_rel(&b, req, rem);
	BLK_WAIT(b, FD_WAIT_SLEEP, 0, 0);
	return ret;
}

EXPORT_BLOCKER int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
	RESOLVE(real_clock_nanosleep, "clock_nanosleep");
	BLK(b, NULL);
	struct timespec left, *r = rem ? rem : &left;
	int ret = real_clock_nanosleep(clk, flags, req, r);
	while (blk_ours(&b, ret == EINTR)) {
		/* An absolute deadline stays; a relative sleep goes on for
		 * what is left. */
		if (flags & TIMER_ABSTIME) {
			ret = real_clock_nanosleep(clk, flags, req, r);
			continue;
		}
		struct timespec next = *r;
		ret = real_clock_nanosleep(clk, flags, &next, r);
	}
	BLK_WAIT(b, FD_WAIT_SLEEP, 0, 0);
	return ret;
}

/* usleep and sleep as glibc builds them on nanosleep, which here reports
 * the time left for the retry. */
EXPORT_BLOCKER int usleep(useconds_t us)
{
	RESOLVE(real_nanosleep, "nanosleep");
	RESOLVE(real_usleep, "usleep");
	BLK(b, real_usleep);
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
	int ret = sleep_rel(&b, &ts, NULL);
	BLK_WAIT(b, FD_WAIT_SLEEP, 0, 0);
	return ret;
}

EXPORT_BLOCKER unsigned sleep(unsigned s)
{
	RESOLVE(real_nanosleep, "nanosleep");
	RESOLVE(real_sleep, "sleep");
	BLK(b, real_sleep);
	int saved = errno;
	struct timespec ts = {(time_t)s, 0};
	int ret = sleep_rel(&b, &ts, &ts);
	BLK_WAIT(b, FD_WAIT_SLEEP, 0, 0);
	if (ret < 0)
		return (unsigned)ts.tv_sec;
	errno = saved;
	return 0;
}

/* --------------------------------------------------- polling for events */

/* What is left of a timeout in ms (rounded up) that ends at deadline. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = mono_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);

EXPORT_BLOCKER int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	RESOLVE(real_poll, "poll");
	if (timeout == 0)
		return real_poll(fds, n, timeout);
	uint64_t deadline = timeout > 0 ? mono_ns() + (uint64_t)timeout * 1000000u : 0;
	BLK(b, NULL);
	int ret = real_poll(fds, n, timeout);
	while (ret < 0 && blk_ours(&b, errno == EINTR))
		ret = real_poll(fds, n, timeout > 0 ? ms_left(deadline) : timeout);
	if (n == 1)
		BLK_WAIT(b, FD_WAIT_POLL, fds[0].fd, WAIT_FD);
	else
		BLK_WAIT(b, FD_WAIT_POLL, 0, 0);
	return ret;
}

EXPORT_BLOCKER int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	RESOLVE(real_epoll_wait, "epoll_wait");
	if (timeout == 0)
		return real_epoll_wait(epfd, ev, max, timeout);
	uint64_t deadline = timeout > 0 ? mono_ns() + (uint64_t)timeout * 1000000u : 0;
	BLK(b, NULL);
	int ret = real_epoll_wait(epfd, ev, max, timeout);
	while (ret < 0 && blk_ours(&b, errno == EINTR))
		ret = real_epoll_wait(epfd, ev, max, timeout > 0 ? ms_left(deadline) : timeout);
	BLK_WAIT(b, FD_WAIT_POLL, epfd, WAIT_FD);
	return ret;
}

extern void __chk_fail(void) __attribute__((noreturn));
SELF(poll);

/* Fortified poll (_FORTIFY_SOURCE) checks the array, then polls as above. */
EXPORT_BLOCKER int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return self_poll(fds, n, timeout);
}

/* Linux select leaves the sets alone when it fails and writes the time
 * left into tv: the retry waits on the same sets for the rest. */
EXPORT_BLOCKER int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	RESOLVE(real_select, "select");
	if (tv && !tv->tv_sec && !tv->tv_usec)
		return real_select(nfds, r, w, e, tv);
	uint64_t deadline =
	    tv ? mono_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u : 0;
	BLK(b, NULL);
	int ret = real_select(nfds, r, w, e, tv);
	while (ret < 0 && blk_ours(&b, errno == EINTR)) {
		if (tv) {
			uint64_t now = mono_ns(), ns = now >= deadline ? 0 : deadline - now;
			tv->tv_sec = (time_t)(ns / 1000000000u);
			tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
		}
		ret = real_select(nfds, r, w, e, tv);
	}
	BLK_WAIT(b, FD_WAIT_POLL, 0, 0);
	return ret;
}

/* ------------------------------------------------------ threads, processes */

static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
static int (*real_join)(pthread_t, void **);
static int (*real_timedjoin)(pthread_t, void **, const struct timespec *);
static int (*real_clockjoin)(pthread_t, void **, clockid_t, const struct timespec *);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static pid_t (*real_waitpid)(pid_t, int *, int);
static pid_t (*real_wait)(int *);
static pid_t (*real_wait3)(int *, int, struct rusage *);
static pid_t (*real_wait4)(pid_t, int *, int, struct rusage *);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);

/* A condition wait returns with the mutex re-acquired inside the C library
 * (not through the agent's pthread_mutex_lock: that time is the condition
 * wait's, counted once): the acquisition is noted, so that a contended
 * release of the mutex can say how long it was held. */
static void cond_done(const struct blk *b, pthread_mutex_t *m)
{
	if (b->w0)
		wait_held_note(m, agent_now());
}

/* A condition wait and a join never fail with EINTR (glibc waits again). */
EXPORT_BLOCKER int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	RESOLVE(real_cond_wait, "pthread_cond_wait");
	BLK(b, NULL);
	int ret = real_cond_wait(c, m);
	cond_done(&b, m);
	BLK_WAIT(b, FD_WAIT_COND, (uintptr_t)c, 0);
	return ret;
}

EXPORT_BLOCKER int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
					  const struct timespec *abstime)
{
	RESOLVE(real_cond_timedwait, "pthread_cond_timedwait");
	BLK(b, NULL);
	int ret = real_cond_timedwait(c, m, abstime);
	cond_done(&b, m);
	BLK_WAIT(b, FD_WAIT_COND, (uintptr_t)c, 0);
	return ret;
}

/* glibc 2.30 and later (C++'s condition_variable::wait_for and
 * wait_until on the steady clock); resolved by name, so an older libc just
 * lacks it. */
EXPORT_BLOCKER int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
					  const struct timespec *abstime)
{
	RESOLVE(real_cond_clockwait, "pthread_cond_clockwait");
	BLK(b, NULL);
	int ret = real_cond_clockwait(c, m, clk, abstime);
	cond_done(&b, m);
	BLK_WAIT(b, FD_WAIT_COND, (uintptr_t)c, 0);
	return ret;
}

EXPORT_BLOCKER int pthread_join(pthread_t th, void **ret)
{
	RESOLVE(real_join, "pthread_join");
	BLK(b, NULL);
	int r = real_join(th, ret);
	BLK_WAIT(b, FD_WAIT_JOIN, th, 0);
	return r;
}

EXPORT_BLOCKER int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime)
{
	RESOLVE(real_timedjoin, "pthread_timedjoin_np");
	BLK(b, NULL);
	int r = real_timedjoin(th, ret, abstime);
	BLK_WAIT(b, FD_WAIT_JOIN, th, 0);
	return r;
}

EXPORT_BLOCKER int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk,
					const struct timespec *abstime)
{
	RESOLVE(real_clockjoin, "pthread_clockjoin_np");
	BLK(b, NULL);
	int r = real_clockjoin(th, ret, clk, abstime);
	BLK_WAIT(b, FD_WAIT_JOIN, th, 0);
	return r;
}

/* The kernel restarts a semaphore's wait (a futex without a timeout), a
 * child's, and the reads and writes of blocking-io.c after a handler
 * installed with SA_RESTART, as the agent's is: an EINTR there is the
 * program's own signal's, never retried. A timed wait is not restarted. */
EXPORT_BLOCKER int sem_wait(sem_t *s)
{
	RESOLVE(real_sem_wait, "sem_wait");
	BLK(b, NULL);
	int ret;
	ret = real_sem_wait(s);
	BLK_WAIT(b, FD_WAIT_SEM, (uintptr_t)s, 0);
	return ret;
}

/* The deadline is absolute: the retry waits for the same one. */
EXPORT_BLOCKER int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	RESOLVE(real_sem_timedwait, "sem_timedwait");
	BLK(b, NULL);
	int ret;
	while ((ret = real_sem_timedwait(s, abstime)) < 0 && blk_ours(&b, errno == EINTR))
		;
	BLK_WAIT(b, FD_WAIT_SEM, (uintptr_t)s, 0);
	return ret;
}

/* glibc 2.34 and later (Python's timed lock acquisitions: queue.get,
 * Event.wait, Lock.acquire with a timeout). */
EXPORT_BLOCKER int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abstime)
{
	RESOLVE(real_sem_clockwait, "sem_clockwait");
	BLK(b, NULL);
	int ret;
	while ((ret = real_sem_clockwait(s, clk, abstime)) < 0 && blk_ours(&b, errno == EINTR))
		;
	BLK_WAIT(b, FD_WAIT_SEM, (uintptr_t)s, 0);
	return ret;
}

/* Waiting for a child: WNOHANG does not block. */
EXPORT_BLOCKER pid_t waitpid(pid_t pid, int *st, int opt)
{
	RESOLVE(real_waitpid, "waitpid");
	if (opt & WNOHANG)
		return real_waitpid(pid, st, opt);
	BLK(b, NULL);
	pid_t ret;
	ret = real_waitpid(pid, st, opt);
	BLK_WAIT(b, FD_WAIT_CHILD, ret > 0 ? ret : pid, 0);
	return ret;
}

EXPORT_BLOCKER pid_t wait(int *st)
{
	RESOLVE(real_wait, "wait");
	BLK(b, NULL);
	pid_t ret;
	ret = real_wait(st);
	BLK_WAIT(b, FD_WAIT_CHILD, ret > 0 ? ret : 0, 0);
	return ret;
}

/* glibc builds wait3 on its internal wait4, past the interposer below. */
EXPORT_BLOCKER pid_t wait3(int *st, int opt, struct rusage *ru)
{
	RESOLVE(real_wait3, "wait3");
	if (opt & WNOHANG)
		return real_wait3(st, opt, ru);
	BLK(b, NULL);
	pid_t ret;
	ret = real_wait3(st, opt, ru);
	BLK_WAIT(b, FD_WAIT_CHILD, ret > 0 ? ret : 0, 0);
	return ret;
}

EXPORT_BLOCKER pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
	RESOLVE(real_wait4, "wait4");
	if (opt & WNOHANG)
		return real_wait4(pid, st, opt, ru);
	BLK(b, NULL);
	pid_t ret;
	ret = real_wait4(pid, st, opt, ru);
	BLK_WAIT(b, FD_WAIT_CHILD, ret > 0 ? ret : pid, 0);
	return ret;
}

EXPORT_BLOCKER int waitid(idtype_t type, id_t id, siginfo_t *info, int opt)
{
	RESOLVE(real_waitid, "waitid");
	if (opt & WNOHANG)
		return real_waitid(type, id, info, opt);
	BLK(b, NULL);
	int ret;
	ret = real_waitid(type, id, info, opt);
	BLK_WAIT(b, FD_WAIT_CHILD, id, 0);
	return ret;
}

/* pause() returns after any handler: the agent's signal is not the
 * program's, so it waits on. */
static int (*real_pause)(void);

EXPORT_BLOCKER int pause(void)
{
	RESOLVE(real_pause, "pause");
	BLK(b, NULL);
	int ret;
	while ((ret = real_pause()) < 0 && blk_ours(&b, errno == EINTR))
		;
	BLK_WAIT(b, FD_WAIT_SLEEP, 0, 0);
	return ret;
}
