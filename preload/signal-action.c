/* The program's view of the agent's sampling signal: its disposition as the
 * program set it, through every libc entry point (sigaction, signal and its
 * BSD and System V kin, sigset, sigignore, siginterrupt) and the raw
 * rt_sigaction system call (the syscall() stub below, which also routes
 * rt_sigprocmask to signal-mask.c), kept here and run by sample_chain() when
 * a signal of that number is the program's own; and the installation of the
 * agent's handler (signal-sample.c) under it.
 *
 * Context: sample_chain() runs in the agent's handler, and the program may
 * call any of these in its own: everything here is async-signal-safe (no
 * malloc, no locks, no stdio). SIGPROF is never touched: it is the
 * program's.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "sigmask.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
/* The handler is installed: the program's view of the signal is virtual. */
static volatile int g_installed;
/* The program's disposition of the agent's signal, as it believes it set it
 * (in the form glibc's sigaction reports it). */
static struct sigaction g_user_act;
/* glibc's signal return trampoline, which its sigaction adds (SA_RESTORER)
 * to every handler: reported back as the kernel would. */
static void (*g_restorer)(void);

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
	 * view of it (signal-mask.c) is put back after, as sigreturn would. */
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

void sample_chain_program(int sig, siginfo_t *si, void *uc)
{
	sample_chain(&g_user_act, sig, si, uc);
}

int sample_user_handles(void)
{
	sighandler_t h = g_user_act.sa_handler;
	return h != SIG_DFL && h != SIG_IGN;
}

/* The C library's sigaction, which the program's calls never reach. */
int sample_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return AGENT_NEXT(real_sigaction, "sigaction") ? real_sigaction(sig, act, old) : -1;
}

/* Installs handler on the agent's signal; the program's disposition
 * becomes virtual. Also called after a failed exec. */
int sample_action_install(void (*handler)(int, siginfo_t *, void *), int flags)
{
	if (!AGENT_NEXT(real_sigaction, "sigaction"))
		return -1;
	struct sigaction sa, old, cur;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = flags;
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

/* The program sets or reads a disposition: for the agent's signal, while the
 * handler is installed, it is recorded and chained to from our handler,
 * never installed over ours. */
/* sigaction itself; __sigaction calls it directly: loaded late (fathom
 * record --pid), the agent's calls of its exported names bind to libc's. */
static int action(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!AGENT_NEXT(real_sigaction, "sigaction"))
		return -1;
	if (!ours(sig)) {
		int r;
		if (python_sigaction(sig, act, old, &r))
			return r;
		if (act && (death_default(sig, act, old) || death_oneshot(sig, act, old)))
			return 0;
		if (death_owned(sig)) {
			/* Read: as the program left it; set: the kernel's again. */
			if (!act) {
				death_view(sig, old);
				return 0;
			}
			death_release(sig);
		}
		return real_sigaction(sig, act, old);
	}
	user_sigaction(act, old);
	return 0;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return action(sig, act, old);
}

EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return action(sig, act, old);
}

/* signal(), bsd_signal(), sysv_signal() and the rest, for our signal: glibc
 * implements them on its internal sigaction, which no interposition reaches,
 * so each is rebuilt here on the virtual one, with glibc's flags. */
/* The disposition a signal()-style call sets, as glibc builds it. */
static struct sigaction signal_act(int sig, sighandler_t handler, int flags, int mask_self)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (mask_self)
		sigaddset(&sa.sa_mask, sig);
	return sa;
}

static sighandler_t user_signal(int sig, sighandler_t handler, int flags, int mask_self)
{
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction sa = signal_act(sig, handler, flags, mask_self), old;
	user_sigaction(&sa, &old);
	return old.sa_handler;
}

/* One of them: libc's (real, found by name) for any other signal, else the
 * virtual one with these flags. */
static sighandler_t signal_as(sighandler_t (**real)(int, sighandler_t), const char *name, int sig,
			      sighandler_t handler, int flags, int mask_self)
{
	if (!ours(sig)) {
		if (handler == SIG_DFL) {
			struct sigaction sa = signal_act(sig, SIG_DFL, flags, mask_self), old;
			if (death_default(sig, &sa, &old))
				return old.sa_handler;
		}
		death_release(sig);
		return AGENT_NEXT(*real, name) ? (*real)(sig, handler) : SIG_ERR;
	}
	return user_signal(sig, handler, flags, mask_self);
}

/* BSD semantics, as glibc's signal(): restarting, the signal blocked in its
 * handler. */
EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	static sighandler_t (*real_)(int, sighandler_t);
	return signal_as(&real_, "signal", sig, handler, SA_RESTART, 1);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	static sighandler_t (*real_)(int, sighandler_t);
	return signal_as(&real_, "bsd_signal", sig, handler, SA_RESTART, 1);
}

EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
	static sighandler_t (*real_)(int, sighandler_t);
	return signal_as(&real_, "ssignal", sig, handler, SA_RESTART, 1);
}

/* System V semantics: one-shot, not blocked in its handler. */
EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	static sighandler_t (*real_)(int, sighandler_t);
	return signal_as(&real_, "sysv_signal", sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	static sighandler_t (*real_)(int, sighandler_t);
	return signal_as(&real_, "__sysv_signal", sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

/* sigset(): SIG_HOLD blocks the signal; anything else sets the handler and
 * unblocks it; the previous disposition is returned, or SIG_HOLD when the
 * signal was blocked. The mask is the thread's real one. */
EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	static sighandler_t (*real_)(int, sighandler_t);
	if (!ours(sig))
		return signal_as(&real_, "sigset", sig, disp, 0, 0);
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
		death_release(sig);
		return AGENT_NEXT(real_, "sigignore") ? real_(sig) : -1;
	}
	user_signal(sig, SIG_IGN, 0, 0);
	return 0;
}

EXPORT int siginterrupt(int sig, int flag)
{
	static int (*real_)(int, int);
	if (!ours(sig)) {
		death_release(sig);
		return AGENT_NEXT(real_, "siginterrupt") ? real_(sig, flag) : -1;
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
		/* The program's own view of a death signal the agent holds is
		 * the kernel's once it asks the kernel (signal-death.c). */
		death_release((int)sig);
		return AGENT_NEXT(agent_real_syscall, "syscall") ? agent_real_syscall(nr, sig, act, old, size)
								 : -1;
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
	AGENT_NEXT(agent_real_syscall, "syscall");
	return (void *)agent_real_syscall;
}

/* syscall(): for any number but rt_sigaction and rt_sigprocmask (whose
 * handler is in signal-mask.c), and futex while waits are recorded (timed
 * in wait-locks.c), a tail jump to libc's with every register and
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
	"	cmpq $" STR(SYS_futex) ", %rdi\n"
	"	jne 3f\n"
	"	cmpl $0, agent_wait_on(%rip)\n"
	"	jne agent_syscall_futex\n"
	"3:\n"
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
