/* The thread registry: the table of every thread's state, which a thread
 * joins the first time it runs agent code (thread_attach, from any context,
 * the sampling handler included) and the writer walks; and the timers made
 * at start for threads that were already running, which those threads take
 * over when they attach.
 *
 * Context: everything in this file is async-signal-safe (no malloc, no
 * lock, no stdio, errno preserved): files named signal-*.c hold the code
 * that runs in the sampling signal's handler.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

TLS struct tstate *agent_tls;
static TLS int tls_attaching;
static TLS int tls_untracked;

static struct tstate *_Atomic g_threads[MAX_THREADS];
static _Atomic int g_hiwater;
static pthread_key_t g_key;
static int g_key_ok;

/* Timers made at start for threads that were already running. */
struct pre_timer {
	pid_t tid;
	timer_t timer;
	uint64_t cpu_base;
};
static struct pre_timer g_pre_timers[64];
static int g_npre;

pid_t agent_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ------------------------------------------------------------ the table */

/* The key whose destructor runs at each thread's exit (not signal: once,
 * in the constructor). */
void threads_key_init(void (*dtor)(void *))
{
	g_key_ok = pthread_key_create(&g_key, dtor) == 0;
}

/* Slots [0, threads_hiwater()) may hold a state. */
int threads_hiwater(void)
{
	return atomic_load(&g_hiwater);
}

struct tstate *threads_at(int i)
{
	return atomic_load(&g_threads[i]);
}

/* A thread's state and its ring, when the ring has grown out of it. */
void state_unmap(struct tstate *t)
{
	if (t->ring_map)
		munmap(t->ring_map, t->ring_bytes);
	munmap(t, t->map_bytes);
}

/* The writer, once thread i is gone and its ring drained: its slot is free. */
void threads_release(int i, struct tstate *t)
{
	atomic_store(&g_threads[i], NULL);
	if (t->has_timer)
		timer_delete(t->timer);
	state_unmap(t);
}

/* A state of this process's thread tid exists: a live one, or with
 * any_state one that is ending too. */
int has_state_any(pid_t tid, int any_state)
{
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t && t->tid == tid && (any_state || atomic_load(&t->state) == TS_LIVE))
			return 1;
	}
	return 0;
}

int has_state(pid_t tid)
{
	return has_state_any(tid, 0);
}

/* In a fork child: the other threads do not exist there, their rings were
 * the parent's; neither do the timers made for the parent's threads. */
void threads_fork_drop(struct tstate *self)
{
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		atomic_store(&g_threads[i], NULL);
		if (t && t != self)
			state_unmap(t);
	}
	atomic_store(&g_hiwater, 0);
	g_npre = 0;
}

/* In a fork child: the forking thread's state, emptied, is its first. */
void threads_fork_adopt(struct tstate *self)
{
	self->slot = 0;
	atomic_store(&g_threads[0], self);
	atomic_store(&g_hiwater, 1);
}

/* ------------------------------------------------ timers of older threads */

int pre_timers_full(void)
{
	return g_npre >= (int)(sizeof(g_pre_timers) / sizeof(g_pre_timers[0]));
}

/* Inside the timers' gate. */
void pre_timer_add(pid_t tid, timer_t tm, uint64_t base)
{
	int i = g_npre;
	g_pre_timers[i].cpu_base = base;
	g_pre_timers[i].timer = tm;
	__atomic_store_n(&g_pre_timers[i].tid, tid, __ATOMIC_RELEASE);
	__atomic_store_n(&g_npre, i + 1, __ATOMIC_RELEASE);
}

/* The CPU clock of thread tid when its timer was made at start, or 0. */
uint64_t pre_timer_base(pid_t tid)
{
	uint64_t base = 0;
	for (int i = 0; i < g_npre; i++)
		if (g_pre_timers[i].tid == tid)
			base = g_pre_timers[i].cpu_base;
	return base;
}

/* Deletes the timers no thread took over. Only after sample_stop_arming(),
 * so none is being made meanwhile. */
void pre_timers_delete(void)
{
	for (int i = 0; i < g_npre; i++)
		if (g_pre_timers[i].tid) {
			timer_delete(g_pre_timers[i].timer);
			g_pre_timers[i].tid = 0;
		}
	g_npre = 0;
}

/* Context: any, async-signal-safe. Inside the timers' gate, so that an exec
 * finds each timer in one place, here or in the thread's state. */
