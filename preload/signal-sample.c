/* CPU sampling: the handler of the agent's own real-time signal, which
 * per-thread timers (signal-timers.c) deliver to their own thread, and which
 * unwinds, interns and records a sample; and the program's view of that
 * signal (its disposition as the program set it, through every libc entry
 * point and the raw syscall). The handler runs on the agent's signal stack
 * (signal-altstack.c).
 *
 * Context: the handler and everything it calls is async-signal-safe: no
 * malloc, no locks, no stdio. SIGPROF is never touched: it is the program's.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "sigmask.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* How the handler is installed. SA_RESTART: the program's system calls never
 * fail with EINTR because of a sample (with the CPU clock the timer fires
 * only while the thread runs anyway). */
#define SAMPLE_SA_FLAGS (SA_SIGINFO | SA_RESTART | SA_ONSTACK)

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
/* The handler is installed: the program's view of the signal is virtual. */
static volatile int g_installed;
/* The program's disposition of the agent's signal, as it believes it set it
 * (in the form glibc's sigaction reports it). */
static struct sigaction g_user_act;
/* glibc's signal return trampoline, which its sigaction adds (SA_RESTORER)
 * to every handler: reported back as the kernel would. */
static void (*g_restorer)(void);

/* Samples whose interrupted pc was the agent's work, charged to its caller. */
_Atomic uint64_t agent_cpu_in_agent;
TLS unsigned agent_sample_sigs;

static int in_agent(uint64_t pc)
{
	return pc >= agent_text_lo && pc < agent_text_hi;
}

static int in_helper(uint64_t pc)
{
	for (unsigned i = 0; i < agent_nhelpers; i++)
		if (pc >= agent_helper_lo[i] && pc < agent_helper_hi[i])
			return 1;
	return 0;
}

/* Unwinds the interrupted context into f: frame 0 is the interrupted pc.
 * Context: async-signal-safe. */
static unsigned unwind_signal(void *ucv, uint64_t *f, struct tstate *t)
{
	ucontext_t *uc = ucv;
	f[0] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	if (t->in_unwind && t->unwind_caller && in_agent(f[0])) {
		/* A hook's own unwinding was interrupted: its state is in use,
		 * but the hook knows its caller. */
		f[1] = t->unwind_caller;
		return 2;
	}
	if (t->in_unwind || t->in_loader)
		return 1;
	t->in_unwind = 1;
	__asm__ volatile("" ::: "memory");
	struct unwind *u = &t->uw;
	unwind_init_signal(u, uc, t->stack_lo, t->stack_hi);
	u->cache = t->uw_cache;
	unsigned n = 1;
	while (n < FD_MAX_FRAMES && unwind_step(u))
		f[n++] = u->reg[UW_RA];
	__asm__ volatile("" ::: "memory");
	t->in_unwind = 0;
	return n;
}

/* The run of innermost frames of f that the agent is part of: from the
 * interrupted pc through the outermost agent frame of the run that starts
 * there, when every frame before the first agent frame (*first) is in a
 * library the agent calls (libc's malloc under an exact hook, zstd under the
 * writer's work done on this thread). Returns the index past that run, 0
 * when the pc is the program's (a callback of the program's that the agent
 * called, an atexit handler under the exit hook) or when nothing but the
 * agent is left.
 * Context: async-signal-safe. */
static unsigned agent_frames(const uint64_t *f, unsigned n, unsigned *first)
{
	unsigned i = 0;
	/* A return address is past its call: look up the call itself. */
	while (i < n && !in_agent(f[i] - (i > 0))) {
		if (!in_helper(f[i] - (i > 0)))
			return 0;
		i++;
	}
	if (i == n)
		return 0;
	*first = i;
	unsigned end = i + 1;
	for (unsigned j = end; j < n; j++) {
		if (in_agent(f[j] - 1))
			end = j + 1;
		else if (!in_helper(f[j] - 1))
			break;
	}
	return end < n ? end : 0;
}

