/* The program's blocking calls (sleeps, waits, polls, reads), interposed so
 * that the agent's sampling signal never ends one early, and so that with
 * the wall clock the time a thread spends blocked is charged, in exact
 * nanoseconds, to the stack it blocked in, without signalling it.
 *
 * Every wrapper retries a call that failed with EINTR when the agent's
 * signal alone interrupted it (agent_sample_sigs moved, see
 * signal-sample.c), with the time that is left: with the CPU clock a timer
 * can still expire as a thread enters a sleep. With the wall clock a
 * thread entering a blocking call records its stack (unwound here, at the
 * call, not in a signal), marks itself blocked and pauses its timer; on
 * return it restarts the timer where the period stood and pushes one
 * SAMPLE whose ns field (format 1.2) is the time it was blocked. The writer
 * takes the time of threads still blocked when the dump ends
 * (blocking_take).
 *
 * Context: the wrappers run on the program's threads, possibly inside its
 * signal handlers (nanosleep, poll, read and the rest are
 * async-signal-safe): the bookkeeping runs only outside the agent
 * (agent_guard) and outside another wrapper's (blk_depth), and pushes with
 * busy set, so that the sampling handler defers.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* One wrapper's view: the thread's state when this call marked it blocked
 * (NULL otherwise), and the agent's signal count when the call started. */
struct blk {
	struct tstate *t;
	unsigned sigs;
};

/* Pauses (on = 0) or restarts the thread's timer, keeping the phase of its
 * period. Inside the gate, so that an exec deleting the timers meanwhile
 * is never raced. */
static void timer_pause(struct tstate *t, int on)
{
	if (!sample_gate_enter())
		return;
	if (__atomic_load_n(&t->has_timer, __ATOMIC_ACQUIRE) == 1) {
		struct itimerspec its, old;
		memset(&its, 0, sizeof(its));
		if (on) {
			uint64_t p = period_ns();
			its.it_interval.tv_sec = (time_t)(p / 1000000000u);
			its.it_interval.tv_nsec = (long)(p % 1000000000u);
			its.it_value = t->blk_left;
			if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
				its.it_value = its.it_interval;
			timer_settime(t->timer, 0, &its, NULL);
		} else if (timer_settime(t->timer, 0, &its, &old) == 0) {
			t->blk_left = old.it_value;
		}
	}
	sample_gate_leave();
}

/* Records the stack of the call: fn (the libc function the program called,
 * its frame 0) and the program's frames that called it. Returns its id (a
 * new stack's STACK event pushed), 0 when it cannot be interned.
 * Context: t->busy and agent_guard set. */
static __attribute__((noinline)) uint32_t blocked_stack(struct tstate *t, void *fn)
{
	uint64_t *f = t->hook_frames + 2;
	unsigned n = 0;
	f[n++] = (uint64_t)(uintptr_t)fn;
	if (!t->in_unwind) {
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
			f[n++] = ip;
		} while (n < FD_MAX_FRAMES && unwind_step(u));
		__asm__ volatile("" ::: "memory");
		t->in_unwind = 0;
	}
	int is_new;
	uint32_t id = intern_stack(&agent_intern, f, n, &is_new);
	if (!id) {
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
		return 0;
	}
	if (is_new) {
		t->hook_frames[0] = EV_W0(EV_STACK, n + 2, n);
		t->hook_frames[1] = id;
		thread_push_wait(t, t->hook_frames, n + 2);
	}
	return id;
}

static void busy_on(struct tstate *t)
{
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
}

static void busy_off(struct tstate *t)
{
	__asm__ volatile("" ::: "memory");
	t->busy = 0;
	__asm__ volatile("" ::: "memory");
	if (UNLIKELY(t->pending))
		thread_flush_pending(t);
}

/* Charges the blocked time [since, now] to the stack id, from the thread
 * itself. Context: t->busy set. */
static void charge(struct tstate *t, uint32_t id, uint64_t ns, uint64_t now)
{
	if (!ns || !id)
		return;
	uint64_t s[4] = {EV_W0(EV_SAMPLE, 4, ns / period_ns()), now, id, ns};
	thread_push_wait(t, s, 4);
}

