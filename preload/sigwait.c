/* The calls that wait for signals (sigsuspend, sigpause, pselect, ppoll,
 * epoll_pwait, sigtimedwait and the rest, signalfd, sigpending), which a
 * sample of the agent's must never end early, over the program's view of its
 * mask that signal-mask.c keeps. pselect, ppoll and epoll_pwait wait for
 * descriptors too: the waiting profile times them as their plain kin in
 * blocking.c (wait.h).
 *
 * Context: the program's threads, possibly inside its own signal handlers
 * (these calls are async-signal-safe): TLS and system calls only. The
 * sampling handler runs nothing here.
 */
#define _GNU_SOURCE
#include "sigmask.h"
#include "wait.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <time.h>

static int (*real_sigsuspend)(const sigset_t *);
static int (*real_sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
static int (*real_signalfd)(int, const sigset_t *, int);
static int (*real_sigpending)(sigset_t *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_ppoll_chk)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
static int (*real_sigpause)(int);
static int (*real___sigpause)(int, int);
static int (*real___xpg_sigpause)(int);

void sigwait_init(void)
{
	/* Resolved now, not in a signal handler that happens to be first. */
	AGENT_NEXT(real_sigsuspend, "sigsuspend");
	AGENT_NEXT(real_sigtimedwait, "sigtimedwait");
	AGENT_NEXT(real_sigpending, "sigpending");
}

/* One wait: the program's mask m, the mask k passed down, and the view to put
 * back after it. */
struct wait {
	sigset_t m, k;
	int view;
	int on;
};

/* The mask to pass down for a wait with the program's mask (or, for none,
 * its current one): the agent's signal blocked, so that no sample ends the
 * wait early, unless a signal of that number from the program may end it
 * (the view admits it, and the program handles it or one is held for it).
 * The view during the wait is the wait's own mask (a handler that runs in it
 * sees that one); wait_end() puts it back, as the kernel puts the mask back.
 * Returns mask itself, the call made as the program made it, when the view
 * is off or the current mask cannot be read. */
static const sigset_t *wait_begin(struct wait *w, const sigset_t *mask)
{
	int s = agent_cfg.signo;
	w->on = 0;
	if (!sigmask_on())
		return mask;
	if (!mask) {
		if (sigmask_view_now(&w->m) < 0)
			return NULL;
	} else {
		w->m = *mask;
	}
	w->k = w->m;
	if (sigismember(&w->m, s) == 1 || !(sigmask_held() || sample_user_handles()))
		sigaddset(&w->k, s);
	w->view = sigmask_view_save();
	sigmask_view_restore(sigismember(&w->m, s) == 1);
	w->on = 1;
	return &w->k;
}

static void wait_end(const struct wait *w)
{
	if (!w->on)
		return;
	int e = errno;
	sigmask_view_restore(w->view);
	errno = e;
}

/* The agent's own callers use this, not sigsuspend: loaded late (fathom
 * record --pid), the agent's calls of its exported names bind to libc's. */
static BLOCKER int suspend(const sigset_t *mask)
{
	if (!AGENT_NEXT(real_sigsuspend, "sigsuspend"))
		return -1;
	struct wait w;
	const sigset_t *k = wait_begin(&w, mask);
	int r = real_sigsuspend(k);
	wait_end(&w);
	return r;
}

EXPORT_BLOCKER int sigsuspend(const sigset_t *mask)
{
	return suspend(mask);
}

EXPORT_BLOCKER int __sigsuspend(const sigset_t *mask)
{
	return suspend(mask);
}

/* A timeout of zero: the call only looks, it does not wait. */
static int ts_zero(const struct timespec *ts)
{
	return ts && !ts->tv_sec && !ts->tv_nsec;
}

EXPORT_BLOCKER int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
			   const sigset_t *mask)
{
	if (!AGENT_NEXT(real_pselect, "pselect"))
		return -1;
	struct wait wt;
	const sigset_t *k = wait_begin(&wt, mask);
	uint64_t t0 = ts_zero(ts) ? 0 : wait_start();
	int ret = real_pselect(n, r, w, x, ts, k);
	WAIT_END(t0, FD_WAIT_POLL, 0, 0);
	wait_end(&wt);
	return ret;
}

EXPORT_BLOCKER int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (!AGENT_NEXT(real_ppoll, "ppoll"))
		return -1;
	struct wait w;
	const sigset_t *k = wait_begin(&w, mask);
	uint64_t t0 = ts_zero(ts) ? 0 : wait_start();
	int ret = real_ppoll(fds, n, ts, k);
	if (n == 1)
		WAIT_END(t0, FD_WAIT_POLL, fds[0].fd, WAIT_FD);
	else
		WAIT_END(t0, FD_WAIT_POLL, 0, 0);
	wait_end(&w);
	return ret;
}

/* _FORTIFY_SOURCE's ppoll: libc's checks the size, then calls its own
 * ppoll, past this interposer. */
SELF(ppoll);
EXPORT_BLOCKER int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
			       size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n) {
		if (!AGENT_NEXT(real_ppoll_chk, "__ppoll_chk"))
			return -1;
		return real_ppoll_chk(fds, n, ts, mask, fdslen);
	}
	return self_ppoll(fds, n, ts, mask);
}

EXPORT_BLOCKER int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	if (!AGENT_NEXT(real_epoll_pwait, "epoll_pwait"))
		return -1;
	struct wait w;
	const sigset_t *k = wait_begin(&w, mask);
	uint64_t t0 = timeout == 0 ? 0 : wait_start();
	int ret = real_epoll_pwait(ep, ev, max, timeout, k);
	WAIT_END(t0, FD_WAIT_POLL, ep, WAIT_FD);
	wait_end(&w);
	return ret;
}

