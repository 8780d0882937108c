/* What heap.c (the replay in sequence order), heap-mark.c (the live heap at
 * WINDOW marks) and heap-finish.c (the replay's results into the profile)
 * share: the replay's state and its weights. */
#ifndef FATHOM_HEAP_INT_H
#define FATHOM_HEAP_INT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fathom-dump.h"
#include "heap.h"

/* How many ticks (in file order) past an event's seq it is released even if
 * an earlier seq is still missing, and how many events may wait at most. The
 * agent's counter has no gaps unless an event was lost, so a missing seq is
 * nearly always a thread between taking its number and pushing the event:
 * wait for it generously (the agent ticks every 20 ms). */
#define REORDER_TICKS 25
#define REORDER_MAX (1u << 21)
/* Events buffered before the first release when the seq counter does not
 * visibly start at 0 or 1. */
#define START_WINDOW 4096
/* The timeline keeps at most this many points per process. */
#define TIMELINE_MAX 2000

#define NO_STACK UINT32_MAX
/* The stack field of a buffered WINDOW mark (key 2 * seq, as a tick). */
#define MARK_STACK (UINT32_MAX - 1)
/* No allocation can be larger (user address space is 2^47 bytes on x86-64);
 * a larger size is damage, and ignoring it keeps the sums meaningful. */
#define MAX_SIZE ((uint64_t)1 << 48)

/* A buffered event. key = 2 * seq + 1 for allocation events and 2 * seq for
 * ticks, so that a tick with seq T replays after every event below T and
 * before the event numbered T. */
struct hev {
	uint64_t key;
	uint64_t a;	/* ALLOC/REALLOC: new ptr; FREE: ptr; TICK: time */
	uint64_t b;	/* ALLOC/REALLOC: size; TICK: rss */
	uint64_t c;	/* REALLOC: old ptr (0 for a plain allocation) */
	uint32_t stack; /* NO_STACK for FREE */
	int32_t tid;
};

struct hblock {
	uint64_t ptr; /* 0: empty slot */
	uint64_t size;
	uint32_t stack;
	int32_t tid;
};

/* A stack's live bytes during the replay: its live bytes, its live bytes at
 * the peak (see SNAP_EPOCH) and the epoch of that snapshot. They are kept in
 * the three weights of the profile's stack they will be replaced by at the
 * end (its leaked bytes and blocks and its bytes at the peak), which nothing
 * reads before: a stack of the replay costs nothing beyond the profile's own
 * (an array beside it cost 24 bytes a stack, a tenth of fathom mem's memory
 * on a million distinct stacks). Its calls, bytes and temporaries of an
 * exact recording are counted straight into the weights too. A sampled
 * recording's estimates are fractions: they add up in `est` and are rounded
 * into the weights at the end. */
#define LIVE FA_LEAKED_BYTES
#define SNAP FA_LEAKED_BLOCKS
#define SNAP_EPOCH FA_PEAK_BYTES

struct hthread {
	int32_t tid;   /* 0: empty slot */
	uint64_t last; /* the pointer of this thread's last allocation, 0 if none */
};

struct tlpoint {
	uint64_t time;
	int64_t heap, rss;
};

struct heap {
	uint64_t sample_bytes;

	/* reorder buffer */
	struct hev *q;
	size_t nq, capq;
	bool started; /* next_seq is known */
	uint64_t next_seq;
	uint64_t tick_seq[REORDER_TICKS]; /* seq of the last ticks in file order */
	unsigned nticks_seen;
	uint64_t late; /* events that arrived after a later seq had been replayed */

	/* live blocks: open addressing, linear probing, backward-shift deletion */
	struct hblock *blocks;
	size_t nblocks, capblocks; /* capblocks is a power of two */

	size_t capstacks,
	    maxstack;	   /* capstacks: est's, in stacks; maxstack: one past the largest index used */
	struct profile *p; /* whose stacks' weights the counts go to */
	double *est;	   /* sampled only: per stack, estimated calls then bytes */
	uint64_t bad_stack_events; /* allocations at stacks the profile does not have */

	struct hthread *threads;
	size_t nthreads, capthreads;
	struct hthread *last_th; /* the thread of the previous lookup: events come in runs */