/* Marks the thread blocked in fn (wall clock). */
static __attribute__((noinline)) void enter_slow(struct blk *b, void *fn, uintptr_t sp)
{
	/* A vfork child shares the parent's memory, not its timers. */
	if (getpid() != agent_pid)
		return;
	struct tstate *t = agent_tls;
	if (!t && !(t = thread_attach()))
		return;
	if (t->busy || t->in_unwind || t->in_loader)
		return;
	if (t->blk_depth) {
		/* A call made by a signal handler inside a blocked call, on the
		 * same stack below it or on a signal stack: the outer call
		 * goes on counting. Above it on the thread's stack, the outer
		 * call is gone (a handler longjmp'd out of it): its state is
		 * dropped, and this call takes over. */
		int gone = sp > t->blk_sp && sp >= t->stack_lo && sp < t->stack_hi;
		if (!gone)
			return;
		atomic_store(&t->blk_since, 0);
		t->blk_depth = 0;
	}
	t->blk_depth = 1;
	t->blk_sp = sp;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	busy_on(t);
	int saved = errno;
	t->blk_id = blocked_stack(t, fn);
	atomic_store(&t->blk_since, agent_now() | 1);
	timer_pause(t, 0);
	errno = saved;
	busy_off(t);
	NO_CANCEL_END(cs);
	agent_guard = g;
	b->t = t;
}

/* Context: the wrapper's entry, before the call. */
static inline void blk_enter(struct blk *b, void *fn)
{
	b->t = NULL;
	b->sigs = agent_sample_sigs;
	if (LIKELY(agent_cfg.clock != FD_CLOCK_WALL) || !agent_cpu_on || agent_guard)
		return;
	enter_slow(b, fn, (uintptr_t)__builtin_frame_address(0));
}

/* The wrapper's exit, also when the thread is cancelled in the call (a
 * cleanup: blocking.c is built with -fexceptions). Charges the blocked time
 * and restarts the timer. */
static void blk_leave(struct blk *b)
{
	struct tstate *t = b->t;
	if (!t)
		return;
	int saved = errno, g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	busy_on(t);
	uint64_t since = atomic_exchange(&t->blk_since, 0), now = agent_now();
	timer_pause(t, 1);
	if (since)
		charge(t, t->blk_id, now > since ? now - since : 0, now);
	busy_off(t);
	NO_CANCEL_END(cs);
	agent_guard = g;
	__asm__ volatile("" ::: "memory");
	t->blk_depth = 0;
	errno = saved;
}

/* The call failed with EINTR because of the agent's signal only: retry. */
static inline int ours(struct blk *b, int failed_eintr)
{
	if (!failed_eintr || agent_sample_sigs == b->sigs)
		return 0;
	b->sigs = agent_sample_sigs;
	return 1;
}

#define BLK(b, fn)                                                                                           \
	struct blk b __attribute__((cleanup(blk_leave)));                                                    \
	blk_enter(&b, (void *)(fn))

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
static int sleep_rel(struct blk *b, const struct timespec *req, struct timespec *rem)
{
	struct timespec left, *r = rem ? rem : &left;
	int ret = real_nanosleep(req, r);
	while (ret < 0 && ours(b, errno == EINTR)) {
		struct timespec next = *r;
		ret = real_nanosleep(&next, r);
	}
	return ret;
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	RESOLVE(real_nanosleep, "nanosleep");
	BLK(b, real_nanosleep);
	return sleep_rel(&b, req, rem);
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
	RESOLVE(real_clock_nanosleep, "clock_nanosleep");
	BLK(b, real_clock_nanosleep);
	struct timespec left, *r = rem ? rem : &left;
	int ret = real_clock_nanosleep(clk, flags, req, r);
	while (ours(&b, ret == EINTR)) {
		struct timespec next = *r;
		ret = real_clock_nanosleep(clk, flags, (flags & TIMER_ABSTIME) ? req : &next, r);
	}
	return ret;
}

