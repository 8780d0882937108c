/* State shared by the parts of the agent that live in libfathom.so: the
 * configuration, the per-thread state, and the functions the hooks, the
 * signal handler and the lifecycle code call in one another, grouped by the
 * file that defines them. Each file owns its own state (static there);
 * files named signal-*.c hold the code the sampling signal's handler runs,
 * async-signal-safe throughout (docs/DESIGN.md, Layout).
 */
#ifndef FATHOM_AGENT_H
#define FATHOM_AGENT_H

#include "encode.h"
#include "event.h"
#include "fathom-dump.h"
#include "intern.h"
#include "python.h"
#include "ring.h"
#include "unwind.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Everything declared below lives in libfathom.so itself: hidden, so that
 * the hooks reach these variables with one PC-relative load, not through
 * the GOT. */
#pragma GCC visibility push(hidden)

#define EXPORT __attribute__((visibility("default")))
/* The interposers that wait in the C library (blocking.c, blocking-io.c,
 * wait-locks.c, sigwait.c) and their helpers on the stack meanwhile: a
 * section of their own, which `fathom record --pid` finds by name, so that
 * a thread of an attached process that waits there is a safe point for the
 * next attach (these frames hold nothing of the agent's while they wait);
 * any other frame of the agent's is not. */
#define BLOCKER __attribute__((section("fathom_blockers"), noinline))
#define EXPORT_BLOCKER EXPORT BLOCKER
/* The agent's own definition of a function it exports, for its calls of
 * it from another interposer (__read_chk's read): a call through the PLT
 * binds to the agent's at a launch but, in an agent loaded late (fathom
 * record --pid, late.c), to the C library's, past the agent. SELF(read)
 * after read's definition declares self_read. */
#define SELF(name) extern __typeof__(name) self_##name __attribute__((alias(#name), visibility("hidden")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TLS __attribute__((tls_model("initial-exec"))) __thread

/* A "cannot happen" condition, true when it holds. When it does not: a
 * debug build (NDEBUG undefined) aborts there, saying which; a release
 * build, which must never take the program down, says so once on stderr
 * and the caller's recovery follows. Context: not signal. */
#define AGENT_ASSERT(c) (LIKELY(c) || (agent_assert_failed(#c, __FILE__, __LINE__), 0))
void agent_assert_failed(const char *what, const char *file, int line);

/* Rings start at 64 KB. A ring that fills fast grows (x2, to 1 MB): when
 * the writer finds it would be half full within about a millisecond of its
 * nap (writer.c), or when it fills; so that a busy thread never waits, and
 * a quiet one costs little. */
#define RING_WORDS_START (1u << 13)
#define RING_WORDS_MAX (1u << 17)
#define MAX_THREADS 4096
/* The encoder's chunk: flushed when half full. */
#define CHUNK_RAW (8u << 20)

/* Stacks captured inside malloc are cached per thread by (return address,
 * stack pointer) and validated against the live stack (alloc-record.c). */
#define SCACHE_SETS 64
#define SCACHE_WAYS 4
#define SCACHE_FRAMES 32
struct scache_entry {
	uint64_t ip0, sp0; /* key: the return address into the caller, and the caller's SP */
	uint32_t id, gen;
	uint32_t n;
	/* Raw return addresses (ip[0] == ip0), and where each frame's
	 * return address sits (its SP - 8); up to three more of each for the
	 * check's pad (alloc-record.c). */
	uint64_t ip[SCACHE_FRAMES + 3];
	uint64_t ra_at[SCACHE_FRAMES + 3];
};
/* The stack check walks both arrays with one pointer, frames 1 to n - 1
 * four at a time (alloc-record.c): its end, the pad included. */
#define SCACHE_RA_AT (SCACHE_FRAMES + 3)
static inline unsigned scache_check_end(unsigned n)
{
	return 1 + ((n - 1 + 3) & ~3u);
}
_Static_assert(offsetof(struct scache_entry, ra_at) == offsetof(struct scache_entry, ip) + SCACHE_RA_AT * 8,
	       "ra_at follows ip");

enum { TS_FREE = 0, TS_LIVE, TS_ENDING };

