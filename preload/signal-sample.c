/* CPU sampling: the handler of the agent's own real-time signal, which
 * per-thread timers (signal-timers.c) deliver to their own thread, and which
 * unwinds, interns and records a sample. The handler runs on the agent's
 * signal stack (signal-altstack.c); a signal of that number that is the
 * program's own goes to the program's disposition (signal-action.c).
 *
 * Context: the handler and everything it calls is async-signal-safe: no
 * malloc, no locks, no stdio.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "sigmask.h"

#include <errno.h>
#include <signal.h>
#include <ucontext.h>

/* How the handler is installed. SA_RESTART: the program's system calls never
 * fail with EINTR because of a sample (with the CPU clock the timer fires
 * only while the thread runs anyway). */
#define SAMPLE_SA_FLAGS (SA_SIGINFO | SA_RESTART | SA_ONSTACK)

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

/* The sample's frames into f (unwind_program), the sampled thread's Python
 * frames merged in; *id is the stack's id when it is known already (the
 * agent's work with no caller: no_caller_stack), else 0. Returns the count.
 * Context: signal. */
static unsigned sample_frames(void *ucv, uint64_t *f, struct tstate *t, uint32_t weight, int in_agent_code,
			      unsigned *flags, uint32_t *id)
{
	unsigned n = unwind_program(ucv, f, t, weight, in_agent_code, flags);
	*id = 0;
	if (*flags & SAMPLE_NO_CALLER) {
		*flags &= ~SAMPLE_NO_CALLER;
		*id = no_caller_stack(t, f, &n);
		return n;
	}
	return python_frames(f, n);
}

/* The id of the stack f[0..n), interned unless sample_frames() knew it
 * already (id), with *is_new set for a stack seen for the first time; 0 when
 * the table is full (the sample is lost, and counted). Context: signal. */
static uint32_t sample_intern(uint32_t id, const uint64_t *f, unsigned n, int *is_new)
{
	if (!id && !(id = intern_stack(&agent_intern, f, n, is_new)))
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
	return id;
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

/* Context: signal (the agent's), async-signal-safe. */
static void on_sample(int sig, siginfo_t *si, void *ucv)
{
	int saved = errno;
	if (!sample_timer_info(si)) {
		if (!sigmask_hold(sig, si, ucv))
			sample_chain_program(sig, si, ucv);
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
	/* The agent's finish runs on it (tcpu_freeze). */
	if (t->end_clk)
		goto out_guard;
	/* The writer's work done on this thread (writer_try_cycle, finish):
	 * the agent's whatever the guard says, zstd's frames included. */
	int in_code = g != 1 && dump_held_by(t->tid) ? 1 : g;
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
		unsigned flags;
		uint32_t id;
		unsigned n = sample_frames(ucv, t->pending_frames + 2, t, weight, in_code, &flags, &id);
		int is_new = 0;
		if (!(id = sample_intern(id, t->pending_frames + 2, n, &is_new)))
			goto out_guard;
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
	unsigned flags;
	uint32_t id;
	unsigned n = sample_frames(ucv, t->sig_frames + 2, t, weight, in_code, &flags, &id);
	/* Check the room for the worst case before interning: a stack that
	 * is interned must have its STACK event pushed. */
	if (ring_space(&t->ring) < n + 2 + 6) {
		atomic_fetch_add_explicit(&t->lost_samples, 1, memory_order_relaxed);
		goto out_guard;
	}
	int is_new = 0;
	if (!(id = sample_intern(id, t->sig_frames + 2, n, &is_new)))
		goto out_guard;
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
	if (UNLIKELY(scost_on))
		scost_add(agent_now() - now, n);
out_guard:
	NO_CANCEL_END(cs);
	agent_guard = g;
out:
	errno = saved;
}

/* Installs the handler on the agent's signal (signal-action.c keeps the
 * program's disposition). Also called after a failed exec. */
int sample_install(void)
{
	scost_setup();
	return sample_action_install(on_sample, SAMPLE_SA_FLAGS);
}
