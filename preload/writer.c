/* The writer thread: in rounds, it drains every thread's ring into the
 * encoder, merged by allocation sequence number, checks for threads that
 * ended, reports what was lost, and writes a TICK with the process's memory
 * figures; between rounds it naps until the fastest ring is half full, or
 * sleeps until the next tick.
 * Threads waiting for room in their ring wait for its progress here.
 *
 * Context: the writer thread, or a producer doing its work with wlock held;
 * writer_nudge() and writer_wake() may run anywhere.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "encode.h"
#include "sigmask.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WRITER_STACK (1u << 20)
#define FLUSH_NS 50000000ull
#define TICK_NS 20000000ull
/* Without allocation events (a CPU-only recording) the tick stretches,
 * doubling up to this, while the resident set and the heap stay within
 * 1/64 of the last tick's, and comes back to TICK_NS when they move: the
 * timeline keeps its 20 ms where memory changes, and a program whose memory
 * is flat wakes the writer some 6 times a second instead of 50. */
#define TICK_IDLE_NS 160000000ull
#define CHECK_NS 1000000000ull

/* How the writer sleeps (g_writer_sleeping): not at all; until the next
 * tick (SLEEP_LONG: no ring would be half full before), when a producer
 * whose ring passes half wakes it; or a nap it timed to come back when the
 * fastest ring is half full (SLEEP_NAP), when only a ring past three
 * quarters wakes it. Either way a wake means that a thread ran faster than
 * the writer foresaw: a wake is a system call on the program's thread, and
 * a nap needs none. */
enum { AWAKE = 0, SLEEP_LONG, SLEEP_NAP };
/* Naps: the next round comes at once instead of a nap shorter than
 * NAP_MIN_NS (a wakeup costs some 50-100 us on a virtual machine), and a
 * ring that would be half full sooner than NAP_GROW_NS after a round is
 * grown by its thread (up to RING_WORDS_MAX), so that the writer may nap
 * long enough for its wakeups to be few and its thread never to find the
 * ring full. */
#define NAP_MIN_NS 50000ull
#define NAP_GROW_NS 1000000ull

static _Atomic uint32_t g_wake;
static _Atomic int g_writer_sleeping;
/* When the writer's sleep ends (agent_now): a writer past it is waking or
 * waiting for a CPU, which a wake would not hasten. */
static _Atomic uint64_t g_sleep_end;
/* Producers waiting for room sleep on g_progress, which the writer bumps
 * after every pass. */
static _Atomic uint32_t g_progress;
static _Atomic int g_waiters;
/* The main thread called pthread_exit: glibc ends the process when its last
 * thread exits, and the writer, a thread too, must not keep it alive. */
static volatile int g_main_exited;
static pid_t g_writer_tid;
static int g_writer_started; /* start_writer made it: its tid is coming */
static uint64_t g_last_flush, g_last_tick, g_last_check;
/* The tick's period now (TICK_NS .. TICK_IDLE_NS), and its last figures. */
static uint64_t g_tick_ns = TICK_NS, g_tick_rss, g_tick_heap;
static uint64_t g_lost_stacks_reported, g_lost_alloc_reported, g_cpu_in_agent_reported;
static uint64_t g_cpu_unsampled_reported;
/* Writer-owned: the last name of each slot's thread written to the dump. */
static char g_wname[MAX_THREADS][16];
/* Writer-owned, per slot (rings_nap): the ring's head and the time when the last round
 * ended (and the state they were read from), and the words per ns the ring
 * was last seen to fill at. */
static struct tstate *g_rate_t[MAX_THREADS];
static uint64_t g_rate_head[MAX_THREADS], g_rate_at;
static double g_rate[MAX_THREADS];
/* A ring was asked to grow in the last round (rings_nap). */
static int g_grow_asked;
/* A chunk is flushed once it holds g_flush_at bytes of records: half the
 * encoder's buffer, or less while a ring fills so fast that compressing
 * that much would take longer than half the ring lasts (the writer drains
 * nothing meanwhile), at the speed the last chunk was compressed and
 * written at (bytes per ns). */
