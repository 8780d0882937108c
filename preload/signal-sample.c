/* CPU sampling: per-thread timers that deliver SIGPROF to their own thread,
 * and the SIGPROF handler that unwinds, interns and records a sample.
 *
 * Context: the handler and everything it calls is async-signal-safe: no
 * malloc, no locks, no stdio. A program's own SIGPROF handler is kept and
 * chained (see sigaction below and docs/AGENT.md).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* The si_value our timers carry, so the handler tells our signals from the
 * program's (setitimer, kill, its own timers). */
#define TIMER_MAGIC 0x46544d31

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static volatile int g_installed;
/* The program's SIGPROF disposition, as it believes it set it. */
static struct sigaction g_user_act;

/* Unwinds the interrupted context into f: frame 0 is the interrupted pc.
 * Context: async-signal-safe. */
static unsigned unwind_signal(void *ucv, uint64_t *f, struct tstate *t)
{
	ucontext_t *uc = ucv;
	f[0] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
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

/* Runs the program's own handler for a SIGPROF that is not ours.
 * Context: signal. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction ua = g_user_act;
	if (ua.sa_flags & SA_SIGINFO) {
		if (ua.sa_sigaction)
			ua.sa_sigaction(sig, si, uc);
	} else if (ua.sa_handler == SIG_IGN) {
		return;
	} else if (ua.sa_handler == SIG_DFL) {
		/* The default action of SIGPROF ends the process: do that. */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		real_sigaction(SIGPROF, &dfl, NULL);
		raise(SIGPROF);
	} else {
		ua.sa_handler(sig);
	}
}

/* Context: signal (SIGPROF), async-signal-safe. */
static void on_sigprof(int sig, siginfo_t *si, void *ucv)
{
	int saved = errno;
	if (si->si_code != SI_TIMER || si->si_value.sival_int != TIMER_MAGIC) {
		chain(sig, si, ucv);
		goto out;
	}
	if (!agent_cpu_on)
		goto out;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	struct tstate *t = agent_tls;
	if (!t)
		t = thread_attach();
	if (!t)
		goto out_guard;
	uint32_t weight = 1 + (si->si_overrun > 0 ? (uint32_t)si->si_overrun : 0);
	uint64_t now = agent_now();
	t->weight_sum += weight;
	if (t->busy) {
		/* The thread is pushing to its ring: defer the sample. */
		if (t->pending) {
			atomic_fetch_add_explicit(&t->lost_samples, 1, memory_order_relaxed);
			goto out_guard;
		}
		unsigned n = unwind_signal(ucv, t->pending_frames + 2, t);
		int is_new;
		uint32_t id = intern_stack(&agent_intern, t->pending_frames + 2, n, &is_new);
		if (!id) {
			atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
			goto out_guard;
		}
		t->last_id = id;
		t->pending_n = n;
		t->pending_new = is_new;
		t->pending_id = id;
		t->pending_weight = weight;
		t->pending_time = now;
		__asm__ volatile("" ::: "memory");
		t->pending = 1;
		goto out_guard;
	}
	unsigned n = unwind_signal(ucv, t->sig_frames + 2, t);
	/* Check the room for the worst case before interning: a stack that
	 * is interned must have its STACK event pushed. */
	if (ring_space(&t->ring) < n + 2 + 3) {
		atomic_fetch_add_explicit(&t->lost_samples, 1, memory_order_relaxed);
		goto out_guard;
	}
	int is_new;
	uint32_t id = intern_stack(&agent_intern, t->sig_frames + 2, n, &is_new);
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
	uint64_t s[3] = { EV_W0(EV_SAMPLE, 3, weight), now, id };
	ring_push(&t->ring, s, 3);
	t->last_id = id;
out_guard:
	NO_CANCEL_END(cs);
	agent_guard = g;
out:
	errno = saved;
}

int sample_install(void)
{
	if (!real_sigaction)
		real_sigaction = agent_dlsym_next("sigaction");
	if (!real_sigaction)
		return -1;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (real_sigaction(SIGPROF, &sa, &old) < 0)
		return -1;
	g_user_act = old;
	g_installed = 1;
	return 0;
}

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

uint64_t sample_cpu_remainder(struct tstate *t, clockid_t clk)
{
	if (agent_cfg.clock != FD_CLOCK_CPU || !t->last_id || !t->has_timer)
		return 0;
	struct timespec ts;
	if (clock_gettime(clk, &ts) < 0)
		return 0;
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	uint64_t period = 1000000000u / (unsigned)agent_cfg.hz;
	uint64_t periods = (ns > t->cpu_base ? ns - t->cpu_base : 0) / period;
	return periods > t->weight_sum ? periods - t->weight_sum : 0;
}