/* Unwinds the interrupted context into f without the agent's frames
 * (agent_frames). Two cases:
 * - the pc is in libc under an interposer of the agent's while the thread
 *   is not in the agent's own code (its guard clear, or GUARD_REAL: a hook
 *   calling the real allocator; t->busy clear): that is the real malloc,
 *   free or other call the program made, at the cost it has without the
 *   agent; only the agent's frames are cut out, the libc frames stay, as
 *   the program's;
 * - otherwise it is the agent's own work (recording an allocation, the
 *   interposer's few instructions): the sample is charged to the frame that
 *   called into the agent, flagged EV_SAMPLE_AGENT in *flags and counted,
 *   so that reports can leave it out of the program's shares;
 * - the thread was in the agent's code (in_agent_code: its guard was set),
 *   the pc is in a library the agent calls and the walk never reached an
 *   agent frame (zstd's assembly has no unwind information, and a walk from
 *   it may go astray: the writer's work done on the main thread): the
 *   agent's work with no caller to charge, flagged SAMPLE_NO_CALLER as well
 *   (on_sample charges it to the thread's last stack).
 * Context: async-signal-safe. */
#define SAMPLE_NO_CALLER 0x100u
static unsigned unwind_program(void *ucv, uint64_t *f, struct tstate *t, uint32_t weight, int in_agent_code,
			       unsigned *flags)
{
	unsigned n = unwind_signal(ucv, f, t);
	*flags = 0;
	if (t->blk_on)
		return blocking_frames(t, f, n);
	unsigned first = 0, end = agent_frames(f, n, &first);
	if (!end) {
		if (in_agent_code == 1 && n && in_helper(f[0])) {
			*flags = EV_SAMPLE_AGENT | SAMPLE_NO_CALLER;
			atomic_fetch_add_explicit(&agent_cpu_in_agent, weight, memory_order_relaxed);
		}
		return n;
	}
	if (first > 0 && in_agent_code != 1 && !t->busy && !t->in_unwind) {
		for (unsigned i = end; i < n; i++)
			f[first + i - end] = f[i];
		return n - (end - first);
	}
	for (unsigned i = end; i < n; i++)
		f[i - end] = f[i];
	*flags = EV_SAMPLE_AGENT;
	atomic_fetch_add_explicit(&agent_cpu_in_agent, weight, memory_order_relaxed);
	return n - end;
}

/* The stack of a sample of the agent's work whose caller the walk did not
 * reach (SAMPLE_NO_CALLER): the thread's last stack, or its start routine,
 * as a stack of f (0 when neither is known). Context: signal. */
static uint32_t no_caller_stack(struct tstate *t, uint64_t *f, unsigned *n)
{
	if (t->last_id)
		return t->last_id;
	if (!t->start_n)
		return 0;
	f[0] = t->start_frames[0];
	*n = 1;
	return 0;
}

/* Adds a sample taken while the thread is still in the agent's bookkeeping
 * to the one it deferred there (t->pending), when that one is the agent's
 * work: the thread has not left the agent since (leaving pushes it), so the
 * caller is the same. Returns 0 when it cannot (the deferred sample is the
 * program's, in a handler of its own, or it is being pushed).
 * Context: signal. */
static int pending_add(struct tstate *t, uint32_t weight, uint64_t ns)
{
	if (!(t->pending_flags & EV_SAMPLE_AGENT) || t->pending_closed)
		return 0;
	if (ns || t->pending_ns) {
		uint64_t period = 1000000000u / (unsigned)agent_cfg.hz;
		t->pending_ns = (t->pending_ns ? t->pending_ns : (uint64_t)t->pending_weight * period) +
				(ns ? ns : (uint64_t)weight * period);
	}
	t->pending_weight += weight;
	atomic_fetch_add_explicit(&agent_cpu_in_agent, weight, memory_order_relaxed);
	return 1;
}