#define FLUSH_MIN (256u << 10)
static size_t g_flush_at = CHUNK_RAW / 2;
static double g_flush_speed = 0.5;

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The writer's tid, set by the thread first thing: waited for here, when
 * asked, not by start_writer, so that a recording that arms no timer at
 * start does not wait for the new thread to be scheduled (1.9 ms of
 * bench_alloc's start-up at load 6). 0 when there is no writer. */
pid_t writer_tid(void)
{
	pid_t t;
	while (!(t = __atomic_load_n(&g_writer_tid, __ATOMIC_ACQUIRE)) &&
	       __atomic_load_n(&g_writer_started, __ATOMIC_ACQUIRE))
		sched_yield();
	return t;
}

void writer_note_flush(uint64_t now)
{
	g_last_flush = now;
}

void writer_note_main_exited(void)
{
	g_main_exited = 1;
}

/* In a fork child (before its writer starts): nothing written, nothing
 * reported yet; the forking thread is the child's main thread. */
void writer_fork_child(void)
{
	memset(g_wname, 0, sizeof(g_wname));
	g_main_exited = 0;
	g_cpu_in_agent_reported = 0;
	g_lost_stacks_reported = g_lost_alloc_reported = 0;
	g_cpu_unsampled_reported = 0;
	g_last_flush = g_last_tick = g_last_check = 0;
	g_tick_ns = TICK_NS;
	g_tick_rss = g_tick_heap = 0;
	memset(g_rate_t, 0, sizeof(g_rate_t));
	g_flush_at = CHUNK_RAW / 2;
	/* The parent's writer's sleep, in the parent's time. */
	atomic_store(&g_writer_sleeping, AWAKE);
	atomic_store(&g_sleep_end, 0);
}

/* --------------------------------------------------- waking and waiting */

/* Wakes the writer if it sleeps or naps. Context: any; preserves errno. */
void writer_wake(void)
{
	if (atomic_load_explicit(&g_writer_sleeping, memory_order_relaxed)) {
		int saved = errno;
		atomic_store(&g_writer_sleeping, AWAKE);
		atomic_fetch_add(&g_wake, 1);
		futex_wake(&g_wake);
		errno = saved;
	}
}

/* Called as the head crosses each eighth of t's ring: two loads, unless
 * the writer sleeps or asked for a larger ring. Context: any (a ring grows
 * only on its busy thread, outside signal handlers). */
void writer_nudge(struct tstate *t)
{
	int s = atomic_load_explicit(&g_writer_sleeping, memory_order_relaxed);
	if (LIKELY(s == AWAKE && !t->ring_grow))
		return;
	size_t cap = ring_capacity(&t->ring);
	size_t fill = cap - ring_space(&t->ring);
	if (t->busy && (t->ring_grow || (cap < RING_WORDS_MAX && fill > cap / 4 * 3))) {
		int saved = errno;
		thread_grow_try(t);
		errno = saved;
		if (ring_capacity(&t->ring) > cap)
			return;
	}
	if ((s == SLEEP_LONG ? fill > cap / 2 : s == SLEEP_NAP && fill > cap / 4 * 3) &&
	    agent_now() < atomic_load_explicit(&g_sleep_end, memory_order_relaxed))
		writer_wake();
}

/* Tells the threads waiting for room that a round is done. */
static void writer_progress(void)
{
	atomic_fetch_add(&g_progress, 1);
	if (atomic_load(&g_waiters))
		syscall(SYS_futex, &g_progress, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Does a round of the writer's work on this thread, unless another thread
 * is doing it: returns 0 then. Context: malloc, not signal. */
int writer_try_cycle(void)
{
	if (!dump_trylock())
		return 0;
	int cs;
	NO_CANCEL_BEGIN(cs);
	writer_cycle(0);
	dump_unlock();
	NO_CANCEL_END(cs);
	writer_progress();
	return 1;
}

/* The writer's progress so far, to wait on (writer_wait_progress). */
uint32_t writer_progress_seen(void)
{
	return atomic_load(&g_progress);
}

/* Waits (2 ms at most) for a round after `seen`. */
void writer_wait_progress(uint32_t seen)
{
	struct timespec ts = {0, 2000000};
	atomic_fetch_add(&g_waiters, 1);
	syscall(SYS_futex, &g_progress, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
	atomic_fetch_sub(&g_waiters, 1);
}

/* ------------------------------------------------------------ a round */

static int thread_alive(pid_t tid)
{
	return !(syscall(SYS_tgkill, agent_pid, tid, 0) < 0 && errno == ESRCH);
}

static inline int is_alloc_event(unsigned kind)
{
	return kind == EV_ALLOC || kind == EV_FREE || kind == EV_REALLOC || kind == EV_MAP ||
	       kind == EV_UNMAP || kind == EV_REMAP;
}

/* The sequence number of the next allocation event in t's ring before
 * `until`; 0 when the next event has none (it can be written at once), and
 * UINT64_MAX when the ring is drained up to `until`. */
static uint64_t next_seq(struct tstate *t, uint64_t until)
{
	struct ring *r = &t->ring;
	uint64_t tail = ring_tail(r);
	if (tail >= until)
		return UINT64_MAX;
	uint64_t w0 = ring_at(r, tail);
	return is_alloc_event(EV_KIND(w0)) ? EV_FIELD(w0) : 0;
}

/* Drains t's ring up to the word `until` (an event boundary; 0: its
 * current head), stopping before an allocation event whose sequence number
 * exceeds max_seq. Returns the words drained. */
static size_t drain(struct tstate *t, uint64_t until, uint64_t max_seq)
{
	struct enc *e = dump_locked();
	struct ring *r = &t->ring;
	uint64_t head = ring_head(r);
	uint64_t tail = ring_tail(r);
	if (until && until < head)
		head = until;
	uint64_t start = tail, released = tail;
	uint64_t w[256];
	/* Read once: enc_event is a call, and t's fields beside them are the
	 * producer's, written at every event. */
	const uint64_t mask = r->mask, *buf = r->buf, tid = (uint64_t)t->tid;
	while (tail < head) {
		uint64_t w0 = buf[tail & mask];
		/* The lines ahead, which the producer's core holds. */
		__builtin_prefetch(&buf[(tail + RING_AHEAD) & mask], 0, 3);
		unsigned len = EV_LEN(w0);
		/* Only an overwritten ring has an event of no length or one
		 * that runs past the head: the rest of it is dropped. */
		if (!AGENT_ASSERT(len != 0 && len <= head - tail)) {
			tail = head;
			break;
		}
		if (is_alloc_event(EV_KIND(w0)) && EV_FIELD(w0) > max_seq)
			break;
		/* Runs of ALLOC and FREE, up to the ring's end, in one call. */
		if (EV_KIND(w0) == EV_ALLOC || EV_KIND(w0) == EV_FREE) {
			size_t span = head - tail, to_end = mask + 1 - (tail & mask);
			size_t got =
			    enc_alloc_run(e, tid, &buf[tail & mask], span < to_end ? span : to_end, max_seq);
			if (got) {
				tail += got;
				if (tail - released >= 4096) {
					ring_release(r, tail);
					released = tail;
				}
				continue;
			}
		}
		/* An event that does not wrap around the ring's end is read in
		 * place; one that does is copied out first. */
		const uint64_t *ev = &buf[tail & mask];
		if (UNLIKELY((tail & mask) + len > mask + 1)) {
			for (unsigned i = 0; i < len; i++)
				w[i] = buf[(tail + i) & mask];
			ev = w;
		}
		if (EV_KIND(w0) == EV_THREAD)
			memcpy(g_wname[t->slot], &ev[3], 16);
		/* The agent makes every event: the encoder knows each kind. */
		unsigned used = enc_event(e, tid, ev);
		AGENT_ASSERT(used == len);
		tail += len;
		if (tail - released >= 4096) {
			ring_release(r, tail);
			released = tail;
		}
	}
	ring_release(r, tail);
	uint64_t lost = atomic_load_explicit(&t->lost_samples, memory_order_relaxed);
	if (lost != t->lost_reported) {
		enc_lost(e, FD_LOST_SAMPLES, lost - t->lost_reported);
		t->lost_reported = lost;
	}
	return (size_t)(tail - start);
}

/* pthread_setname_np of another thread: the name the interposer left in the
 * thread's state goes out (the thread's own renames are sent by itself). */
static void check_name(int i, struct tstate *t, uint64_t now)
{
	struct enc *e = dump_locked();
	if (!atomic_exchange(&t->xname_set, 0))
		return;
	char name[17] = {0};
	memcpy(name, t->xname, 16);
	char padded[16] = {0};
	memcpy(padded, name, strnlen(name, 16));
	if (memcmp(padded, g_wname[i], 16)) {
		memcpy(g_wname[i], padded, 16);
		enc_thread(e, (uint64_t)t->tid, now, name);
	}
}

/* A rotation's next file (rotate.c): a THREAD record, with the name last
 * written, for every thread alive that has one. */
void writer_threads_write(struct enc *e, uint64_t now)
{
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		char name[17] = {0};
		memcpy(name, g_wname[i], 16);
		if (t && atomic_load(&t->state) == TS_LIVE && name[0])
			enc_thread(e, (uint64_t)t->tid, now, name);
	}
}

static int near(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : b - a;
	return d <= b / 64;
}

/* After a tick: the next one in TICK_NS while allocation events are
 * recorded or memory moved since the last, else twice as late as this one
 * (up to TICK_IDLE_NS). */
static void next_tick_period(uint64_t rss, uint64_t heap)
{
	int flat = agent_cfg.alloc == FD_ALLOC_OFF && near(rss, g_tick_rss) && near(heap, g_tick_heap);
	g_tick_ns = !flat ? TICK_NS : g_tick_ns * 2 > TICK_IDLE_NS ? TICK_IDLE_NS : g_tick_ns * 2;
	g_tick_rss = rss;
	g_tick_heap = heap;
}

/* Compresses and writes the chunk, timing it (g_flush_speed). */
static void flush_chunk(struct enc *e)
{
	uint64_t t0 = agent_now();
	size_t n = e->raw_len;
	enc_flush(e);
	g_last_flush = agent_now();
	if (n >= FLUSH_MIN && g_last_flush > t0)
		g_flush_speed = (double)n / (double)(g_last_flush - t0);
}

/* The rings' heads when a round of draining began (writer-owned). */
static struct tstate *g_snap_t[MAX_THREADS];
static uint64_t g_snap_head[MAX_THREADS];
/* How far past the other rings' next event one ring may run ahead in a
 * batch: long runs per thread compress well, and the file stays within this
 * many sequence numbers of sorted order, far inside the analyzer's window. */
#define MERGE_SLACK 65536

/* One round: every ring is drained up to where its head was when the round
 * began, merged by allocation sequence number (each ring is in sequence
 * order), so that the file is nearly in sequence order however many threads
 * allocate (the analyzer replays by sequence within a bounded window). The
 * TICK that ends the round carries the sequence number read before the
 * round began: every event below it was in a ring then, and is now in the
 * file. Called with wlock held. Returns the words drained. */
size_t writer_cycle(int final)
{
	struct enc *e = dump_locked();
	if (agent_finished)
		return 0;
	size_t got = 0;
	uint64_t tick_seq = atomic_load(&agent_seq);
	int hw = threads_hiwater(), n = 0;
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t)
			continue;
		g_snap_t[n] = t;
		g_snap_head[n] = atomic_load_explicit(&t->ring.head, memory_order_acquire);
		n++;
	}
	for (;;) {
		/* The ring with the smallest next sequence number runs until it
		 * passes the second smallest by MERGE_SLACK. */
		int best = -1;
		uint64_t s1 = UINT64_MAX, s2 = UINT64_MAX;
		for (int k = 0; k < n; k++) {
			uint64_t s = next_seq(g_snap_t[k], g_snap_head[k]);
			if (s < s1) {
				s2 = s1;
				s1 = s;
				best = k;
			} else if (s < s2) {
				s2 = s;
			}
		}
		if (best < 0 || s1 == UINT64_MAX)
			break;
		uint64_t bound = s2 > UINT64_MAX - MERGE_SLACK ? UINT64_MAX : s2 + MERGE_SLACK;
		size_t d = drain(g_snap_t[best], g_snap_head[best], bound);
		/* Its next event is within the bound: something is drained. */
		if (!AGENT_ASSERT(d != 0))
			d = drain(g_snap_t[best], g_snap_head[best], UINT64_MAX);
		got += d;
		if (e->raw_len >= g_flush_at)
			flush_chunk(e);
	}
	uint64_t now = agent_now();
	int check = final || now - g_last_check >= CHECK_NS;
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t)
			continue;
		int st = atomic_load(&t->state);
		if (st == TS_ENDING || check) {
			if (!thread_alive(t->tid)) {
				/* Its last events go out through the merge of a
				 * round, in sequence order; then the state goes. */
				if (ring_ready(&t->ring))
					continue;
				if (!t->thread_end_sent)
					enc_thread_end(e, (uint64_t)t->tid, now, UINT64_MAX);
				threads_release(i, t);
			} else if (check && st == TS_LIVE) {
				check_name(i, t, now);
			}
		}
	}
	if (check)
		g_last_check = now;
	uint64_t ls = atomic_load(&agent_lost_stacks), la = atomic_load(&agent_lost_alloc);
	if (ls != g_lost_stacks_reported) {
		enc_lost(e, FD_LOST_STACKS, ls - g_lost_stacks_reported);
		g_lost_stacks_reported = ls;
	}
	if (la != g_lost_alloc_reported) {
		enc_lost(e, FD_LOST_ALLOC, la - g_lost_alloc_reported);
		g_lost_alloc_reported = la;
	}
	uint64_t ia = atomic_load(&agent_cpu_in_agent);
	if (ia != g_cpu_in_agent_reported) {
		enc_lost(e, FD_LOST_CPU_IN_AGENT, ia - g_cpu_in_agent_reported);
		g_cpu_in_agent_reported = ia;
	}
	uint64_t lc = atomic_load(&agent_cpu_unsampled);
	if (lc != g_cpu_unsampled_reported) {
		char why[160];
		snprintf(why, sizeof(why), "%s: %s",
			 agent_cpu_unsampled_call ? "timer_settime" : "timer_create",
			 strerror(agent_cpu_unsampled_errno));
		enc_lost_why(e, FD_LOST_CPU_THREADS, lc - g_cpu_unsampled_reported, why);
		g_cpu_unsampled_reported = lc;
	}
	python_write(e, final);
	if (!final) {
		window_tick(e, now);
		control_poll(e, now);
	}
	if (final || now - g_last_tick >= g_tick_ns) {
		/* glibc's count of the heap only when the events do not give it:
		 * mallinfo2 walks every free chunk under the arena's lock, which
		 * the program's malloc then waits for. */
		uint64_t rss_file, rss = statm_rss(&rss_file);
		uint64_t heap = agent_cfg.alloc == FD_ALLOC_OFF ? heap_in_use() : 0;
		enc_tick(e, now, tick_seq, rss, heap, rss_file);
		g_last_tick = now;
		next_tick_period(rss, heap);
	}
	if (!final)
		rotate_tick(e, now);
	if (e->raw_len >= g_flush_at || (e->raw_len && now - g_last_flush >= FLUSH_NS))
		flush_chunk(e);
	report_dump_error(0);
	return got;
}

