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

/* Rings start at 64 KB. With allocation events, a ring that fills faster
 * than the writer drains it grows (x2, to 1 MB) when its thread ends up
 * doing the writer's work, so that a busy thread rarely waits, and a quiet
 * one costs little. */
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
	uint64_t ip[SCACHE_FRAMES];    /* raw return addresses (ip[0] == ip0) */
	uint64_t ra_at[SCACHE_FRAMES]; /* where each frame's return address sits: its SP - 8 */
};

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
	uint8_t cache_rr[SCACHE_SETS]; /* next way to replace in each set */
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
/* Wakes the writer when the ring is filling. Context: any; preserves errno. */
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

/* Pushes an allocation event: the fast path inline, waiting out of line.
 * The writer is nudged each time the head crosses an eighth of the ring.
 * Context: malloc, not signal. */
static inline void thread_push(struct tstate *t, const uint64_t *w, size_t n)
{
	uint64_t old = atomic_load_explicit(&t->ring.head, memory_order_relaxed);
	if (UNLIKELY(ring_push(&t->ring, w, n) < 0)) {
		thread_push_wait(t, w, n);
		return;
	}
	/* The capacity is a power of two, so is an eighth of it: the head
	 * crossed a multiple of it when old and old + n differ above its bits.
	 * (Two divisions here cost more than the rest of the push.) */
	if (UNLIKELY((old ^ (old + n)) > (t->ring.mask >> 3)))
		writer_nudge(t);
}

/* sample-cost.c: the CPU sample's cost with FATHOM_DEBUG_COST=1. scost_add:
 * Context: signal. */
extern int scost_on;
void scost_setup(void);
void scost_add(uint64_t ns, unsigned frames);
void scost_report(void);

/* thread-cpu.c */
/* Reads the CPU clock of the process's thread tid. Context: any,
 * async-signal-safe. */
int tcpu_read(pid_t tid, uint64_t *ns);
/* Starts t's CPU account at tid's clock now, unless it has one. Context:
 * any, async-signal-safe. */
void tcpu_note_base(struct tstate *t, pid_t tid);
/* Starts the account of a thread born under the agent at 0 and notes its
 * start routine fn and the frames that called it (start_frames). Context:
 * on the new thread, before it runs fn. */
void tcpu_note_birth(struct tstate *t, void *(*fn)(void *));
typedef void (*tcpu_emit_fn)(struct tstate *t, const uint64_t *w, size_t n);
/* Closes t's CPU account at time now: with charge (CPU sampling on, CPU
 * clock), the CPU time its samples do not cover is emitted as a SAMPLE of
 * that exact time (4 words), on the stack it was last sampled in or its
 * start stack (a STACK event first when that is new; f is room for one, of
 * EV_MAX_WORDS); then a THREAD_END carrying the measured CPU time (4 words;
 * 3 when the clock could not be read). Changes nothing in t, so that a
 * trailer taken back (a failed exec) can be written again. Context: not
 * signal; the emitter's. */
void tcpu_close(struct tstate *t, int charge, uint64_t now, uint64_t *f, tcpu_emit_fn emit);
/* The CPU time a sample of this weight stands for, and counts it as
 * covered: 0 when that is weight whole periods, else the exact time (the
 * first sample after an arming covers the timer's phase, not a period).
 * Context: signal (the sampling handler). */
uint64_t tcpu_sample_ns(struct tstate *t, uint32_t weight);
/* The timer of t was armed now, its first expiration first_ns later: the
 * next sample stands for the CPU time not yet covered up to there. Context:
 * any, async-signal-safe. */
void tcpu_note_arm(struct tstate *t, uint64_t clk_now, uint64_t first_ns);
/* Recording resumes (or t ends while paused): t's CPU time not covered by
 * samples so far was used while paused, and is left out of its account and
 * of the process's (agent_cpu_skipped). Context: not signal; no timer of t
 * armed. */
void tcpu_skip(struct tstate *t, uint64_t clk_now);
extern _Atomic uint64_t agent_cpu_skipped;
/* The main thread's start stack: the program's entry point. */
void tcpu_note_main(struct tstate *t);
/* A forked child's thread: no account, no samples, no stacks yet (its
 * start stack stays: the same addresses in the same image). */
void tcpu_forget(struct tstate *t);

/* signal-sample.c */
/* Installs the handler on agent_cfg.signo (also after a failed exec). */
int sample_install(void);

/* signal-action.c: the program's view of the agent's signal */
/* Installs handler with flags on agent_cfg.signo; the program's disposition
 * of it becomes virtual. */
int sample_action_install(void (*handler)(int, siginfo_t *, void *), int flags);
/* The C library's sigaction (-1, ENOSYS without one). */
int sample_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* Before exec, once every timer is deleted: discard our pending signals and
 * restore the program's disposition (sample_install() undoes it). */