/* usleep and sleep as glibc builds them on nanosleep, which here reports
 * the time left for the retry. */
EXPORT int usleep(useconds_t us)
{
	RESOLVE(real_nanosleep, "nanosleep");
	RESOLVE(real_usleep, "usleep");
	BLK(b, real_usleep);
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
	return sleep_rel(&b, &ts, NULL);
}

EXPORT unsigned sleep(unsigned s)
{
	RESOLVE(real_nanosleep, "nanosleep");
	RESOLVE(real_sleep, "sleep");
	BLK(b, real_sleep);
	int saved = errno;
	struct timespec ts = {(time_t)s, 0};
	if (sleep_rel(&b, &ts, &ts) < 0)
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

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	RESOLVE(real_poll, "poll");
	if (timeout == 0)
		return real_poll(fds, n, timeout);
	uint64_t deadline = timeout > 0 ? mono_ns() + (uint64_t)timeout * 1000000u : 0;
	BLK(b, real_poll);
	int ret = real_poll(fds, n, timeout);
	while (ret < 0 && ours(&b, errno == EINTR))
		ret = real_poll(fds, n, timeout > 0 ? ms_left(deadline) : timeout);
	return ret;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	RESOLVE(real_epoll_wait, "epoll_wait");
	if (timeout == 0)
		return real_epoll_wait(epfd, ev, max, timeout);
	uint64_t deadline = timeout > 0 ? mono_ns() + (uint64_t)timeout * 1000000u : 0;
	BLK(b, real_epoll_wait);
	int ret = real_epoll_wait(epfd, ev, max, timeout);
	while (ret < 0 && ours(&b, errno == EINTR))
		ret = real_epoll_wait(epfd, ev, max, timeout > 0 ? ms_left(deadline) : timeout);
	return ret;
}

/* Linux select leaves the sets alone when it fails and writes the time
 * left into tv: the retry waits on the same sets for the rest. */
EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	RESOLVE(real_select, "select");
	if (tv && !tv->tv_sec && !tv->tv_usec)
		return real_select(nfds, r, w, e, tv);
	uint64_t deadline =
	    tv ? mono_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u : 0;
	BLK(b, real_select);
	int ret = real_select(nfds, r, w, e, tv);
	while (ret < 0 && ours(&b, errno == EINTR)) {
		if (tv) {
			uint64_t now = mono_ns(), ns = now >= deadline ? 0 : deadline - now;
			tv->tv_sec = (time_t)(ns / 1000000000u);
			tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
		}
		ret = real_select(nfds, r, w, e, tv);
	}
	return ret;
}

/* ------------------------------------------------------ threads, processes */

static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_join)(pthread_t, void **);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static pid_t (*real_waitpid)(pid_t, int *, int);
static pid_t (*real_wait)(int *);
static pid_t (*real_wait4)(pid_t, int *, int, struct rusage *);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);

/* A condition wait and a join never fail with EINTR (glibc waits again). */
EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	RESOLVE(real_cond_wait, "pthread_cond_wait");
	BLK(b, real_cond_wait);
	return real_cond_wait(c, m);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime)
{
	RESOLVE(real_cond_timedwait, "pthread_cond_timedwait");
	BLK(b, real_cond_timedwait);
	return real_cond_timedwait(c, m, abstime);
}

EXPORT int pthread_join(pthread_t th, void **ret)
{
	RESOLVE(real_join, "pthread_join");
	BLK(b, real_join);
	return real_join(th, ret);
}

