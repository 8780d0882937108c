/* The sampling timers: one POSIX timer per thread, on its CPU clock (or the
 * monotonic clock with FATHOM_CLOCK=wall), delivering the agent's signal to
 * that thread, each at its own phase; the gate that keeps timers from being
 * made while an exec is under way; and the start-up probe that finds out
 * whether a seccomp filter forbids the timers.
 *
 * Context: async-signal-safe throughout (thread_attach, which the handler
 * may call, takes a thread's timer over through the gate), except
 * sample_probe, which runs once in the constructor.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Our timers carry this object's address as si_value, so the handler tells
 * them from the program's own uses of the signal (kill, sigqueue, its own
 * timers): no program can hold a pointer into the agent. */
static const char g_timer_tag;

/* Timers may be created only while no exec is under way: sample_gate_enter()
 * fails once sample_stop_arming() has run, and that waits for the threads
 * that are inside the gate, so that when it returns, every timer of the
 * process is known to the agent and can be deleted. */
static _Atomic int g_arm_stopped;
static _Atomic int g_arming;
/* This thread's share of g_arming: an exec from a signal handler that
 * interrupted this thread inside the gate must not wait for itself. */
static TLS int tls_arming;

/* Threads whose timer could not be made (recorded as LOST CPU_THREADS). */
_Atomic uint64_t agent_cpu_unsampled;
int agent_cpu_unsampled_errno;
int agent_cpu_unsampled_call; /* 0 timer_create, 1 timer_settime */

int sample_timer_info(const siginfo_t *si)
{
	return si->si_code == SI_TIMER && si->si_value.sival_ptr == &g_timer_tag;
}

/* ------------------------------------------------------------ start-up probe */

static volatile sig_atomic_t g_probe_trapped;

/* Context: signal (SIGSYS, during the probe only). */
static void on_probe_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	g_probe_trapped = 1;
}

/* The calls the sampler makes, tried once without a signal to come. */
static int probe_calls(int *call)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = agent_cfg.signo;
	sev.sigev_value.sival_ptr = (void *)&g_timer_tag;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	clockid_t clk =
	    agent_cfg.clock == FD_CLOCK_WALL ? CLOCK_MONOTONIC : sample_thread_clock(sev._sigev_un._tid);
	timer_t tm;
	*call = 0;
	if (timer_create(clk, &sev, &tm) < 0 || g_probe_trapped)
		return -1;
	/* Disarmed: no signal can come of it. */
	struct itimerspec off;
	memset(&off, 0, sizeof(off));
	*call = 1;
	int r = timer_settime(tm, 0, &off, NULL) < 0 || g_probe_trapped ? -1 : 0;
	int e = errno;
	timer_delete(tm);
	errno = e;
	return r;
}

int sample_probe(char *why, size_t cap)
{
	/* A seccomp filter that answers with SECCOMP_RET_TRAP sends SIGSYS,
	 * which is forced: blocked, it would kill. So SIGSYS is caught and
	 * unblocked for the probe, unless the program has one pending, which
	 * the probe must not take. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_probe_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigset_t sys, oldmask, pend;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	int unblock = sigpending(&pend) == 0 && !sigismember(&pend, SIGSYS);
	if (sample_real_sigaction(SIGSYS, &sa, &old) < 0)
		return 0;
	if (unblock)
		pthread_sigmask(SIG_UNBLOCK, &sys, &oldmask);
	g_probe_trapped = 0;
	int call, r = probe_calls(&call);
	int e = errno;
	if (unblock)
		pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sample_real_sigaction(SIGSYS, &old, NULL);
	if (r == 0)
		return 0;
	const char *name = call ? "timer_settime" : "timer_create";
	if (g_probe_trapped)
		snprintf(why, cap, "%s: blocked by a seccomp filter (SIGSYS)", name);
	else
		snprintf(why, cap, "%s: %s", name, strerror(e));
	return -1;
}

/* ---------------------------------------------------------------- timers */

/* The CPU-time clock of any thread of this process: the kernel's
 * MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), as pthread_getcpuclockid uses. */
clockid_t sample_thread_clock(pid_t tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 6);
}

