/* The program's view of its signal mask: the agent's sampling signal is never
 * really blocked, so that threads which block every signal (thread pools,
 * xz's workers) are sampled too, while each thread's wish to block it is kept
 * here, reported back by every call that returns a mask, and honoured where
 * it shows: across exec and posix_spawn, for a signal of that number the
 * program itself sends (sigmask_hold, in the sampling handler), and in the
 * calls that wait for signals (sigwait.c), which a sample must never end
 * early.
 *
 * Context: the mask functions may run in signal handlers (the program's and,
 * through sample_chain(), the agent's): everything here is async-signal-safe
 * (TLS and system calls only).
 */
#define _GNU_SOURCE
#include "sigmask.h"
#include "agent.h"
#include "fathom-attach.h"

#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
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
/* tls_view is this thread's own: set at its start under the agent, or
 * looked up in fathom_late_mask at its first call (view_now). */
static TLS int tls_seen;

/* Threads that ran before a late start (fathom record --pid) with the
 * signal blocked: the attaching fathom lists each, then unblocks it with
 * ptrace (profiler/attach-inject.c). Their view is that they block it. */
EXPORT struct fathom_late_mask fathom_late_mask;

/* The program's view for this thread. Context: any, async-signal-safe. */
static int view_now(void)
{
	if (UNLIKELY(!tls_seen)) {
		tls_seen = 1;
		int n = __atomic_load_n(&fathom_late_mask.n, __ATOMIC_ACQUIRE);
		if (n > 0) {
			pid_t me = (pid_t)syscall(SYS_gettid);
			for (int i = 0; i < n && i < FATHOM_LATE_MASK_MAX; i++)
				if (fathom_late_mask.tid[i] == me)
					tls_view = 1;
		}
	}
	return tls_view;
}

typedef int (*mask_fn)(int, const sigset_t *, sigset_t *);

static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigsetmask)(int);
static int (*real_sighold)(int);
static int (*real_sigrelse)(int);

static int mask_pthread(int how, const sigset_t *set, sigset_t *old)
{
	if (!AGENT_NEXT(real_pthread_sigmask, "pthread_sigmask"))
		return ENOSYS;
	return real_pthread_sigmask(how, set, old);
}

static int mask_proc(int how, const sigset_t *set, sigset_t *old)
{
	if (!AGENT_NEXT(real_sigprocmask, "sigprocmask"))
		return -1;
	return real_sigprocmask(how, set, old);
}

int sigmask_real(int how, const sigset_t *set, sigset_t *old)
{
	return mask_pthread(how, set, old);
}

int sigmask_view_save(void)
{
	return view_now();
}

void sigmask_view_restore(int view)
{
	tls_seen = 1;
	tls_view = view;
}

int sigmask_on(void)
{
	return g_on;
}

int sigmask_held(void)
{
	return tls_held;
}

void sigmask_one(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, agent_cfg.signo);
}