void sample_before_exec(void);
/* Runs the program's disposition *disp of sig as the kernel would have
 * (SA_RESETHAND updates *disp). Context: signal. */
void sample_chain(struct sigaction *disp, int sig, siginfo_t *si, void *uc);
/* sample_chain() with the program's disposition of the agent's signal.
 * Context: signal. */
void sample_chain_program(int sig, siginfo_t *si, void *uc);
/* The program has a handler of its own for the agent's signal. Context: any. */
int sample_user_handles(void);

/* signal-timers.c */
/* At start-up: tries the calls the timers need (timer_create, timer_settime)
 * with SIGSYS caught, so that a seccomp filter cannot kill the program.
 * Returns 0, or -1 with the reason ("timer_create: ...") in why. */
int sample_probe(char *why, size_t cap);
/* Context: any. Arms the thread's timer (not while an exec is under way);
 * a failure is counted in agent_cpu_unsampled. */
int sample_arm(struct tstate *t, pid_t tid);
/* The delay (ns of its clock) of the first expiration of tid's timer: each
 * thread's timer starts at its own phase. */
uint64_t sample_first_ns(pid_t tid);
void sample_disarm(struct tstate *t);
clockid_t sample_thread_clock(pid_t tid);
/* Timers are made only inside the gate: enter returns 0 once an exec has
 * stopped arming. sample_stop_arming() waits until no thread is inside, so
 * that every timer is then known and can be deleted. Context: any,
 * async-signal-safe. */
int sample_gate_enter(void);
void sample_gate_leave(void);
void sample_stop_arming(void);
void sample_allow_arming(void);
/* Inside the gate. */
int sample_arm_tid(pid_t tid, timer_t *out);
uint64_t sample_thread_cpu(pid_t tid);
/* The signal comes from the agent's own timers. Context: any. */
int sample_timer_info(const siginfo_t *si);
/* Threads left unsampled because their timer could not be made, and why
 * (the errno of the last failure, of timer_create (0) or timer_settime (1)). */
extern _Atomic uint64_t agent_cpu_unsampled;
extern int agent_cpu_unsampled_errno;
extern int agent_cpu_unsampled_call;

/* signal-altstack.c */
/* Installs the thread's agent signal stack unless the program has one.
 * Context: any, async-signal-safe; on the thread t belongs to. */
void sample_altstack_on(struct tstate *t);

/* Bumped by the handler for each signal of the agent's timers on this
 * thread: a blocking call that fails with EINTR while it changed was
 * interrupted by the agent (blocking.c retries it). */
extern TLS unsigned agent_sample_sigs;

/* blocking.c */
/* The handler's frames of a thread inside a blocking call (t->blk_on):
 * the agent's own dropped, the libc function the program called put in
 * their place. Returns the new count. Context: signal. */
unsigned blocking_frames(struct tstate *t, uint64_t *f, unsigned n);
/* The handler sampled a thread inside a blocking call on stack id: its
 * timer is paused and the rest of the call charged exactly at its return.
 * Context: signal. */
void blocking_sampled(struct tstate *t, uint32_t id, uint64_t now);
/* The blocked time of thread t not yet charged, up to now (ns since
 * start), taken (it is charged from now on): 0 when t is not blocked, else
 * the ns, with the stack in *id. Context: any (the writer, at the end). */
uint64_t blocking_take(struct tstate *t, uint64_t now, uint32_t *id);

/* agent.c */
/* The agent is initialised and not finished (set by the constructor and a
 * fork child, cleared when recording stops for good). */
extern volatile int agent_ready;
/* The dump's trailer is written (or, in daemon()'s parent, about to be):
 * nothing may wait for the writer. */
extern volatile int agent_finished;

/* config.c: FATHOM_* read once at start, and the agent's messages. */
void read_config(void);
const char *config_getenv(const char *name);
/* Context: any. One message on stderr, from write() alone. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message later in the run: only while fd 2 is still the stderr noted at
 * start (note_stderr). */
