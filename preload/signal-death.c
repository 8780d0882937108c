/* A program ended by a signal it leaves at its default action (SIGTERM from a
 * supervisor or multiprocessing's terminate(), SIGINT from a terminal,
 * SIGHUP, SIGPIPE in `prog | head`, SIGALRM, SIGUSR1/2) still gets a whole
 * dump: while the program's disposition of such a signal is SIG_DFL, the
 * agent catches it, has the writer finish the dump (trailer reason
 * "signal", with its number), then restores SIG_DFL and lets the signal end
 * the process as it would have, with the same wait status.
 *
 * The program never sees the difference: its reads of these dispositions
 * (sigaction, signal and kin, raw rt_sigaction) are answered with what it
 * had (death_view); when it sets a handler or SIG_IGN, the agent hands the
 * signal back to the kernel with the program's disposition (death_release);
 * when it sets SIG_DFL again (a cleanup handler about to re-raise), the
 * agent keeps or takes the signal (death_default); when it sets a one-shot
 * handler (SA_RESETHAND: node's SIGINT and SIGTERM, which reset the
 * terminal and raise the signal again), the agent installs a trampoline
 * that does the kernel's reset itself, taking the signal back, before it
 * calls the program's handler (death_oneshot). Signals the program blocks stay pending as they
 * would (the mask is real), and a process ended this way ends within the
 * writer's bounded wait (DEATH_WAIT_MS) even if the agent cannot finish.
 * FATHOM_SIGNALS=0 leaves these signals alone.
 *
 * Context: on_death runs in a signal handler; death_owned, death_view and
 * death_release are called by the program's sigaction calls, maybe in its
 * handlers: all async-signal-safe.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "sigmask.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The signals whose default action ends the process without a core dump
 * (a core dump's signals are faults or abort: the process state is not to
 * be trusted). */
static const int death_signals[] = {SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2};

/* How long the handler waits for the writer to finish the dump. */
#define DEATH_WAIT_MS 2000

static _Atomic int g_owned[NSIG];
/* The program's disposition of each owned signal, as glibc's sigaction
 * reported it when the agent took it. */
static struct sigaction g_view[NSIG];
/* The signal being died of (0: none); the writer finishes the dump for it
 * and sets g_done. */
static _Atomic int g_dying;
static _Atomic uint32_t g_done;

int death_owned(int sig)
{
	return sig > 0 && sig < NSIG && atomic_load(&g_owned[sig]) && getpid() == agent_pid;
}

void death_view(int sig, struct sigaction *old)
{
	if (old)
		*old = g_view[sig];
}

/* The kernel gets the program's disposition back. Not in a vfork child,
 * which shares the parent's memory but not its dispositions. */
void death_release(int sig)
{
	if (death_owned(sig) && atomic_exchange(&g_owned[sig], 0))
		sample_real_sigaction(sig, &g_view[sig], NULL);
}

/* Ends the process by sig at its default action. Context: signal. */
static void die_by(int sig)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sample_real_sigaction(sig, &dfl, NULL);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	syscall(SYS_tgkill, getpid(), agent_gettid(), sig);
	sigmask_real(SIG_UNBLOCK, &one, NULL);
	/* A signal blocked or ignored since: leave as the kernel would have
	 * had it been delivered; should it come back, it is the kernel's. */
}

/* Has the writer finish the dump (unless it is finished), waits for it
 * (bounded), then dies of sig. */