uint64_t sample_thread_cpu(pid_t tid)
{
	struct timespec ts;
	if (clock_gettime(sample_thread_clock(tid), &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sample_gate_enter(void)
{
	tls_arming++;
	atomic_fetch_add(&g_arming, 1);
	if (!atomic_load(&g_arm_stopped))
		return 1;
	atomic_fetch_sub(&g_arming, 1);
	tls_arming--;
	return 0;
}

void sample_gate_leave(void)
{
	atomic_fetch_sub(&g_arming, 1);
	tls_arming--;
}

void sample_stop_arming(void)
{
	atomic_store(&g_arm_stopped, 1);
	while (atomic_load(&g_arming) > tls_arming)
		sched_yield();
}

void sample_allow_arming(void)
{
	atomic_store(&g_arm_stopped, 0);
}

uint64_t sample_first_ns(pid_t tid)
{
	uint64_t period = 1000000000u / (unsigned)agent_cfg.hz;
	return 1 + ((unsigned)tid * 2654435761u) % period;
}

/* Context: any; inside the gate. */
int sample_arm_tid(pid_t tid, timer_t *out)
{
	clockid_t clk = agent_cfg.clock == FD_CLOCK_WALL ? CLOCK_MONOTONIC : sample_thread_clock(tid);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = agent_cfg.signo;
	sev.sigev_value.sival_ptr = (void *)&g_timer_tag;
	sev._sigev_un._tid = tid;
	timer_t tm;
	if (timer_create(clk, &sev, &tm) < 0) {
		agent_cpu_unsampled_errno = errno;
		agent_cpu_unsampled_call = 0;
		return -1;
	}
	long period = 1000000000L / agent_cfg.hz;
	/* Start each thread's timer at a different phase. */
	long first = (long)sample_first_ns(tid);
	struct itimerspec its = {{period / 1000000000L, period % 1000000000L},
				 {first / 1000000000L, first % 1000000000L}};
	if (timer_settime(tm, 0, &its, NULL) < 0) {
		agent_cpu_unsampled_errno = errno;
		agent_cpu_unsampled_call = 1;
		timer_delete(tm);
		return -1;
	}
	*out = tm;
	return 0;
}

/* has_timer: 0 none, 2 being made, 1 made; claimed with an atomic exchange,
 * so that a thread's own disarm at its end and the exec path's re-arming
 * from another thread never make two timers or delete one twice. */
int sample_arm(struct tstate *t, pid_t tid)
{
	if (!sample_gate_enter())
		return -1;
	int expect = 0, r = 0;
	if (!__atomic_compare_exchange_n(&t->has_timer, &expect, 2, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		goto out;
	tcpu_note_base(t, tid);
	uint64_t clk = 0;
	tcpu_read(tid, &clk);
	/* Before the timer can fire. */
	tcpu_note_arm(t, clk, sample_first_ns(tid));
	timer_t tm;
	if (sample_arm_tid(tid, &tm) < 0) {
		t->first_ns = 0;
		__atomic_store_n(&t->has_timer, 0, __ATOMIC_SEQ_CST);
		atomic_fetch_add(&agent_cpu_unsampled, 1);
		r = -1;
		goto out;
	}
	t->timer = tm;
	expect = 2;
	if (!__atomic_compare_exchange_n(&t->has_timer, &expect, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		timer_delete(tm); /* the thread ended meanwhile */
out:
	sample_gate_leave();
	return r;
}

void sample_disarm(struct tstate *t)
{
	if (__atomic_exchange_n(&t->has_timer, 0, __ATOMIC_SEQ_CST) == 1)
		timer_delete(t->timer);
}