void say_late(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note_stderr(void);
void config_check_alloc_bypass(void);
const char *config_alloc_bypass(void); /* "" when the program calls the agent's malloc */
void config_probe_cpu(void);
const char *config_cpu_off(void); /* why CPU sampling cannot work here; "" when it can */

/* dump.c: the dump file and its encoder, whose every use holds wlock. */
struct enc *dump_lock(void);
struct enc *dump_trylock(void);	     /* NULL when another thread holds wlock */
struct enc *dump_lock_bounded(void); /* NULL after two seconds: see dump.c */
void dump_unlock(void);
struct enc *dump_locked(void); /* the encoder; the caller holds wlock */
int open_dump(pid_t ppid);
const char *dump_path(void); /* the current file's absolute path */
/* A rotation (rotate.c): the next file made, then switched to. */
int dump_next_open(const char *path);
void dump_next_switch(uint64_t now);
void set_start_times(void);
void dump_fork_child(int phase); /* 0: the lock, first thing; 1: the parent's dump */
void dump_close(void);
void dump_trailer(uint64_t now, unsigned reason);
/* The signal a FD_END_SIGNAL trailer names. */
void dump_end_signal(int sig);
void report_dump_error(int at_end);
/* Moves a descriptor of the agent's out of the program's way (see dump.c). */
int fd_place_high(int fd);
ssize_t read_file(const char *path, char *buf, size_t cap);

/* mmap-hooks.c: starts recording the program's mappings (unless
 * FATHOM_MMAP=0), with allocation tracking. */
void mmap_hooks_start(void);

/* procstat.c: the memory figures of each TICK. Context: the writer. */
void procstat_init(void);
/* The resident set in bytes, and in *file (when not NULL; UINT64_MAX when
 * unknown) its pages of files and shared memory (statm's shared). */
uint64_t statm_rss(uint64_t *file);
void statm_forget(int close_it);
uint64_t heap_in_use(void);

/* modules.c */
struct got_scope;
/* Records the modules loaded and unloaded since the last scan; with
 * redirect, points the new ones' slots that bind past the agent at it. */
void modules_scan(int redirect, const struct got_scope *deep);
void modules_rescan(void);
void modules_find_agent(void);
void modules_fork_child(int phase);		     /* 0: the lock, first thing; 1: ids */
void modules_write_all(struct enc *e, uint64_t now); /* Context: wlock held */

/* signal-threads.c: the registry. Context: any, async-signal-safe. */
pid_t agent_gettid(void);
void threads_key_init(void (*dtor)(void *));
int threads_hiwater(void);	  /* slots [0, hiwater) may hold a state */
struct tstate *threads_at(int i); /* NULL: a free slot */
void threads_release(int i, struct tstate *t);
void state_unmap(struct tstate *t);
/* A state of this process's thread tid exists: a live one, or with
 * any_state one that is ending too. */
int has_state_any(pid_t tid, int any_state);
int has_state(pid_t tid);
void threads_fork_drop(struct tstate *self);
void threads_fork_adopt(struct tstate *self);
/* Timers made at start for threads already running, taken over by each
 * thread when it attaches. */
int pre_timers_full(void);
void pre_timer_add(pid_t tid, timer_t tm, uint64_t base);
uint64_t pre_timer_base(pid_t tid);
void pre_timers_delete(void);

/* threads.c */
void thread_stack_bounds(struct tstate *t);
void thread_key_dtor(void *p);
int count_threads(void);
void arm_existing_threads(pid_t self);
void disarm_all(void);

/* writer.c */
int start_writer(void);
pid_t writer_tid(void);
size_t writer_cycle(int final); /* Context: wlock held */
int writer_try_cycle(void);
void writer_wake(void);
uint32_t writer_progress_seen(void);
void writer_wait_progress(uint32_t seen);
void writer_note_main_exited(void);
void writer_fork_child(void);
void writer_note_flush(uint64_t now); /* the encoder was flushed at now */
void flush_start(void);
void writer_threads_write(struct enc *e, uint64_t now); /* Context: wlock held */

/* rotate.c: a long recording as a series of files (FATHOM_ROTATE, ctl). */
void rotate_init(void);			       /* the constructor and a fork child, once the dump is open */
void rotate_tick(struct enc *e, uint64_t now); /* Context: the writer's round, wlock held */
/* Ends the current file and goes on in the next one now: returns the next
 * file's number (and in *seq, when not NULL, the allocation sequence number
 * of the switch), or 0 after saying why not. Context: wlock held. */
unsigned rotate_now(struct enc *e, uint64_t now, uint64_t *seq);
/* Before the last file ends: the stacks its records name that it lacks. */
int rotate_define_missing(struct enc *e);

/* window.c: the recording window (paused, on) and its marks. */
int window_init(int cpu_ok); /* the constructor; returns whether recording starts now */
int window_paused(void);     /* Context: any */
void window_dump_start(struct enc *e);
void window_fork_child(void);
void window_late_restart(struct enc *e, int cpu_ok);
void window_tick(struct enc *e, uint64_t now);
void window_command(struct enc *e, uint64_t now, const char *verb, const char *label, char *reply,
		    size_t cap);

/* control.c: the directory `fathom ctl` drives the agent through. */
void control_open(void);
void control_close(void);
void control_close_answered(int ms);
void control_fork_child(void);
void control_poll(struct enc *e, uint64_t now);

/* perfmap.c: the perf map the program wrote (/tmp/perf-PID.map), if
 * any, into the dump as PERFMAP records. Context: wlock held, at the
 * end of the image (finish.c). */
void perfmap_record(void);

/* finish.c */
/* A trailer that may be taken back (exec, daemon()'s parent): returns
 * where it starts. Context: wlock held, and kept by the caller. */
struct enc_mark trailer_provisional(unsigned reason);

/* interpose-thread.c */
int thread_create_resolve(void);
int thread_create_real(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
/* interpose-exit.c */
void daemon_fork_parent(void);
void exit_hooks_setup(void);
/* interpose-loader.c: the loader's own dl_iterate_phdr. */
struct dl_phdr_info;
int loader_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);

/* wait-locks.c: the C library's mutex calls, for the agent's own mutexes
 * (not the interposers', which would record them). */
int agent_mutex_lock(pthread_mutex_t *m);
int agent_mutex_trylock(pthread_mutex_t *m);
int agent_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts);
int agent_mutex_unlock(pthread_mutex_t *m);