static void finish_and_die(int sig)
{
	int expect = 0;
	/* (Holding wlock, before an exec: the dump's trailer is written.) */
	if (atomic_compare_exchange_strong(&g_dying, &expect, sig) && agent_ready && !agent_finished &&
	    !dump_held_here()) {
		writer_wake();
		struct timespec ts = {0, 10 * 1000000};
		for (int i = 0; i < DEATH_WAIT_MS / 10 && !atomic_load(&g_done); i++)
			syscall(SYS_futex, &g_done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	}
	atomic_store(&g_owned[sig], 0);
	die_by(sig);
}

/* A death signal that landed on the thread holding wlock (exit's or exec's
 * end of the dump, a push that waits): the writer could not finish until
 * that thread lets go, so the death waits for dump_unlock (or an exec). */
static _Atomic int g_deferred;
static _Atomic pid_t g_deferred_tid;

/* Context: signal. */
static void on_death(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	int saved = errno;
	if (getpid() != agent_pid || !atomic_load(&g_owned[sig])) {
		/* A vfork child, or the signal handed back meanwhile. */
		die_by(sig);
		errno = saved;
		return;
	}
	if (dump_held_here()) {
		int expect = 0;
		if (atomic_compare_exchange_strong(&g_deferred, &expect, sig))
			atomic_store(&g_deferred_tid, agent_gettid());
		errno = saved;
		return;
	}
	finish_and_die(sig);
	errno = saved;
}

void death_deferred_now(void)
{
	int sig = atomic_load(&g_deferred);
	if (!sig || atomic_load(&g_deferred_tid) != agent_gettid() || getpid() != agent_pid)
		return;
	finish_and_die(sig);
}

/* Context: the writer thread, each round. Returns 1 when it finished the
 * dump for a dying process. */
int death_writer_check(void)
{
	int sig = atomic_load(&g_dying);
	if (!sig)
		return 0;
	agent_finish_signal(sig);
	atomic_store(&g_done, 1);
	syscall(SYS_futex, &g_done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return 1;
}

static int g_enabled;
static struct sigaction g_death_sa;

static int is_death_signal(int sig)
{
	for (size_t i = 0; i < sizeof(death_signals) / sizeof(death_signals[0]); i++)
		if (death_signals[i] == sig)
			return sig != agent_cfg.signo;
	return 0;
}

/* Takes sig, whose kernel disposition is the program's view, view. */
static void take(int sig, const struct sigaction *view)
{
	g_view[sig] = *view;
	atomic_store(&g_owned[sig], 1);
	if (sample_real_sigaction(sig, &g_death_sa, NULL) < 0)
		atomic_store(&g_owned[sig], 0);
}

void death_install(void)
{
	const char *v = config_getenv("FATHOM_SIGNALS");
	if (v && !strcmp(v, "0"))
		return;
	memset(&g_death_sa, 0, sizeof(g_death_sa));
	g_death_sa.sa_sigaction = on_death;
	/* Every other death signal waits while this one finishes. */
	g_death_sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&g_death_sa.sa_mask);
	for (size_t j = 0; j < sizeof(death_signals) / sizeof(death_signals[0]); j++)
		sigaddset(&g_death_sa.sa_mask, death_signals[j]);
	g_enabled = 1;
	for (size_t i = 0; i < sizeof(death_signals) / sizeof(death_signals[0]); i++) {
		int sig = death_signals[i];
		struct sigaction old;
		if (!is_death_signal(sig) || sample_real_sigaction(sig, NULL, &old) < 0 ||
		    (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		take(sig, &old);
	}
}

/* The program's view before (*prev) and after (*view) it sets act: act goes
 * through the kernel once, for the form the kernel reports it in; sig is
 * then the kernel's until the caller takes it. */
static int set_view(int sig, const struct sigaction *act, struct sigaction *prev, struct sigaction *view)
{
	if (atomic_load(&g_owned[sig]))
		*prev = g_view[sig];
	else if (sample_real_sigaction(sig, NULL, prev) < 0)
		return -1;
	atomic_store(&g_owned[sig], 0);
	if (sample_real_sigaction(sig, act, NULL) < 0 || sample_real_sigaction(sig, NULL, view) < 0)
		return -1;
	return 0;
}

/* The program sets SIG_DFL for a death signal: a cleanup handler that puts
 * the default back and raises the signal again (git, xz: "signal(sig,
 * SIG_DFL); raise(sig)") must still leave a whole dump. The agent keeps (or
 * takes) the signal; the program's view is its act as the kernel would
 * report it. Returns 1 when done (the previous view in *old). */
int death_default(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!g_enabled || !is_death_signal(sig) || getpid() != agent_pid || act->sa_handler != SIG_DFL ||
	    (act->sa_flags & SA_SIGINFO))
		return 0;
	struct sigaction prev, view;
	if (set_view(sig, act, &prev, &view) < 0)
		return 0;
	take(sig, &view);
	if (old)
		*old = prev;
	return 1;
}

/* The program's one-shot handlers (SA_RESETHAND), run by on_oneshot. */
static struct sigaction g_oneshot[NSIG];

/* Context: signal. The kernel's SA_RESETHAND, done here so that the agent
 * holds the signal at SIG_DFL again (a re-raise from the handler finishes
 * the dump), then the program's handler. */
static void on_oneshot(int sig, siginfo_t *si, void *uc)
{
	struct sigaction h = g_oneshot[sig], dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	if (getpid() == agent_pid && atomic_load(&g_owned[sig]))
		take(sig, &dfl);
	else
		sample_real_sigaction(sig, &dfl, NULL); /* a vfork child: the kernel's alone */
	if (h.sa_flags & SA_SIGINFO)
		h.sa_sigaction(sig, si, uc);
	else if (h.sa_handler != SIG_DFL && h.sa_handler != SIG_IGN)
		h.sa_handler(sig);
}

/* The program sets a one-shot handler (SA_RESETHAND) for a death signal:
 * the agent keeps the signal, its disposition the program's handler behind
 * on_oneshot (its flags but SA_RESETHAND, its mask), and the program's view
 * its act. Returns 1 when done (the previous view in *old). */
int death_oneshot(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!g_enabled || !is_death_signal(sig) || getpid() != agent_pid || !(act->sa_flags & SA_RESETHAND) ||
	    (!(act->sa_flags & SA_SIGINFO) && (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN)))
		return 0;
	struct sigaction prev, view, tramp = *act;
	if (set_view(sig, act, &prev, &view) < 0)
		return 0;
	g_oneshot[sig] = *act;
	tramp.sa_sigaction = on_oneshot;
	tramp.sa_flags = (act->sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
	g_view[sig] = view;
	atomic_store(&g_owned[sig], 1);
	if (sample_real_sigaction(sig, &tramp, NULL) < 0) {
		atomic_store(&g_owned[sig], 0);
		sample_real_sigaction(sig, act, NULL);
	}
	if (old)
		*old = prev;
	return 1;
}

/* In a fork child: a death the parent was dying of is not the child's. */
void death_after_fork(void)
{
	atomic_store(&g_dying, 0);
	atomic_store(&g_done, 0);
	atomic_store(&g_deferred, 0);
}