/* Runs the program's own disposition *disp for a signal the agent caught
 * (of our number but not from our timers; a fault outside the Python walk's
 * guard), as the kernel would have: its handler with its sa_mask (and the
 * signal itself unless SA_NODEFER) blocked, reset first with SA_RESETHAND;
 * ignored; or the default action, which ends the process.
 * Context: signal. */
void sample_chain(struct sigaction *disp, int sig, siginfo_t *si, void *uc)
{
	struct sigaction ua = *disp;
	if (ua.sa_handler == SIG_IGN)
		return;
	if (ua.sa_handler == SIG_DFL) {
		/* The default action of a real-time signal ends the process:
		 * do that, by the same signal, once this handler returns. */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		real_sigaction(sig, &dfl, NULL);
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
		return;
	}
	if (ua.sa_flags & SA_RESETHAND) {
		disp->sa_handler = SIG_DFL;
		disp->sa_flags &= ~(SA_SIGINFO | SA_RESETHAND);
	}
	sigset_t old, m = ua.sa_mask;
	if (ua.sa_flags & SA_NODEFER)
		sigdelset(&m, sig);
	else
		sigaddset(&m, sig);
	/* The real mask, as the kernel sets it around a handler; the program's
	 * view of it (sigmask.c) is put back after, as sigreturn would. */
	int view = sigmask_view_save();
	sigmask_real(SIG_BLOCK, &m, &old);
	if (ua.sa_flags & SA_NODEFER) {
		sigset_t self;
		sigemptyset(&self);
		sigaddset(&self, sig);
		sigmask_real(SIG_UNBLOCK, &self, NULL);
	}
	if (ua.sa_flags & SA_SIGINFO)
		ua.sa_sigaction(sig, si, uc);
	else
		ua.sa_handler(sig);
	sigmask_real(SIG_SETMASK, &old, NULL);
	sigmask_view_restore(view);
}

int sample_user_handles(void)
{
	sighandler_t h = g_user_act.sa_handler;
	return h != SIG_DFL && h != SIG_IGN;
}

/* Context: signal (the agent's), async-signal-safe. */
static void on_sample(int sig, siginfo_t *si, void *ucv)
{
	int saved = errno;
	if (!sample_timer_info(si)) {
		if (!sigmask_hold(sig, si, ucv))
			sample_chain(&g_user_act, sig, si, ucv);
		goto out;
	}
	agent_sample_sigs++;
	if (!agent_cpu_on)
		goto out;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	struct tstate *t = agent_tls;
	if (!t)
		t = thread_attach();
	/* A blocked thread's time is charged exactly (blocking.c). */
	if (!t || atomic_load_explicit(&t->blk_since, memory_order_relaxed))
		goto out_guard;
	uint32_t weight = 1 + (si->si_overrun > 0 ? (uint32_t)si->si_overrun : 0);
	uint64_t now = agent_now();
	uint64_t ns = tcpu_sample_ns(t, weight);
	if (t->busy) {
		/* The thread is pushing to its ring: defer the sample. A
		 * thread stays in the agent's bookkeeping across several
		 * samples when it waits for room in its ring: those are the
		 * agent's work for the same caller as the one deferred. */
		if (t->pending) {
			if (!pending_add(t, weight, ns))
				atomic_fetch_add_explicit(&t->lost_samples, 1, memory_order_relaxed);
			goto out_guard;
		}
		unsigned flags, n = unwind_program(ucv, t->pending_frames + 2, t, weight, g, &flags);
		int is_new = 0;
		uint32_t id = 0;
		if (flags & SAMPLE_NO_CALLER) {
			flags &= ~SAMPLE_NO_CALLER;
			id = no_caller_stack(t, t->pending_frames + 2, &n);
		} else {
			n = python_frames(t->pending_frames + 2, n);
		}
		if (!id)
			id = intern_stack(&agent_intern, t->pending_frames + 2, n, &is_new);
		if (!id) {
			atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
			goto out_guard;
		}
		t->last_id = id;
		t->pending_n = n;
		t->pending_new = is_new;
		t->pending_id = id;
		t->pending_weight = weight;
		t->pending_ns = ns;
		t->pending_flags = flags;
		t->pending_time = now;
		__asm__ volatile("" ::: "memory");
		t->pending = 1;
		goto out_guard;
	}
	unsigned flags, n = unwind_program(ucv, t->sig_frames + 2, t, weight, g, &flags);
	uint32_t id = 0;
	if (flags & SAMPLE_NO_CALLER) {
		flags &= ~SAMPLE_NO_CALLER;
		id = no_caller_stack(t, t->sig_frames + 2, &n);
	} else {
		n = python_frames(t->sig_frames + 2, n);
	}
	/* Check the room for the worst case before interning: a stack that
	 * is interned must have its STACK event pushed. */
	if (ring_space(&t->ring) < n + 2 + 6) {
		atomic_fetch_add_explicit(&t->lost_samples, 1, memory_order_relaxed);
		goto out_guard;
	}
	int is_new = 0;
	if (!id)
		id = intern_stack(&agent_intern, t->sig_frames + 2, n, &is_new);
	if (!id) {
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
		goto out_guard;
	}
	if (is_new) {
		/* The frames are in sig_frames after room for the header. */
		t->sig_frames[0] = EV_W0(EV_STACK, n + 2, n);
		t->sig_frames[1] = id;
		ring_push(&t->ring, t->sig_frames, n + 2);
	}
	uint64_t s[6];
	ring_push(&t->ring, s, sample_event(s, weight, now, id, ns, flags));
	t->last_id = id;
	if (t->blk_on)
		blocking_sampled(t, id, now);
out_guard:
	NO_CANCEL_END(cs);
	agent_guard = g;
out:
	errno = saved;
}