/* malloc-hooks.c */
void hooks_resolve(void);
int hooks_setup(void);
void *hooks_real_malloc(size_t n);
void hooks_real_free(void *p);

/* finish.c: writes what is pending and the trailer, once (exit, exec, ...). */
void agent_finish(unsigned reason);
/* Finishes the dump of a process dying of sig (signal-death.c). Context: the
 * writer thread. */
void agent_finish_signal(int sig);

/* signal-death.c: a signal left at its default action that ends the process
 * (SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2) finishes the
 * dump first. death_install takes those the program leaves at SIG_DFL;
 * death_owned says whether the agent holds sig (the program's view is then
 * death_view); death_release hands it back (the program sets it);
 * death_default and death_oneshot keep it when the program sets SIG_DFL or
 * a one-shot (SA_RESETHAND) handler. */
void death_install(void);
int death_owned(int sig);
void death_view(int sig, struct sigaction *old);
void death_release(int sig);
int death_default(int sig, const struct sigaction *act, struct sigaction *old);
int death_oneshot(int sig, const struct sigaction *act, struct sigaction *old);
int death_writer_check(void);
void death_after_fork(void);
/* A death signal that came while its thread held wlock is acted on when it
 * lets go (dump_unlock calls this), or before an exec. */
void death_deferred_now(void);
/* This thread holds wlock. Context: any. */
int dump_held_here(void);
/* The dump lock's holder is thread tid. Context: any, async-signal-safe. */
int dump_held_by(pid_t tid);
/* threads.c: the process's threads other than `self` and the writer; -1 if
 * unknown. */
int agent_threads_besides(pid_t self);

/* freeres.c: the agent's last exit handler, which releases glibc's one-time
 * allocations before an exact recording is finished. */
void agent_exit_late_setup(void);
int agent_exit_late_pending(void); /* the destructor leaves the finish to it */

/* agent.c: real libc functions the agent interposes. */
void *agent_dlsym_next(const char *name);
/* Finds libc's function into var on first use: 1, or 0 with errno ENOSYS
 * when the C library has none (the call then fails as it would without it).
 * Context: any, async-signal-safe once resolved. */
#define AGENT_NEXT(var, name)                                                                                \
	((var) ? 1 : ((*(void **)&(var) = agent_dlsym_next(name)) != NULL || (errno = ENOSYS, 0)))

/* got.c: points the GOT slots of objects that bind past the agent
 * (RTLD_DEEPBIND) at the agent's functions. got_scope holds, for each
 * function the agent interposes, what a dlopen handle's own lookup finds. */
#define GOT_MAX_FNS 192
struct got_scope {
	void *target[GOT_MAX_FNS];
};
void got_prepare(void);
void got_scope_of(void *handle, struct got_scope *sc);
int got_redirect(const struct dl_phdr_info *info, const struct got_scope *deep);

/* late.c: the agent loaded into a running process (fathom record --pid). */
int late_loaded(void); /* the constructor: not preloaded; fathom_attach starts it */
int late_mode(void);
int late_getenv(const char *name, const char **v);
/* control.c: the pid the control channel and the manifest's "detached"
 * line name the process by: its own, except in a process attached from
 * outside its PID namespace (a container), which fathom names by the pid
 * it sees (FATHOM_CTL_PID in the attach's settings), the one `fathom ctl`
 * is given. A fork child of it goes back to its own. Context: not signal. */
pid_t control_pid(void);
int late_capture(const char *msg, size_t n); /* Context: any */
const char *const *late_got_names(void);     /* the slots taken over late, or NULL */
void late_dump_start(struct enc *e);
void late_request_detach(void);
int late_writer_round(void);
/* agent.c: the start of an agent loaded late, and its restart after a
 * detach; 0 when recording. */
int agent_start_late(void);
int agent_restart_late(void);
/* finish.c: the end of a dump, wlock held. */
void agent_finish_locked(unsigned reason);

#pragma GCC visibility pop

#endif