struct tstate {
	struct ring ring;
	pid_t tid;
	_Atomic int state;
	int slot;
	/* The thread is inside agent code that pushes to its ring: a signal
	 * arriving now must defer its sample (pending_*) instead of pushing. */
	volatile int busy;
	/* The unwinder (its state is per thread: uw below) or the loader is
	 * running on this thread: the handler must not unwind. */
	volatile int in_unwind;
	/* While a hook unwinds (in_unwind): the return address into the
	 * program's code that called the hook, where a sample that lands in
	 * the unwinding is charged (signal-sample.c). */
	volatile uint64_t unwind_caller;
	volatile int in_loader;
	int has_timer;
	timer_t timer;
	/* The CPU time (ns of the CPU clock, from cpu_base) the samples
	 * stand for so far (recorded, deferred or lost), and that of the next
	 * sample when it is the first since the timer was armed (the random
	 * phase of its first expiration, and the CPU used before the
	 * arming): thread-cpu.c. At the thread's end the rest is charged to
	 * the stack of its last sample (last_id). */
	uint64_t covered_ns, first_ns;
	/* The thread's CPU clock (ns) where its account starts: 0 for a
	 * thread born under the agent, else its clock when the agent first
	 * saw it (thread-cpu.c); valid when cpu_known. */
	uint64_t cpu_base;
	int cpu_known;
	/* CPU time the thread used while recording was paused (window.c):
	 * left out of its account. */
	uint64_t cpu_skipped;
	/* Its CPU clock where its account ended because the agent's finish
	 * runs on it from there (tcpu_freeze), 0 while open. */
	uint64_t end_clk;
	uint32_t last_id;
	/* The start routine and the frames that called it (start_thread,
	 * clone), taken when the thread started: the stack its CPU time is
	 * charged to at its end when no sample ever caught it. */
	uint64_t start_frames[8];
	unsigned start_n;
	uint64_t thread_end_sent;
	_Atomic uint64_t lost_samples; /* producer adds, writer reports */
	uint64_t lost_reported;	       /* writer only */
	/* A sample taken while busy, pushed when the thread leaves agent code. */
	volatile int pending;
	int pending_new;
	uint32_t pending_id, pending_weight;
	uint64_t pending_ns;	/* its exact CPU time, or 0: pending_weight periods */
	unsigned pending_flags; /* EV_SAMPLE_* */
	/* Set while thread_flush_pending copies the pending sample: a signal
	 * then may not add to it (see pending_add). */
	volatile int pending_closed;
	uint64_t pending_time;
	unsigned pending_n;
	/* Frame buffers hold a STACK event: two header words, then the frames
	 * (so that no event is staged on the program's stack). */
	uint64_t pending_frames[EV_MAX_WORDS];
	/* Scratch for the signal handler's unwinding. */
	uint64_t sig_frames[EV_MAX_WORDS];
	/* Sampled allocation mode: the RNG of the intervals (the countdown
	 * itself is a TLS variable of alloc-record.c). */
	uint64_t rng;
	char name[16];
	uint64_t hook_frames[EV_MAX_WORDS];
	uint64_t hook_sps[FD_MAX_FRAMES];
	uint64_t hook_rbps[FD_MAX_FRAMES];
	/* The last walk from a hook (alloc-record.c): return addresses, stack
	 * and frame pointers of its frames, whose outer part the next walk
	 * reuses once it reaches one of them. */
	unsigned last_n;
	uint64_t last_ips[FD_MAX_FRAMES], last_sps[FD_MAX_FRAMES], last_rbps[FD_MAX_FRAMES];
	uint8_t cache_rr[SCACHE_SETS];	/* next way to replace in each set */
	uint8_t cache_mru[SCACHE_SETS]; /* the way that matched last in each set */
	struct scache_entry cache[SCACHE_SETS * SCACHE_WAYS];
	/* The Python part of allocation stacks (python-alloc.c). */
	uint8_t pyc_rr;
	struct pyc_entry pyc[PYC_ENTRIES];
	size_t map_bytes;
	/* The thread's stack (0 when unknown: a thread that existed before the
	 * agent started), for the unwinder's unchecked reads. */
	uintptr_t stack_lo, stack_hi;
	/* The agent's signal stack for this thread (in this mapping, above a
	 * guard page; NULL when CPU sampling is off), and whether it is the
	 * thread's installed signal stack (the program has none of its own). */
	char *alt_sp;
	int alt_on;
	struct unwind uw;
	struct uw_cached uw_cache[UW_CACHE];
	/* The ring's own mapping once it has grown out of the state's (threads.c). */
	void *ring_map;
	size_t ring_bytes;
	/* Set by the writer when the ring fills faster than it may nap
	 * (writer.c): the thread grows it at its next nudge. */
	volatile int ring_grow;
	/* Inside an interposed blocking call (blocking.c): blk_on marks it,
	 * blk_fn is the libc function the program called when the wrapper
	 * calls another one (usleep: nanosleep), blk_depth and blk_sp are the
	 * wrapper's nesting and frame. Once the timer's signal has landed in
	 * the call, the timer is paused (blk_paused) and the time from
	 * blk_since (ns since start; the writer may take the time so far) is
	 * charged exactly to the stack blk_id. */
	volatile int blk_on;
	int blk_paused, blk_depth;
	uint64_t blk_fn;
	uintptr_t blk_sp;
	_Atomic uint64_t blk_since;
	uint32_t blk_id;
	/* pthread_self() of the thread, and a name another thread gave it with
	 * pthread_setname_np (xname_set 1 once xname is written), which the
	 * writer sends: no /proc read, whose descriptor would take the
	 * program's lowest free number for a moment. */
	uintptr_t pth;
	char xname[16];
	atomic_int xname_set;
};