/* glibc 2.35 and later; resolved by name, so an older libc just lacks it. */
EXPORT_BLOCKER int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *ts,
				const sigset_t *mask)
{
	if (!AGENT_NEXT(real_epoll_pwait2, "epoll_pwait2"))
		return -1;
	struct wait w;
	const sigset_t *k = wait_begin(&w, mask);
	uint64_t t0 = ts_zero(ts) ? 0 : wait_start();
	int ret = real_epoll_pwait2(ep, ev, max, ts, k);
	WAIT_END(t0, FD_WAIT_POLL, ep, WAIT_FD);
	wait_end(&w);
	return ret;
}

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* sigtimedwait for the program. A set without the agent's signal: that
 * signal is blocked for the wait (the kernel would end the wait with EINTR
 * for a sample otherwise). A set with it (the program waits for its own
 * signals of that number): a timer signal of the agent's that the wait takes
 * is dropped and the wait goes on for the time left. */
static BLOCKER int timed_wait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	if (!AGENT_NEXT(real_sigtimedwait, "sigtimedwait"))
		return -1;
	int s = agent_cfg.signo;
	if (!sigmask_on() || !set)
		return real_sigtimedwait(set, info, ts);
	if (sigismember(set, s) != 1) {
		sigset_t one, o;
		sigmask_one(&one);
		int blocked = sigmask_real(SIG_BLOCK, &one, &o) == 0 && sigismember(&o, s) != 1;
		int r = real_sigtimedwait(set, info, ts);
		int e = errno;
		if (blocked)
			sigmask_real(SIG_UNBLOCK, &one, NULL);
		errno = e;
		return r;
	}
	uint64_t end = 0;
	struct timespec left, *lp = NULL;
	if (ts) {
		if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || ts->tv_sec < 0)
			return real_sigtimedwait(set, info, ts); /* EINVAL */
		end = mono_ns() + (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
		left = *ts;
		lp = &left;
	}
	for (;;) {
		siginfo_t si;
		int r = real_sigtimedwait(set, &si, lp);
		if (r != s || !sample_timer_info(&si)) {
			if (r > 0 && info)
				*info = si;
			return r;
		}
		if (lp) {
			uint64_t now = mono_ns();
			uint64_t d = now < end ? end - now : 0;
			left.tv_sec = (time_t)(d / 1000000000u);
			left.tv_nsec = (long)(d % 1000000000u);
		}
	}
}

EXPORT_BLOCKER int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	return timed_wait(set, info, ts);
}

EXPORT_BLOCKER int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	return timed_wait(set, info, NULL);
}

/* As glibc's: an interrupted wait goes on; the error is returned. */
EXPORT_BLOCKER int sigwait(const sigset_t *set, int *sig)
{
	int saved = errno, r;
	do
		r = timed_wait(set, NULL, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	errno = saved;
	return 0;
}

/* A signalfd never reads the agent's signal: its timer signals go to the
 * handler. (A program that reads signals of that very number through a
 * signalfd should set FATHOM_SIGNAL to another.) */
EXPORT_BLOCKER int signalfd(int fd, const sigset_t *mask, int flags)
{
	if (!AGENT_NEXT(real_signalfd, "signalfd"))
		return -1;
	if (!sigmask_on())
		return real_signalfd(fd, mask, flags);
	sigset_t k = *mask;
	sigdelset(&k, agent_cfg.signo);
	return real_signalfd(fd, &k, flags);
}

/* The agent's signal is pending for the program only when one of its own is
 * held for it; otherwise one seen here is a sample on its way. */
EXPORT_BLOCKER int sigpending(sigset_t *set)
{
	if (!AGENT_NEXT(real_sigpending, "sigpending"))
		return -1;
	int r = real_sigpending(set);
	if (r == 0 && sigmask_on() && !sigmask_held())
		sigdelset(set, agent_cfg.signo);
	return r;
}

/* ---------------------------------------------- BSD and System V sigpause */

/* glibc builds these on its internal sigsuspend, past the interposer above.
 * sigpause(sig) (X/Open: the mask without sig) or sigpause(mask) (BSD: that
 * mask of signals below 32), through the sigsuspend above. */
static BLOCKER int pause_with(int sig_or_mask, int is_sig)
{
	sigset_t m;
	if (is_sig) {
		if (sigmask_view_now(&m) < 0 || sigdelset(&m, sig_or_mask) < 0)
			return -1;
	} else {
		sigemptyset(&m);
		for (int i = 1; i < 32; i++)
			if (sig_or_mask & (1 << (i - 1)))
				sigaddset(&m, i);
	}
	return suspend(&m);
}

EXPORT_BLOCKER int __sigpause(int sig_or_mask, int is_sig)
{
	if (!sigmask_on()) {
		if (!AGENT_NEXT(real___sigpause, "__sigpause"))
			return -1;
		return real___sigpause(sig_or_mask, is_sig);
	}
	return pause_with(sig_or_mask, is_sig);
}

/* <signal.h> names __xpg_sigpause sigpause; this is the BSD one. */
EXPORT_BLOCKER int bsd_sigpause(int mask) __asm__("sigpause");
EXPORT_BLOCKER int bsd_sigpause(int mask)
{
	if (!sigmask_on()) {
		if (!AGENT_NEXT(real_sigpause, "sigpause"))
			return -1;
		return real_sigpause(mask);
	}
	return pause_with(mask, 0);
}

EXPORT_BLOCKER int __xpg_sigpause(int sig)
{
	if (!sigmask_on()) {
		if (!AGENT_NEXT(real___xpg_sigpause, "__xpg_sigpause"))
			return -1;
		return real___xpg_sigpause(sig);
	}
	return pause_with(sig, 1);
}
