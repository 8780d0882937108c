/* The program's view of its signal mask: the agent's sampling signal is never
 * really blocked, so that threads which block every signal (thread pools,
 * xz's workers) are sampled too, while each thread's wish to block it is kept
 * here, reported back by every call that returns a mask, and honoured where
 * it shows: across exec and posix_spawn, for a signal of that number the
 * program itself sends, and in the calls that wait for signals, which a
 * sample must never end early.
 *
 * Context: the mask functions may run in signal handlers (the program's and,
 * through chain(), the agent's): everything here is async-signal-safe (TLS
 * and system calls only).
 */
#define _GNU_SOURCE
#include "sigmask.h"
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* The mask is virtual (the sampling handler was installed at start). A vfork
 * child, which shares the parent's memory, shares this too. */
static volatile int g_on;
/* The program's view: this thread blocks the agent's signal. The real mask
 * may block it too (inside a handler whose sa_mask has it, on a thread the
 * agent did not see start): the view reported is the union of both. */
static TLS int tls_view;
/* The real mask blocks the signal because a signal of that number from the
 * program is pending for it while the view blocks it (sigmask_hold). */
static TLS int tls_held;

typedef int (*mask_fn)(int, const sigset_t *, sigset_t *);

static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigsuspend)(const sigset_t *);
static int (*real_sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
static int (*real_signalfd)(int, const sigset_t *, int);
static int (*real_sigpending)(sigset_t *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_ppoll_chk)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
static int (*real_sigsetmask)(int);
static int (*real_sighold)(int);
static int (*real_sigrelse)(int);
static int (*real_sigpause)(int);
static int (*real___sigpause)(int, int);
static int (*real___xpg_sigpause)(int);

#define NEXT(var, name)                                                                                      \
	((var) ? 1 : ((*(void **)&(var) = agent_dlsym_next(name)) != NULL || (errno = ENOSYS, 0)))

static int mask_pthread(int how, const sigset_t *set, sigset_t *old)
{
	if (!NEXT(real_pthread_sigmask, "pthread_sigmask"))
		return ENOSYS;
	return real_pthread_sigmask(how, set, old);
}

static int mask_proc(int how, const sigset_t *set, sigset_t *old)
{
	if (!NEXT(real_sigprocmask, "sigprocmask"))
		return -1;
	return real_sigprocmask(how, set, old);
}

int sigmask_real(int how, const sigset_t *set, sigset_t *old)
{
	return mask_pthread(how, set, old);
}

int sigmask_view_save(void)
{
	return tls_view;
}

void sigmask_view_restore(int view)
{
	tls_view = view;
}

static void one_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, agent_cfg.signo);
}

/* The program changes or reads its mask through real (libc's function, or
 * the raw system call): the agent's signal is taken out of what is blocked
 * and kept in the view; the old mask returned shows the view. Returns what
 * real returns. */
static int mask_change(mask_fn real, int how, const sigset_t *set, sigset_t *old)
{
	int s = agent_cfg.signo;
	if (!g_on || (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK))
		return real(how, set, old);
	int view = tls_view, held = tls_held;
	sigset_t k, o;
	const sigset_t *kp = NULL;
	if (set) {
		int want = sigismember(set, s) == 1;
		k = *set;
		kp = &k;
		/* The view changes before the call: a held signal that the call
		 * lets through must find the program's handler admitted. */
		if (how == SIG_BLOCK) {
			tls_view = view | want;
			sigdelset(&k, s);
		} else if (how == SIG_UNBLOCK) {
			if (want)
				tls_view = tls_held = 0;
		} else {
			tls_view = want;
			if (!(want && held)) {
				sigdelset(&k, s);
				tls_held = 0;
			}
		}
	}
	int r = real(how, kp, &o);
	if (r != 0) {
		tls_view = view;
		tls_held = held;
		return r;
	}
	if (set && how != SIG_UNBLOCK && sigismember(set, s) == 1 && !view && sigismember(&o, s) == 1) {
		/* The signal was really blocked already: inside a handler whose
		 * mask has it (the kernel's doing, undone by sigreturn), or on a
		 * thread the agent did not see start. The program repeats what
		 * it read: that stays as it was, real, and out of the view, which
		 * sigreturn would not put back. */
		tls_view = 0;
		if (how == SIG_SETMASK) {
			sigset_t one;
			one_set(&one);
			real(SIG_BLOCK, &one, NULL);
		}
	}
	if (old) {
		*old = o;
		if (view)
			sigaddset(old, s);
	}
	return 0;
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return mask_change(mask_pthread, how, set, old);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return mask_change(mask_proc, how, set, old);
}

#if defined(__x86_64__)
extern long (*agent_real_syscall)(long, ...);

static int mask_raw(int how, const sigset_t *set, sigset_t *old)
{
	return (int)agent_real_syscall(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t));
}