EXPORT int sem_wait(sem_t *s)
{
	RESOLVE(real_sem_wait, "sem_wait");
	BLK(b, real_sem_wait);
	int ret;
	while ((ret = real_sem_wait(s)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

/* The deadline is absolute: the retry waits for the same one. */
EXPORT int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	RESOLVE(real_sem_timedwait, "sem_timedwait");
	BLK(b, real_sem_timedwait);
	int ret;
	while ((ret = real_sem_timedwait(s, abstime)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

/* Waiting for a child: WNOHANG does not block. */
EXPORT pid_t waitpid(pid_t pid, int *st, int opt)
{
	RESOLVE(real_waitpid, "waitpid");
	if (opt & WNOHANG)
		return real_waitpid(pid, st, opt);
	BLK(b, real_waitpid);
	pid_t ret;
	while ((ret = real_waitpid(pid, st, opt)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT pid_t wait(int *st)
{
	RESOLVE(real_wait, "wait");
	BLK(b, real_wait);
	pid_t ret;
	while ((ret = real_wait(st)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
	RESOLVE(real_wait4, "wait4");
	if (opt & WNOHANG)
		return real_wait4(pid, st, opt, ru);
	BLK(b, real_wait4);
	pid_t ret;
	while ((ret = real_wait4(pid, st, opt, ru)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int opt)
{
	RESOLVE(real_waitid, "waitid");
	if (opt & WNOHANG)
		return real_waitid(type, id, info, opt);
	BLK(b, real_waitid);
	int ret;
	while ((ret = real_waitid(type, id, info, opt)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

/* ------------------------------------------------------------------ reads */

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);

/* Whether a read on fd may block: not when the descriptor (or the call,
 * MSG_DONTWAIT) is non-blocking. Only asked with the wall clock, where the
 * answer decides whether the thread counts as blocked. */
static int may_block(int fd, int flags)
{
	if (LIKELY(agent_cfg.clock != FD_CLOCK_WALL) || !agent_cpu_on || agent_guard ||
	    (flags & MSG_DONTWAIT))
		return 0;
	int saved = errno, fl = fcntl(fd, F_GETFL);
	errno = saved;
	return fl >= 0 && !(fl & O_NONBLOCK);
}

/* BLK, only for a descriptor that blocks: a non-blocking one is never
 * marked, so its many short calls cost a test. */
#define BLK_FD(b, fn, fd, flags)                                                                             \
	struct blk b __attribute__((cleanup(blk_leave)));                                                    \
	b.t = NULL;                                                                                          \
	b.sigs = agent_sample_sigs;                                                                          \
	if (may_block(fd, flags))                                                                            \
	blk_enter(&b, (void *)(fn))

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	RESOLVE(real_read, "read");
	BLK_FD(b, real_read, fd, 0);
	ssize_t ret;
	while ((ret = real_read(fd, buf, n)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	RESOLVE(real_recv, "recv");
	BLK_FD(b, real_recv, fd, flags);
	ssize_t ret;
	while ((ret = real_recv(fd, buf, n, flags)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	RESOLVE(real_recvfrom, "recvfrom");
	BLK_FD(b, real_recvfrom, fd, flags);
	ssize_t ret;
	while ((ret = real_recvfrom(fd, buf, n, flags, sa, len)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	RESOLVE(real_recvmsg, "recvmsg");
	BLK_FD(b, real_recvmsg, fd, flags);
	ssize_t ret;
	while ((ret = real_recvmsg(fd, msg, flags)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

/* Fortified reads (_FORTIFY_SOURCE) check the buffer, then read as above. */
extern void __chk_fail(void) __attribute__((noreturn));

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *sa,
			      socklen_t *len)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, sa, len);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

/* ------------------------------------------------- accepting, pausing */

static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_pause)(void);

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	RESOLVE(real_accept, "accept");
	BLK_FD(b, real_accept, fd, 0);
	int ret;
	while ((ret = real_accept(fd, sa, len)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	RESOLVE(real_accept4, "accept4");
	BLK_FD(b, real_accept4, fd, 0);
	int ret;
	while ((ret = real_accept4(fd, sa, len, flags)) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}

/* pause() returns after any handler: the agent's signal is not the
 * program's, so it waits on. */
EXPORT int pause(void)
{
	RESOLVE(real_pause, "pause");
	BLK(b, real_pause);
	int ret;
	while ((ret = real_pause()) < 0 && ours(&b, errno == EINTR))
		;
	return ret;
}