/* The agent's signal stack: the kernel's signal frame alone is ~3.5 KB with
 * AVX-512, and a program's own SIGPROF handler (chained) runs here too. */
#define ALT_BYTES (64 * 1024)

struct agent_config {
	int hz;
	int clock; /* FD_CLOCK_* */
	int alloc; /* FD_ALLOC_* */
	uint64_t alloc_sample;
	int cpu;
	int signo; /* the sampling signal: a real-time signal of the agent's own */
	/* FATHOM_WAIT: waits are recorded (wait-record.c); every wait at
	 * least wait_threshold_ns long, shorter ones sampled. */
	int wait;
	uint64_t wait_threshold_ns;
	/* The recording window (window.c): start paused (FATHOM_START=off); when
	 * to start (CLOCK_MONOTONIC ns; 0: not set) and for how long; marks
	 * every snapshot_every_ns (0: none). */
	int start_off;
	uint64_t start_at_mono, duration_ns, snapshot_every_ns;
	/* FATHOM_ROTATE (rotate.c): a new file every rotate_ns, or when the
	 * file reaches rotate_bytes (0: not). */
	uint64_t rotate_ns, rotate_bytes;
};

extern struct agent_config agent_cfg;
extern struct intern agent_intern;
extern _Atomic uint64_t agent_seq;	   /* the global allocation sequence */
extern _Atomic uint64_t agent_lost_stacks; /* events whose stack could not be interned */
extern _Atomic uint64_t agent_lost_alloc;  /* allocation events not recorded */
/* The hooks record allocations: 0 (FD_ALLOC_OFF) when not, else the mode
 * (FD_ALLOC_EXACT or FD_ALLOC_SAMPLED), so the hooks' first test is one load. */
extern volatile int agent_alloc_on;
extern volatile int agent_cpu_on; /* the sampling signal's handler records samples */
/* Waits are recorded (FATHOM_WAIT, while the recording runs): the lock
 * interposers' one test when it is off (wait-record.c). */
extern volatile int agent_wait_on;
/* Set before a second thread can exist (pthread_create, threads found at
 * start): until then the sequence counter needs no atomic instruction. */
extern volatile int agent_multi;
extern uint64_t agent_start_mono;
extern pid_t agent_pid;
/* This image's exec generation: 0 for a pid's first image, n after its
 * n-th exec (FATHOM_EXEC, program.c); 0 in a fork child. */
extern int agent_generation;
extern uintptr_t agent_text_lo, agent_text_hi; /* libfathom.so's code */
/* The code of the libraries the agent's own work calls into (libc, libzstd,
 * the dynamic loader, the vDSO), found at start: a sample whose stack runs
 * from them into the agent is the agent's cost (signal-sample.c). */
#define AGENT_HELPERS 8
extern uintptr_t agent_helper_lo[AGENT_HELPERS], agent_helper_hi[AGENT_HELPERS];
extern unsigned agent_nhelpers;
extern _Atomic uint64_t agent_cpu_in_agent; /* samples (weights) charged from the agent to its caller */
extern uint32_t agent_intern_gen;	    /* bumped when stack ids restart (fork) */

extern TLS struct tstate *agent_tls;
extern TLS int agent_guard; /* inside the agent or a hook: hooks pass through */
/* agent_guard's value while a hook calls the real allocator for the program
 * (any nonzero value keeps the hooks passing through). */
#define GUARD_REAL 2

/* Agent code on an application thread must not be a place where
 * pthread_cancel acts (libunwind and the writer make system calls that are
 * cancellation points): the thread would leave the agent's state half done. */
#define NO_CANCEL_BEGIN(old) pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &(old))
#define NO_CANCEL_END(old) pthread_setcancelstate((old), NULL)

static inline uint64_t agent_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - agent_start_mono;
}

/* Returns this thread's state, creating it on first use; NULL when the
 * thread cannot be tracked. Context: any, async-signal-safe (mmap only). */
struct tstate *thread_attach(void);
/* Pushes an event, waiting for the writer while the ring is full (exact
 * allocation events are never dropped). Context: malloc, not signal;
 * preserves errno. */