/* ------------------------------------------------------------ the naps */

/* After a round (wlock held; its first ring was read at `start`), how long
 * the writer may nap before the fastest ring is half full: each ring's
 * rate is the faster of the one seen during the round and the one since
 * the last round ended, and at least 0.8 of the last (a thread that was
 * off its CPU for a while fills as fast as before once back: a nap too
 * long is what costs the program). A ring that would be half full within
 * NAP_GROW_NS is grown by its thread at its next nudge. Sets g_flush_at
 * for the half ring that the fastest ring has left. UINT64_MAX: no ring
 * fills. */
static uint64_t rings_nap(uint64_t start, uint64_t now)
{
	uint64_t nap = UINT64_MAX;
	double room = (double)UINT64_MAX;
	g_grow_asked = 0;
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t) {
			g_rate_t[i] = NULL;
			continue;
		}
		struct ring *r = &t->ring;
		uint64_t head = ring_head(r), fill = head - ring_tail(r);
		size_t cap = ring_capacity(r);
		double rate = 0;
		if (g_rate_t[i] == t && head >= g_rate_head[i] && now > g_rate_at)
			rate = (double)(head - g_rate_head[i]) / (double)(now - g_rate_at);
		/* The round drained the ring to where its head was at start or
		 * later: what it holds now came during the round. */
		if (now > start && (double)fill / (double)(now - start) > rate)
			rate = (double)fill / (double)(now - start);
		if (g_rate_t[i] == t && g_rate[i] * 0.8 > rate)
			rate = g_rate[i] * 0.8;
		g_rate_t[i] = t;
		g_rate_head[i] = head;
		g_rate[i] = rate;
		if (rate <= 0)
			continue;
		uint64_t half = cap / 2 > fill ? (uint64_t)((double)(cap / 2 - fill) / rate) : 0;
		if (half < nap)
			nap = half;
		double lasts = (double)(cap / 2) / rate;
		if (lasts < room)
			room = lasts;
		if (lasts < (double)NAP_GROW_NS && cap < RING_WORDS_MAX) {
			t->ring_grow = 1;
			g_grow_asked = 1;
		}
	}
	g_rate_at = now;
	double at = room * g_flush_speed / 2;
	g_flush_at = at >= CHUNK_RAW / 2 ? CHUNK_RAW / 2 : at <= FLUSH_MIN ? FLUSH_MIN : (size_t)at;
	return nap;
}