/* The C library's sigaction, which the program's calls never reach. */
int sample_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction)
		real_sigaction = agent_dlsym_next("sigaction");
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	return real_sigaction(sig, act, old);
}

/* Installs the handler on the agent's signal; the program's disposition
 * becomes virtual. Also called after a failed exec. */
int sample_install(void)
{
	if (!real_sigaction)
		real_sigaction = agent_dlsym_next("sigaction");
	if (!real_sigaction)
		return -1;
	struct sigaction sa, old, cur;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sample;
	sa.sa_flags = SAMPLE_SA_FLAGS;
	sigemptyset(&sa.sa_mask);
	if (real_sigaction(agent_cfg.signo, &sa, &old) < 0)
		return -1;
	if (real_sigaction(agent_cfg.signo, NULL, &cur) == 0 && (cur.sa_flags & SA_RESTORER))
		g_restorer = cur.sa_restorer;
	g_user_act = old;
	__atomic_store_n(&g_installed, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* --------------------------------------------------------------------- exec */

/* Before exec, once every timer is deleted: a signal of ours still pending
 * (on any thread) would take its default action, the end of the process, in
 * the new image. Setting SIG_IGN discards the pending ones process-wide and
 * per thread; then the program's own disposition is restored, which is what
 * the new image must inherit, and nothing can raise our signal any more. */
void sample_before_exec(void)
{
	if (!__atomic_exchange_n(&g_installed, 0, __ATOMIC_SEQ_CST))
		return;
	struct sigaction ign, user = g_user_act;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	real_sigaction(agent_cfg.signo, &ign, NULL);
	real_sigaction(agent_cfg.signo, &user, NULL);
}

/* --------------------------------------------- the program's view of our signal */

/* A vfork child (between vfork and exec) shares the parent's memory but has
 * its own dispositions: its calls go to the kernel, as without the agent. */
static int ours(int sig)
{
	return sig == agent_cfg.signo && __atomic_load_n(&g_installed, __ATOMIC_SEQ_CST) &&
	       getpid() == agent_pid;
}

/* Sets or reads the program's disposition of the agent's signal. */
static void user_sigaction(const struct sigaction *act, struct sigaction *old)
{
	struct sigaction prev = g_user_act;
	if (act) {
		struct sigaction a = *act;
		/* As glibc passes it to the kernel, and reads it back. */
		if (g_restorer) {
			a.sa_flags |= SA_RESTORER;
			a.sa_restorer = g_restorer;
		}
		g_user_act = a;
	}
	if (old)
		*old = prev;
}

#define RESOLVE_NEXT(var, name)                                                                              \
	do {                                                                                                 \
		if (!(var))                                                                                  \
			*(void **)&(var) = agent_dlsym_next(name);                                           \
	} while (0)

/* The program sets or reads a disposition: for the agent's signal, while the
 * handler is installed, it is recorded and chained to from our handler,
 * never installed over ours. */
EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	RESOLVE_NEXT(real_sigaction, "sigaction");
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (!ours(sig)) {
		int r;
		if (python_sigaction(sig, act, old, &r))
			return r;
		return real_sigaction(sig, act, old);
	}
	user_sigaction(act, old);
	return 0;
}

EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/* signal(), bsd_signal(), sysv_signal() and the rest, for our signal: glibc
 * implements them on its internal sigaction, which no interposition reaches,
 * so each is rebuilt here on the virtual one, with glibc's flags. */
static sighandler_t user_signal(int sig, sighandler_t handler, int flags, int mask_self)
{
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (mask_self)
		sigaddset(&sa.sa_mask, sig);
	user_sigaction(&sa, &old);
	return old.sa_handler;
}

#define PASS_SIGNAL(name, sig, handler)                                                                      \
	do {                                                                                                 \
		static sighandler_t (*real_)(int, sighandler_t);                                             \
		RESOLVE_NEXT(real_, name);                                                                   \
		if (!real_) {                                                                                \
			errno = ENOSYS;                                                                      \
			return SIG_ERR;                                                                      \
		}                                                                                            \
		return real_(sig, handler);                                                                  \
	} while (0)

/* BSD semantics, as glibc's signal(): restarting, the signal blocked in its
 * handler. */
EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (!ours(sig))
		PASS_SIGNAL("signal", sig, handler);
	return user_signal(sig, handler, SA_RESTART, 1);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	if (!ours(sig))
		PASS_SIGNAL("bsd_signal", sig, handler);
	return user_signal(sig, handler, SA_RESTART, 1);
}

EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
	if (!ours(sig))
		PASS_SIGNAL("ssignal", sig, handler);
	return user_signal(sig, handler, SA_RESTART, 1);
}

/* System V semantics: one-shot, not blocked in its handler. */
EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	if (!ours(sig))
		PASS_SIGNAL("sysv_signal", sig, handler);
	return user_signal(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	if (!ours(sig))
		PASS_SIGNAL("__sysv_signal", sig, handler);
	return user_signal(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

/* sigset(): SIG_HOLD blocks the signal; anything else sets the handler and
 * unblocks it; the previous disposition is returned, or SIG_HOLD when the
 * signal was blocked. The mask is the thread's real one. */
EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	if (!ours(sig))
		PASS_SIGNAL("sigset", sig, disp);
	if (disp == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigset_t one, old;
	sigemptyset(&one);
	sigaddset(&one, sig);
	struct sigaction prev = g_user_act;
	if (disp == SIG_HOLD) {
		pthread_sigmask(SIG_BLOCK, &one, &old);
	} else {
		user_signal(sig, disp, 0, 0);
		pthread_sigmask(SIG_UNBLOCK, &one, &old);
	}
	return sigismember(&old, sig) ? SIG_HOLD : prev.sa_handler;
}

EXPORT int sigignore(int sig)
{
	static int (*real_)(int);
	if (!ours(sig)) {
		RESOLVE_NEXT(real_, "sigignore");
		if (!real_) {
			errno = ENOSYS;
			return -1;
		}
		return real_(sig);
	}
	user_signal(sig, SIG_IGN, 0, 0);
	return 0;
}

EXPORT int siginterrupt(int sig, int flag)
{
	static int (*real_)(int, int);
	if (!ours(sig)) {
		RESOLVE_NEXT(real_, "siginterrupt");
		if (!real_) {
			errno = ENOSYS;
			return -1;
		}
		return real_(sig, flag);
	}
	if (flag)
		g_user_act.sa_flags &= ~SA_RESTART;
	else
		g_user_act.sa_flags |= SA_RESTART;
	return 0;
}

/* ------------------------------------------------- the raw rt_sigaction syscall */

#if defined(__x86_64__)
/* The kernel's struct sigaction on x86-64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* libc's syscall(); read by the stub below, so not static. */
__attribute__((used)) long (*agent_real_syscall)(long, ...);

#define STR_(x) #x
#define STR(x) STR_(x)

/* syscall(SYS_rt_sigaction, sig, act, old, 8) from the program, for our
 * signal: the virtual disposition, in the kernel's layout. Any other
 * syscall(), and rt_sigaction for any other signal, goes to libc unchanged.
 * Reached from the stub below with the caller's registers: the arguments
 * are where a non-variadic call puts them. */
__attribute__((used)) long agent_syscall_rt_sigaction(long nr, long sig, const struct ksigaction *act,
						      struct ksigaction *old, unsigned long size)
{
	if (!ours((int)sig)) {
		RESOLVE_NEXT(agent_real_syscall, "syscall");
		if (!agent_real_syscall) {
			errno = ENOSYS;
			return -1;
		}
		return agent_real_syscall(nr, sig, act, old, size);
	}
	if (size != sizeof(uint64_t)) {
		errno = EINVAL;
		return -1;
	}
	struct sigaction prev = g_user_act;
	if (act) {
		struct sigaction a;
		memset(&a, 0, sizeof(a));
		a.sa_handler = (sighandler_t)act->handler;
		a.sa_flags = (int)act->flags;
		a.sa_restorer = act->restorer;
		memcpy(&a.sa_mask, &act->mask, sizeof(act->mask));
		g_user_act = a;
	}
	if (old) {
		old->handler = (void *)prev.sa_handler;
		old->flags = (unsigned long)(unsigned)prev.sa_flags;
		old->restorer = prev.sa_restorer;
		memcpy(&old->mask, &prev.sa_mask, sizeof(old->mask));
	}
	return 0;
}

/* Resolves libc's syscall() for the stub; its first call may come before
 * the constructor. Returns it, with every argument register untouched. */
__attribute__((used)) void *agent_syscall_resolve(void)
{
	RESOLVE_NEXT(agent_real_syscall, "syscall");
	return (void *)agent_real_syscall;
}

/* syscall(): for any number but rt_sigaction and rt_sigprocmask (whose
 * handler is in sigmask.c), a tail jump to libc's with every register and
 * the stack as the caller left them, so nothing changes for any other system
 * call (clone, vfork, rt_sigreturn included). Its CFI lets a sample that
 * lands here be unwound to the caller (the agent's own futex calls come
 * through it), and charged there. */
// clang-format off
__asm__(".text\n"
	".globl syscall\n"
	".type syscall, @function\n"
	"syscall:\n"
	"	.cfi_startproc\n"
	"	endbr64\n"
	"	cmpq $" STR(SYS_rt_sigaction) ", %rdi\n"
	"	je agent_syscall_rt_sigaction\n"
	"	cmpq $" STR(SYS_rt_sigprocmask) ", %rdi\n"
	"	je agent_syscall_rt_sigprocmask\n"
	"	movq agent_real_syscall(%rip), %r11\n"
	"	testq %r11, %r11\n"
	"	jz 1f\n"
	"	jmp *%r11\n"
	"1:	pushq %rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %rsi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %rdx\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %rcx\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %r8\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq %r9\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	subq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	call agent_syscall_resolve\n"
	"	addq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	movq %rax, %r11\n"
	"	popq %r9\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %r8\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rcx\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rdx\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rsi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rdi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	testq %r11, %r11\n"
	"	jz 2f\n"
	"	jmp *%r11\n"
	"2:	movq $-1, %rax\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size syscall, .-syscall\n");
// clang-format on
#endif