static void take_pre_timer(struct tstate *t)
{
	if (!sample_gate_enter())
		return;
	int n = __atomic_load_n(&g_npre, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&g_pre_timers[i].tid, __ATOMIC_ACQUIRE) == t->tid && !t->has_timer) {
			t->timer = g_pre_timers[i].timer;
			if (!t->cpu_known) {
				t->cpu_base = g_pre_timers[i].cpu_base;
				t->cpu_known = 1;
			}
			tcpu_note_arm(t, g_pre_timers[i].cpu_base, sample_first_ns(t->tid));
			t->has_timer = 1;
			__atomic_store_n(&g_pre_timers[i].tid, 0, __ATOMIC_RELEASE);
		}
	sample_gate_leave();
}

/* ------------------------------------------------------------ attaching */

/* Context: any, async-signal-safe. */
struct tstate *thread_attach(void)
{
	struct tstate *t = agent_tls;
	if (t)
		return t;
	if (!agent_ready || tls_attaching || tls_untracked)
		return NULL;
	tls_attaching = 1;
	int saved = errno;
	size_t words = RING_WORDS_START;
	size_t head = (sizeof(struct tstate) + 4095) & ~(size_t)4095;
	/* With CPU sampling, the thread's signal stack follows the ring,
	 * above a guard page. */
	size_t alt = agent_cfg.cpu ? 4096 + ALT_BYTES : 0;
	size_t bytes = head + words * sizeof(uint64_t) + alt;
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		tls_untracked = 1;
		goto out;
	}
	t = m;
	t->map_bytes = bytes;
	if (alt && mprotect((char *)m + bytes - alt, 4096, PROT_NONE) == 0)
		t->alt_sp = (char *)m + bytes - ALT_BYTES;
	ring_init(&t->ring, (uint64_t *)((char *)m + head), words);
	t->tid = agent_gettid();
	t->pth = (uintptr_t)pthread_self();
	if (t->tid != agent_pid)
		agent_multi = 1;
	syscall(SYS_prctl, PR_GET_NAME, t->name, 0, 0, 0); /* not the interposer */
	take_pre_timer(t);
	t->rng = ((uint64_t)t->tid << 32 | 0x9e3779b9u) ^ agent_now() ^ (uintptr_t)m;
	if (!t->rng)
		t->rng = 1;
	atomic_store(&t->state, TS_LIVE);
	uint64_t w[5] = {EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0};
	memcpy(&w[3], t->name, 16);
	ring_push(&t->ring, w, 5);
	int slot = -1;
	for (int i = 0; i < MAX_THREADS; i++) {
		struct tstate *expect = NULL;
		if (!atomic_load_explicit(&g_threads[i], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&g_threads[i], &expect, t)) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		munmap(m, bytes);
		t = NULL;
		tls_untracked = 1;
		goto out;
	}
	t->slot = slot;
	int hw = threads_hiwater();
	while (hw < slot + 1 && !atomic_compare_exchange_weak(&g_hiwater, &hw, slot + 1))
		;
	agent_tls = t;
	if (g_key_ok)
		pthread_setspecific(g_key, t);
	sample_altstack_on(t);
out:
	tls_attaching = 0;
	errno = saved;
	return t;
}

/* --------------------------------------------- sampled allocations' RNG */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The bytes until the next sampled allocation: exponential with mean
 * alloc_sample, so that sampling is a Poisson process over allocated bytes.
 * Context: malloc, async-signal-safe (no libm: -ln(u) by a short series). */
int64_t agent_sample_interval(struct tstate *t)
{
	/* u in (0, 1]; -ln(u) = ln2 * (exponent) - ln(mantissa in [1,2)). */
	uint64_t r = rng_next(&t->rng) >> 11;
	double u = (double)(r + 1) / 9007199254740992.0;
	int e = 0;
	while (u < 0.5) {
		u *= 2;
		e++;
	}
	/* u in [0.5, 1): ln(u) via atanh series, x = (u-1)/(u+1) in (-1/3, 0]. */
	double x = (u - 1) / (u + 1), x2 = x * x, term = x, sum = 0;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= x2;
	}
	double nl = e * 0.6931471805599453 - 2 * sum;
	int64_t v = (int64_t)(nl * (double)agent_cfg.alloc_sample) + 1;
	return v;
}