void thread_push_wait(struct tstate *t, const uint64_t *w, size_t n);
/* Pushes the sample a signal deferred while the thread was busy. Context:
 * malloc, not signal. */
void thread_flush_pending(struct tstate *t);
/* The thread enters and leaves agent code that pushes to its ring (busy):
 * a sample that lands meanwhile is deferred, and pushed on leaving.
 * Context: malloc, not signal. */
static inline void thread_busy_on(struct tstate *t)
{
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
}

static inline void thread_busy_off(struct tstate *t)
{
	__asm__ volatile("" ::: "memory");
	t->busy = 0;
	__asm__ volatile("" ::: "memory");
	if (UNLIKELY(t->pending))
		thread_flush_pending(t);
}

/* Bytes until the next sampled allocation (exponential, mean alloc_sample).
 * Context: malloc, async-signal-safe. */
int64_t agent_sample_interval(struct tstate *t);
/* Wakes the writer when the ring fills past its mark, or grows the ring
 * when the writer asked for it. Context: any; preserves errno. */
void writer_nudge(struct tstate *t);

/* The next allocation sequence number. Context: malloc. */
static inline uint64_t agent_next_seq(void)
{
	if (LIKELY(agent_multi))
		return atomic_fetch_add_explicit(&agent_seq, 1, memory_order_relaxed);
	uint64_t s = atomic_load_explicit(&agent_seq, memory_order_relaxed);
	atomic_store_explicit(&agent_seq, s + 1, memory_order_relaxed);
	return s;
}

/* Waits until the ring has room for n words (or recording stops).
 * Context: malloc, not signal; preserves errno. */
void thread_wait_space(struct tstate *t, size_t n);

/* Makes sure the next push of n words succeeds. Allocation events take their
 * sequence number only after this, so that a thread waiting for the writer
 * never holds a number while later ones are written (the analyzer replays
 * in sequence order within a bounded window). Context: malloc, t->busy set
 * (so no signal handler pushes to this ring meanwhile). */
static inline void thread_reserve(struct tstate *t, size_t n)
{
	struct ring *r = &t->ring;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (LIKELY(r->mask + 1 - (head - r->tail_cache) >= n))
		return;
	if (ring_space(r) >= n)
		return;
	thread_wait_space(t, n);
}

/* After n words were pushed at head old (mask: the ring's): the writer is
 * nudged (writer_nudge: a look, which rarely wakes it) each time the head
 * crosses an eighth of the ring. The capacity is
 * a power of two, so is an eighth of it: the head crossed a multiple of it
 * when old and old + n differ above its bits. (Two divisions here cost
 * more than the rest of the push.) */
static inline void thread_pushed(struct tstate *t, uint64_t old, size_t n, uint64_t mask)
{
	if (UNLIKELY((old ^ (old + n)) > (mask >> 3)))
		writer_nudge(t);
}

/* Pushes an allocation event: the fast path inline, waiting out of line.
 * Context: malloc, not signal. */
static inline void thread_push(struct tstate *t, const uint64_t *w, size_t n)
{
	uint64_t old = atomic_load_explicit(&t->ring.head, memory_order_relaxed);
	if (UNLIKELY(ring_push(&t->ring, w, n) < 0)) {
		thread_push_wait(t, w, n);
		return;
	}
	thread_pushed(t, old, n, t->ring.mask);
}

/* thread_push_seq's way when the event does not fit in place: waits for
 * room, then takes the sequence number. Context: as thread_push_seq. */
void thread_push_seq_slow(struct tstate *t, size_t n, uint64_t w0, uint64_t a, uint64_t b, uint64_t c,
			  uint64_t d);

/* Pushes an allocation event of n words (2 to 5: w0, then a, b, c, d as
 * many as it has) whose first word is EV_W0(kind, n, 0): its sequence
 * number is taken once there is room for it (see thread_reserve), and the
 * event is written in place at the head. Context: malloc, not signal,
 * t->busy set. */
static inline __attribute__((always_inline)) void
thread_push_seq(struct tstate *t, size_t n, uint64_t w0, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct ring_slot s;
	if (UNLIKELY(!ring_slot(&t->ring, n, &s))) {
		thread_push_seq_slow(t, n, w0, a, b, c, d);
		return;
	}
	s.w[0] = w0 | agent_next_seq() << 16;
	s.w[1] = a;
	if (n > 2)
		s.w[2] = b;
	if (n > 3)
		s.w[3] = c;
	if (n > 4)
		s.w[4] = d;
	ring_commit(&t->ring, &s, n);
	thread_pushed(t, s.head, n, s.mask);
}

/* The functions of the agent's files, grouped by the file that defines them. */
#include "agent-signal.h"
#include "agent-life.h"

#pragma GCC visibility pop

#endif