/* syscall(SYS_rt_sigprocmask, how, set, old, 8) from the program, reached
 * from the syscall() stub (signal-sample.c) with the caller's registers: as
 * pthread_sigmask, on the kernel's 8-byte sets and without libc's filtering
 * of its own signals. */
__attribute__((used)) long agent_syscall_rt_sigprocmask(long nr, long how, const uint64_t *set, uint64_t *old,
							unsigned long size)
{
	if (!agent_real_syscall)
		*(void **)&agent_real_syscall = agent_dlsym_next("syscall");
	if (!agent_real_syscall) {
		errno = ENOSYS;
		return -1;
	}
	if (!g_on || size != sizeof(uint64_t))
		return agent_real_syscall(nr, how, set, old, size);
	sigset_t k, o;
	sigemptyset(&k);
	if (set)
		memcpy(&k, set, sizeof(uint64_t));
	int r = mask_change(mask_raw, (int)how, set ? &k : NULL, old ? &o : NULL);
	if (r == 0 && old)
		memcpy(old, &o, sizeof(uint64_t));
	return r;
}
#endif

/* ------------------------------------------------------------ lifecycle */

void sigmask_init(void)
{
	/* Resolved now, not in a signal handler that happens to be first. */
	NEXT(real_pthread_sigmask, "pthread_sigmask");
	NEXT(real_sigprocmask, "sigprocmask");
	NEXT(real_sigsuspend, "sigsuspend");
	NEXT(real_sigtimedwait, "sigtimedwait");
	NEXT(real_sigpending, "sigpending");
	sigset_t one, o;
	one_set(&one);
	if (mask_pthread(SIG_UNBLOCK, &one, &o) != 0)
		return;
	/* Inherited across exec from a parent that blocked it. */
	tls_view = sigismember(&o, agent_cfg.signo) == 1;
	tls_held = 0;
	g_on = 1;
}

int sigmask_thread_view(void)
{
	return tls_view;
}

/* Context: the new thread, before its timer is armed. It starts with its
 * creator's real mask, or the attribute's (pthread_attr_setsigmask_np),
 * either of which may block the signal. */
void sigmask_thread_start(int view)
{
	if (!g_on)
		return;
	sigset_t one, o;
	one_set(&one);
	if (mask_pthread(SIG_UNBLOCK, &one, &o) != 0)
		return;
	tls_view = view || sigismember(&o, agent_cfg.signo) == 1;
	tls_held = 0;
}

int sigmask_before_exec(void)
{
	if (!g_on || !tls_view || tls_held)
		return 0;
	sigset_t one, o;
	one_set(&one);
	int saved = errno;
	int r = mask_pthread(SIG_BLOCK, &one, &o) == 0 && sigismember(&o, agent_cfg.signo) != 1;
	errno = saved;
	return r;
}

void sigmask_exec_failed(int blocked)
{
	if (!blocked)
		return;
	sigset_t one;
	one_set(&one);
	int saved = errno;
	mask_pthread(SIG_UNBLOCK, &one, NULL);
	errno = saved;
}

void sigmask_after_fork(void)
{
	if (!g_on || !tls_held)
		return;
	tls_held = 0;
	sigset_t one;
	one_set(&one);
	mask_pthread(SIG_UNBLOCK, &one, NULL);
}

/* Context: signal (the agent's handler, with the signal blocked). The signal
 * goes back into the queue, process-wide when the kernel allows it (another
 * thread whose view admits it may take it), else to this thread with its
 * siginfo unchanged; the real mask blocks it here once the handler returns,
 * until the view admits it. The thread is not sampled meanwhile. */
int sigmask_hold(int sig, siginfo_t *si, void *ucv)
{
	if (!g_on || !tls_view)
		return 0;
	ucontext_t *uc = ucv;
	sigaddset(&uc->uc_sigmask, sig);
	tls_held = 1;
	siginfo_t q = *si;
	pid_t pid = getpid();
	if (si->si_code == SI_TKILL || syscall(SYS_rt_sigqueueinfo, pid, sig, &q) < 0)
		syscall(SYS_rt_tgsigqueueinfo, pid, (pid_t)syscall(SYS_gettid), sig, &q);
	return 1;
}

/* ------------------------------------------------------ calls that wait */

/* The mask to pass down for a call that waits with the program's mask m:
 * the agent's signal blocked, so that no sample ends the wait early, unless
 * a signal of that number from the program may end it (the view admits it,
 * and the program handles it or one is held for it). */
static void wait_mask(const sigset_t *m, sigset_t *k)
{
	int s = agent_cfg.signo;
	*k = *m;
	if (sigismember(m, s) == 1 || !(tls_held || sample_user_handles()))
		sigaddset(k, s);
}