/* ------------------------------------------------------------ the thread */

/* True when every thread but the writer (and the exited main thread) is
 * gone. */
static int only_writer_left(void)
{
	return agent_threads_besides(agent_pid) == 0;
}

static void *writer_main(void *arg)
{
	agent_guard = 1;
	__atomic_store_n(&g_writer_tid, agent_gettid(), __ATOMIC_RELEASE);
	syscall(SYS_prctl, PR_SET_NAME, "fathom-writer", 0, 0, 0);
	/* Its naps end on time (the default slack is 50 us). */
	syscall(SYS_prctl, PR_SET_TIMERSLACK, 10000ul, 0, 0, 0);
	while (!agent_finished) {
		/* The program is dying of a signal (signal-death.c). */
		if (death_writer_check())
			break;
		/* The program's last thread is gone: end the process as glibc
		 * would have, had the writer not been counted as a thread. */
		if (g_main_exited && only_writer_left())
			exit(0);
		uint32_t seen = atomic_load(&g_wake);
		dump_lock();
		uint64_t start = agent_now();
		writer_cycle(0);
		int detached = late_writer_round();
		uint64_t now = agent_now(), nap = rings_nap(start, now);
		dump_unlock();
		if (detached)
			control_close_answered(500);
		writer_progress();
		/* The writer sleeps until the next tick, or naps until the
		 * fastest ring is half full, whichever comes first; a ring about
		 * to be half full already keeps it going. Rings that fill little
		 * (CPU samples alone: tens of words each) need no second look
		 * before the tick: a wakeup costs some 50-100 us of CPU on a
		 * virtual machine, and waking every 1 to 10 ms was 1-2% of a
		 * 99 Hz recording (bench-py-cpu). */
		uint64_t due = g_last_tick + g_tick_ns, sleep = due > now ? due - now : 0;
		int how = SLEEP_LONG;
		if (nap < sleep) {
			sleep = nap;
			how = SLEEP_NAP;
		}
		/* A ring asked to grow grows while the writer naps: its thread
		 * takes wlock only when it is free. */
		if (g_grow_asked && sleep < NAP_MIN_NS)
			sleep = NAP_MIN_NS;
		if (sleep < NAP_MIN_NS)
			continue;
		struct timespec ts = {(time_t)(sleep / 1000000000u), (long)(sleep % 1000000000u)};
		atomic_store_explicit(&g_sleep_end, now + sleep, memory_order_relaxed);
		atomic_store(&g_writer_sleeping, how);
		syscall(SYS_futex, &g_wake, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
		atomic_store(&g_writer_sleeping, AWAKE);
	}
	return NULL;
}

int start_writer(void)
{
	pthread_t th;
	sigset_t all, old;
	sigfillset(&all);
	/* The writer must never run the program's signal handlers. */
	sigmask_real(SIG_SETMASK, &all, &old);
	g_writer_tid = 0;
	__atomic_store_n(&g_writer_started, 0, __ATOMIC_RELEASE);
	/* 1 MB of stack, not the default 8 MB of address space: the writer
	 * needs a few KB, and at most runs the program's exit handlers when the
	 * main thread has called pthread_exit. */
	pthread_attr_t attr;
	int a = pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, WRITER_STACK) == 0;
	int r = thread_create_real(&th, a ? &attr : NULL, writer_main, NULL);
	if (a)
		pthread_attr_destroy(&attr);
	sigmask_real(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	/* Its tid (writer_tid waits for it) keeps it out of the threads given
	 * a sampling timer: it blocks every signal. */
	__atomic_store_n(&g_writer_started, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Writes the header and the module map at once, as the first chunk: a dump
 * whose process is still running, or ended without a trailer, still says
 * whose it is. The writer does not run yet. */
void flush_start(void)
{
	enc_flush(dump_lock());
	g_last_flush = agent_now();
	dump_unlock();
}