	/* totals, estimates */
	/* Counts as recorded, in integers (the exact answer, and fast), and their
	 * estimates in sampled mode. */
	uint64_t n_calls, n_bytes, n_frees, n_temp;
	uint64_t n_hist_calls[FA_HIST_BUCKETS], n_hist_bytes[FA_HIST_BUCKETS];
	double calls, bytes, frees;
	double hist_calls[FA_HIST_BUCKETS], hist_bytes[FA_HIST_BUCKETS];
	uint64_t unknown_frees, dup_allocs, bad_sizes;
	int64_t live;

	/* peak */
	int64_t peak;
	uint64_t epoch, peak_seq;
	bool peak_seen;
	uint64_t first_seq, last_seq; /* of the allocation events replayed */
	bool any_seq;
	/* the ticks around the peak, for its time: (t0, s0) before, (t1, s1) after */
	bool have_tick, peak_t1_pending;
	uint64_t tick_time, tick_sq;
	int64_t tick_rss;
	uint64_t pk_t0, pk_s0, pk_t1, pk_s1;
	int64_t pk_rss;

	/* timeline: full points, plus one bucket being filled when stride > 1 */
	struct tlpoint *tl;
	size_t ntl;
	size_t stride, inbucket;
	struct tlpoint bucket;

	/* WINDOW marks replayed: the live heap at each (p->procs[].marks[idx]);
	 * paused: a STOP was replayed and no START since. */
	struct hmark {
		size_t idx;
		int64_t bytes, blocks;
		int64_t calls, alloc_bytes, frees; /* so far (FA_MARK_AT, FA_MARK_FROM) */
		struct fa_mark_live *live;
		size_t nlive;
	} * marks;
	size_t nmarks;
	bool paused;
	int64_t paused_bytes, paused_blocks;

	int err; /* first allocation failure, reported by later calls */
};

/* ---- weights ---- */

/* The bytes one recorded allocation of `size` stands for. */
static inline double est_bytes(const struct heap *h, uint64_t size)
{
	if (!h->sample_bytes || !size)
		return (double)size;
	double x = (double)size / (double)h->sample_bytes;
	return (double)size / -expm1(-x);
}

/* The allocation calls one recorded allocation of `size` stands for. */
static inline double est_calls(const struct heap *h, uint64_t size)
{
	if (!h->sample_bytes || !size)
		return 1;
	double x = (double)size / (double)h->sample_bytes;
	return 1 / -expm1(-x);
}

/* The live-heap weight of a block: an integer, so that what an allocation
 * adds its free takes away exactly. */
static inline int64_t live_weight(const struct heap *h, uint64_t size)
{
	if (!h->sample_bytes)
		return (int64_t)size;
	return llround(est_bytes(h, size));
}

/* A weight: as recorded for an exact recording, the estimate for a sampled one. */
static inline int64_t pick(const struct heap *h, uint64_t recorded, double estimate)
{
	return h->sample_bytes ? llround(estimate) : (int64_t)recorded;
}

/* Stack s's weights, NULL when the profile does not have it. */
static inline int64_t *stack_w(const struct heap *h, uint32_t s)
{
	return s < h->p->nstacks ? h->p->stacks[s].w : NULL;
}

/* Two's-complement addition: damaged input may overflow a sum, which must
 * give a wrong figure, never undefined behaviour. */
static inline int64_t wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* Changes a stack's live bytes, first saving what it held at the current peak. */
static inline void stack_live_add(struct heap *h, int64_t *w, int64_t d)
{
	if (!w)
		return;
	if ((uint64_t)w[SNAP_EPOCH] != h->epoch) {
		w[SNAP] = w[LIVE];
		w[SNAP_EPOCH] = (int64_t)h->epoch;
	}
	w[LIVE] = wrap_add(w[LIVE], d);
}

/* Takes the live heap at WINDOW mark idx (FD_WIN_*, FA_MARK_* what);
 * failures are kept in h->err. */
void heap_replay_mark(struct heap *h, size_t idx, int what);
/* Replays every event still buffered, whatever is missing before it. */
void heap_flush(struct heap *h);

#endif