int sigmask_view_now(sigset_t *m)
{
	if (mask_pthread(SIG_BLOCK, NULL, m) != 0)
		return -1;
	if (view_now())
		sigaddset(m, agent_cfg.signo);
	return 0;
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
	int view = view_now(), held = tls_held;
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
			sigmask_one(&one);
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
 * from the syscall() stub (signal-action.c) with the caller's registers: as
 * pthread_sigmask, on the kernel's 8-byte sets and without libc's filtering
 * of its own signals. */
__attribute__((used)) long agent_syscall_rt_sigprocmask(long nr, long how, const uint64_t *set, uint64_t *old,
							unsigned long size)
{
	if (!AGENT_NEXT(agent_real_syscall, "syscall"))
		return -1;
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
	AGENT_NEXT(real_pthread_sigmask, "pthread_sigmask");
	AGENT_NEXT(real_sigprocmask, "sigprocmask");
	sigwait_init();
	sigset_t one, o;
	sigmask_one(&one);
	if (mask_pthread(SIG_UNBLOCK, &one, &o) != 0)
		return;
	/* Inherited across exec from a parent that blocked it (late: the
	 * mask of the thread fathom_attach runs on). */
	tls_seen = 1;
	tls_view = sigismember(&o, agent_cfg.signo) == 1;
	tls_held = 0;
	g_on = 1;
	/* The attaching fathom unblocks the threads that ran before (late). */
	if (late_mode())
		__atomic_store_n(&fathom_late_mask.signo, agent_cfg.signo, __ATOMIC_RELEASE);
}

int sigmask_thread_view(void)
{
	return view_now();
}

/* Context: the new thread, before its timer is armed. It starts with its
 * creator's real mask, or the attribute's (pthread_attr_setsigmask_np),
 * either of which may block the signal. */
void sigmask_thread_start(int view)
{
	if (!g_on)
		return;
	sigset_t one, o;
	sigmask_one(&one);
	if (mask_pthread(SIG_UNBLOCK, &one, &o) != 0)
		return;
	tls_seen = 1;
	tls_view = view || sigismember(&o, agent_cfg.signo) == 1;
	tls_held = 0;
}

int sigmask_before_exec(void)
{
	if (!g_on || !view_now() || tls_held)
		return 0;
	sigset_t one, o;
	sigmask_one(&one);
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
	sigmask_one(&one);
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
	sigmask_one(&one);
	mask_pthread(SIG_UNBLOCK, &one, NULL);
}

/* Context: signal (the agent's handler, with the signal blocked). The signal
 * goes back into the queue, process-wide when the kernel allows it (another
 * thread whose view admits it may take it), else to this thread with its
 * siginfo unchanged; the real mask blocks it here once the handler returns,
 * until the view admits it. The thread is not sampled meanwhile. */
int sigmask_hold(int sig, siginfo_t *si, void *ucv)
{
	if (!g_on || !view_now())
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

/* ---------------------------------------------- BSD and System V masks */

/* glibc builds these on its internal sigprocmask, past the interposers
 * above (sigpause, on its sigsuspend: sigwait.c). sigblock() and
 * siggetmask() need nothing: their masks are ints, which cannot name a
 * real-time signal. */

/* Sets the whole mask to signals below 32: the agent's is unblocked. */
EXPORT int sigsetmask(int mask)
{
	if (!AGENT_NEXT(real_sigsetmask, "sigsetmask"))
		return -1;
	if (!g_on)
		return real_sigsetmask(mask);
	int view = view_now();
	tls_view = tls_held = 0;
	int r = real_sigsetmask(mask);
	if (r == -1)
		tls_view = view;
	return r;
}

/* sighold() (how SIG_BLOCK) or sigrelse() (SIG_UNBLOCK): for the agent's
 * signal, a change of the view; for any other, libc's (*real). */
static int hold_or_release(int sig, int how, int (**real)(int), const char *name)
{
	if (!g_on || sig != agent_cfg.signo)
		return AGENT_NEXT(*real, name) ? (*real)(sig) : -1;
	sigset_t one;
	sigmask_one(&one);
	return mask_change(mask_proc, how, &one, NULL);
}

EXPORT int sighold(int sig)
{
	return hold_or_release(sig, SIG_BLOCK, &real_sighold, "sighold");
}

EXPORT int sigrelse(int sig)
{
	return hold_or_release(sig, SIG_UNBLOCK, &real_sigrelse, "sigrelse");
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
	if (!g_on || !view_now())
		return attr;
	if (attr && (posix_spawnattr_getflags(attr, &fl) != 0 || (fl & POSIX_SPAWN_SETSIGMASK)))
		return attr;
	if (sigmask_view_now(&m) < 0)
		return attr;
	if (attr)
		*copy = *attr;
	else if (posix_spawnattr_init(copy) != 0)
		return attr;
	posix_spawnattr_setsigmask(copy, &m);
	posix_spawnattr_setflags(copy, (short)(fl | POSIX_SPAWN_SETSIGMASK));
	return copy;
}