/* Context: any. */
int sample_arm_tid(pid_t tid, timer_t *out)
{
	clockid_t clk = agent_cfg.clock == FD_CLOCK_WALL ? CLOCK_MONOTONIC : sample_thread_clock(tid);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_int = TIMER_MAGIC;
	sev._sigev_un._tid = tid;
	timer_t tm;
	if (timer_create(clk, &sev, &tm) < 0)
		return -1;
	long period = 1000000000L / agent_cfg.hz;
	/* Start each thread's timer at a different phase. */
	long first = 1 + (long)(((unsigned)tid * 2654435761u) % (unsigned long)period);
	struct itimerspec its = { { period / 1000000000L, period % 1000000000L },
				  { first / 1000000000L, first % 1000000000L } };
	if (timer_settime(tm, 0, &its, NULL) < 0) {
		timer_delete(tm);
		return -1;
	}
	*out = tm;
	return 0;
}

int sample_arm(struct tstate *t, pid_t tid)
{
	if (t->has_timer)
		return 0;
	t->cpu_base = sample_thread_cpu(tid);
	if (sample_arm_tid(tid, &t->timer) < 0)
		return -1;
	t->has_timer = 1;
	return 0;
}

void sample_disarm(struct tstate *t)
{
	if (t->has_timer) {
		t->has_timer = 0;
		timer_delete(t->timer);
	}
}

/* Before exec: a SIGPROF still queued would take its default action in the
 * new image. Setting SIG_IGN discards pending ones; then the program's own
 * disposition is restored, which is what the new image must inherit. */
void sample_before_exec(void)
{
	if (!g_installed)
		return;
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	real_sigaction(SIGPROF, &ign, NULL);
	real_sigaction(SIGPROF, &g_user_act, NULL);
}

void sample_after_exec(void)
{
	if (!g_installed)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	real_sigaction(SIGPROF, &sa, NULL);
}

/* The program sets or reads SIGPROF's disposition: while we sample, it is
 * recorded and chained to from our handler, never installed over ours. */
EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction)
		real_sigaction = agent_dlsym_next("sigaction");
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig != SIGPROF || !g_installed)
		return real_sigaction(sig, act, old);
	if (old)
		*old = g_user_act;
	if (act)
		g_user_act = *act;
	return 0;
}

static sighandler_t (*real_signal)(int, sighandler_t);

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (!real_signal)
		real_signal = (sighandler_t(*)(int, sighandler_t))agent_dlsym_next("signal");
	if (sig != SIGPROF || !g_installed) {
		if (!real_signal) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return real_signal(sig, handler);
	}
	/* As glibc's signal(): BSD semantics, the signal blocked in its handler. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigaction(sig, &sa, &old);
	return old.sa_handler;
}

/* ------------------------------------------------ the agent's signal stack */

/* The SIGPROF handler runs with SA_ONSTACK on a signal stack the agent owns
 * per thread (struct tstate's alt_sp), so that a sample costs the program's
 * stack nothing: the kernel's signal frame alone is several KB. It is
 * installed only on a thread without a signal stack of its own, and
 * sigaltstack is interposed so that the program sees and sets its own:
 * while ours is installed the program is told it has none; when it sets
 * one, that one is used (our handler then runs on it, as the program's
 * handlers do); when it disables its own, ours is put back. */
static int (*real_sigaltstack)(const stack_t *, stack_t *);

static int resolve_sigaltstack(void)
{
	if (!real_sigaltstack)
		real_sigaltstack = (int (*)(const stack_t *, stack_t *))agent_dlsym_next("sigaltstack");
	return real_sigaltstack != NULL;
}

static int put_ours(struct tstate *t)
{
	stack_t ss;
	ss.ss_sp = t->alt_sp;
	ss.ss_size = ALT_BYTES;
	ss.ss_flags = 0;
	return real_sigaltstack(&ss, NULL);
}

/* Context: any, async-signal-safe; on the thread t belongs to. */
void sample_altstack_on(struct tstate *t)
{
	if (!t->alt_sp || t->alt_on || !resolve_sigaltstack())
		return;
	int saved = errno;
	stack_t cur;
	if (real_sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE) && put_ours(t) == 0)
		t->alt_on = 1;
	errno = saved;
}

EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
	if (!resolve_sigaltstack()) {
		errno = ENOSYS;
		return -1;
	}
	struct tstate *t = agent_tls;
	if (!t || !t->alt_sp)
		return real_sigaltstack(ss, old);
	stack_t o;
	if (real_sigaltstack(ss, &o) < 0)
		return -1;
	if (o.ss_sp == t->alt_sp && !(o.ss_flags & SS_DISABLE)) {
		/* Ours was installed: to the program, there was none. */
		o.ss_sp = NULL;
		o.ss_size = 0;
		o.ss_flags = SS_DISABLE;
	}
	if (ss) {
		t->alt_on = 0;
		if (ss->ss_flags & SS_DISABLE) {
			int saved = errno;
			if (put_ours(t) == 0)
				t->alt_on = 1;
			errno = saved;
		}
	}
	if (old)
		*old = o;
	return 0;
}