/* The program's current mask as it sees it, for a wait without a mask of its
 * own. Returns 0, or -1 (then the call is made as the program made it). */
static int view_now(sigset_t *m)
{
	if (mask_pthread(SIG_BLOCK, NULL, m) != 0)
		return -1;
	if (tls_view)
		sigaddset(m, agent_cfg.signo);
	return 0;
}

/* The view during a wait is the wait's own mask (a handler that runs in it
 * sees that one); it is put back after, as the kernel puts the mask back. */
#define WAIT_BEGIN(m)                                                                                        \
	int view_ = tls_view;                                                                                \
	tls_view = sigismember((m), agent_cfg.signo) == 1
#define WAIT_END()                                                                                           \
	do {                                                                                                 \
		int e_ = errno;                                                                              \
		tls_view = view_;                                                                            \
		errno = e_;                                                                                  \
	} while (0)

EXPORT int sigsuspend(const sigset_t *mask)
{
	if (!NEXT(real_sigsuspend, "sigsuspend"))
		return -1;
	if (!g_on)
		return real_sigsuspend(mask);
	sigset_t k;
	wait_mask(mask, &k);
	WAIT_BEGIN(mask);
	int r = real_sigsuspend(&k);
	WAIT_END();
	return r;
}

EXPORT int __sigsuspend(const sigset_t *mask)
{
	return sigsuspend(mask);
}

/* The mask a pselect/ppoll/epoll_pwait passes down: the program's (or, for
 * none, its current one) with the agent's signal blocked; NULL to make the
 * call unchanged. */
static const sigset_t *wait_mask_or_now(const sigset_t *mask, sigset_t *m, sigset_t *k)
{
	if (!g_on)
		return mask;
	if (!mask) {
		if (view_now(m) < 0)
			return NULL;
		mask = m;
	} else {
		*m = *mask;
	}
	wait_mask(m, k);
	return k;
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *mask)
{
	if (!NEXT(real_pselect, "pselect"))
		return -1;
	sigset_t m, k;
	const sigset_t *kp = wait_mask_or_now(mask, &m, &k);
	if (kp != &k)
		return real_pselect(n, r, w, x, ts, kp);
	WAIT_BEGIN(&m);
	int ret = real_pselect(n, r, w, x, ts, kp);
	WAIT_END();
	return ret;
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (!NEXT(real_ppoll, "ppoll"))
		return -1;
	sigset_t m, k;
	const sigset_t *kp = wait_mask_or_now(mask, &m, &k);
	if (kp != &k)
		return real_ppoll(fds, n, ts, kp);
	WAIT_BEGIN(&m);
	int ret = real_ppoll(fds, n, ts, kp);
	WAIT_END();
	return ret;
}

/* _FORTIFY_SOURCE's ppoll: libc's checks the size, then calls its own
 * ppoll, past this interposer. */
EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		       size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n) {
		if (!NEXT(real_ppoll_chk, "__ppoll_chk"))
			return -1;
		return real_ppoll_chk(fds, n, ts, mask, fdslen);
	}
	return ppoll(fds, n, ts, mask);
}

EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	if (!NEXT(real_epoll_pwait, "epoll_pwait"))
		return -1;
	sigset_t m, k;
	const sigset_t *kp = wait_mask_or_now(mask, &m, &k);
	if (kp != &k)
		return real_epoll_pwait(ep, ev, max, timeout, kp);
	WAIT_BEGIN(&m);
	int ret = real_epoll_pwait(ep, ev, max, timeout, kp);
	WAIT_END();
	return ret;
}

/* glibc 2.35 and later; resolved by name, so an older libc just lacks it. */
EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *ts,
			const sigset_t *mask)
{
	if (!NEXT(real_epoll_pwait2, "epoll_pwait2"))
		return -1;
	sigset_t m, k;
	const sigset_t *kp = wait_mask_or_now(mask, &m, &k);
	if (kp != &k)
		return real_epoll_pwait2(ep, ev, max, ts, kp);
	WAIT_BEGIN(&m);
	int ret = real_epoll_pwait2(ep, ev, max, ts, kp);
	WAIT_END();
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
static int timed_wait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	if (!NEXT(real_sigtimedwait, "sigtimedwait"))
		return -1;
	int s = agent_cfg.signo;
	if (!g_on || !set)
		return real_sigtimedwait(set, info, ts);
	if (sigismember(set, s) != 1) {
		sigset_t one, o;
		one_set(&one);
		int blocked = mask_pthread(SIG_BLOCK, &one, &o) == 0 && sigismember(&o, s) != 1;
		int r = real_sigtimedwait(set, info, ts);
		int e = errno;
		if (blocked)
			mask_pthread(SIG_UNBLOCK, &one, NULL);
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

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	return timed_wait(set, info, ts);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	return timed_wait(set, info, NULL);
}

/* As glibc's: an interrupted wait goes on; the error is returned. */
EXPORT int sigwait(const sigset_t *set, int *sig)
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
EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	if (!NEXT(real_signalfd, "signalfd"))
		return -1;
	if (!g_on)
		return real_signalfd(fd, mask, flags);
	sigset_t k = *mask;
	sigdelset(&k, agent_cfg.signo);
	return real_signalfd(fd, &k, flags);
}

/* The agent's signal is pending for the program only when one of its own is
 * held for it; otherwise one seen here is a sample on its way. */
EXPORT int sigpending(sigset_t *set)
{
	if (!NEXT(real_sigpending, "sigpending"))
		return -1;
	int r = real_sigpending(set);
	if (r == 0 && g_on && !tls_held)
		sigdelset(set, agent_cfg.signo);
	return r;
}

/* ---------------------------------------------- BSD and System V calls */

/* glibc builds these on its internal sigprocmask and sigsuspend, past the
 * interposers above. sigblock() and siggetmask() need nothing: their masks
 * are ints, which cannot name a real-time signal. */

/* Sets the whole mask to signals below 32: the agent's is unblocked. */
EXPORT int sigsetmask(int mask)
{
	if (!NEXT(real_sigsetmask, "sigsetmask"))
		return -1;
	if (!g_on)
		return real_sigsetmask(mask);
	int view = tls_view;
	tls_view = tls_held = 0;
	int r = real_sigsetmask(mask);
	if (r == -1)
		tls_view = view;
	return r;
}

EXPORT int sighold(int sig)
{
	if (!g_on || sig != agent_cfg.signo) {
		if (!NEXT(real_sighold, "sighold"))
			return -1;
		return real_sighold(sig);
	}
	sigset_t one;
	one_set(&one);
	return mask_change(mask_proc, SIG_BLOCK, &one, NULL);
}

EXPORT int sigrelse(int sig)
{
	if (!g_on || sig != agent_cfg.signo) {
		if (!NEXT(real_sigrelse, "sigrelse"))
			return -1;
		return real_sigrelse(sig);
	}
	sigset_t one;
	one_set(&one);
	return mask_change(mask_proc, SIG_UNBLOCK, &one, NULL);
}

/* sigpause(sig) (X/Open: the mask without sig) or sigpause(mask) (BSD: that
 * mask of signals below 32), through the sigsuspend above. */
static int pause_with(int sig_or_mask, int is_sig)
{
	sigset_t m;
	if (is_sig) {
		if (view_now(&m) < 0 || sigdelset(&m, sig_or_mask) < 0)
			return -1;
	} else {
		sigemptyset(&m);
		for (int i = 1; i < 32; i++)
			if (sig_or_mask & (1 << (i - 1)))
				sigaddset(&m, i);
	}
	return sigsuspend(&m);
}

EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
	if (!g_on) {
		if (!NEXT(real___sigpause, "__sigpause"))
			return -1;
		return real___sigpause(sig_or_mask, is_sig);
	}
	return pause_with(sig_or_mask, is_sig);
}

/* <signal.h> names __xpg_sigpause sigpause; this is the BSD one. */
EXPORT int bsd_sigpause(int mask) __asm__("sigpause");
EXPORT int bsd_sigpause(int mask)
{
	if (!g_on) {
		if (!NEXT(real_sigpause, "sigpause"))
			return -1;
		return real_sigpause(mask);
	}
	return pause_with(mask, 0);
}

EXPORT int __xpg_sigpause(int sig)
{
	if (!g_on) {
		if (!NEXT(real___xpg_sigpause, "__xpg_sigpause"))
			return -1;
		return real___xpg_sigpause(sig);
	}
	return pause_with(sig, 1);
}

/* -------------------------------------------------------- posix_spawn */

/* The child of posix_spawn starts with the parent's real mask, read inside
 * libc: when the view blocks the agent's signal and the program sets no mask
 * of its own, the attributes are copied and given the view. program.c's
 * posix_spawn wrapper (which also keeps the agent in the environment) calls it. */
const posix_spawnattr_t *sigmask_spawn_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *copy)
{
	short fl = 0;
	sigset_t m;
	if (!g_on || !tls_view)
		return attr;
	if (attr && (posix_spawnattr_getflags(attr, &fl) != 0 || (fl & POSIX_SPAWN_SETSIGMASK)))
		return attr;
	if (view_now(&m) < 0)
		return attr;
	if (attr)
		*copy = *attr;
	else if (posix_spawnattr_init(copy) != 0)
		return attr;
	posix_spawnattr_setsigmask(copy, &m);
	posix_spawnattr_setflags(copy, (short)(fl | POSIX_SPAWN_SETSIGMASK));
	return copy;
}
