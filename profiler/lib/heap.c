/* Heap replay: puts one process's allocation events back into the agent's
 * global sequence order and replays them, giving exact (or, for a sampled
 * recording, unbiased estimated) leaks, the peak and who held it, temporary
 * allocations, a size histogram and a heap timeline.
 *
 * Ordering. Events arrive in file order: in order per thread, but interleaved
 * across threads by ring drains, so an event can appear after events with
 * larger sequence numbers. They wait in a min-heap keyed by seq and are
 * released when safe: at once when the smallest buffered seq is the next one
 * expected (the agent's counter has no gaps in an exact recording), otherwise
 * when the agent has moved REORDER_TICKS ticks past it (a tick with seq T says
 * every event below T had its number by then, and each drain cycle writes
 * what was pending), or when the buffer holds REORDER_MAX events, and at the
 * end. Memory therefore depends on live blocks, distinct stacks and that
 * constant window, never on the number of events.
 *
 * Temporaries. A block is temporary when the thread that allocated it frees it
 * and that thread made no other allocation (malloc, realloc, ...) between the
 * two calls. Per thread, because other threads' allocations interleave by
 * chance: a global rule would make the count depend on scheduling, while the
 * per-thread one finds the allocate-use-free pattern a programmer can remove.
 * The check is by pointer identity (the freed pointer is the thread's last
 * allocation), not heaptrack's comparison of size and stack. A block released
 * by realloc is not a temporary; the block a realloc returns can be.
 * A sampled recording has no temporaries: it sees one allocation in
 * hundreds, so "nothing else allocated in between" cannot be told from the
 * dump (every sampled block freed before the thread's next *sampled*
 * allocation looked temporary: 100% of calls on sqlite3, where an exact
 * recording finds 3.8%). The count stays 0 and the model marks it unknown.
 *
 * Peak. The largest live-heap total, with the bytes each stack held at that
 * moment, kept in O(1) per event by lazy snapshots: a new peak bumps an epoch,
 * and a stack copies its live bytes into its snapshot before its first change
 * in a newer epoch.
 *
 * Sampled recordings. An allocation of size s that the agent sampled with a
 * mean interval of R bytes had probability 1 - exp(-s/R) of being recorded, so
 * it stands for s / (1 - exp(-s/R)) bytes and that divided by s calls (the
 * estimator of tcmalloc and pprof). Every memory weight is scaled this way. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct heap *heap_new(uint64_t sample_bytes, struct profile *p)
{
	struct heap *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->p = p;
	/* A sampling interval beyond 1 TiB is damage; bounding it keeps every
	 * estimate (about size + interval) far from overflowing. */
	h->sample_bytes = sample_bytes < ((uint64_t)1 << 40) ? sample_bytes : (uint64_t)1 << 40;
	h->capblocks = 1024;
	h->blocks = calloc(h->capblocks, sizeof(*h->blocks));
	h->capthreads = 64;
	h->threads = calloc(h->capthreads, sizeof(*h->threads));
	h->tl = malloc(TIMELINE_MAX * sizeof(*h->tl));
	h->stride = 1;
	if (!h->blocks || !h->threads || !h->tl) {
		free(h->blocks);
		free(h->threads);
		free(h->tl);
		free(h);
		return NULL;
	}
	return h;
}

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

static inline unsigned hist_bucket(uint64_t size)
{
	if (!size)
		return 0;
	unsigned b = 64 - (unsigned)__builtin_clzll(size);
	return b < FA_HIST_BUCKETS ? b : FA_HIST_BUCKETS - 1;
}

/* ---- per-stack state ---- */

/* Makes room for stack s in est; returns -ENOMEM (also kept in h->err) on failure. */
static __attribute__((noinline)) int est_grow(struct heap *h, uint32_t s)
{
	size_t cap = h->capstacks ? h->capstacks : 256;
	while (cap <= s)
		cap *= 2;
	double *e = realloc(h->est, 2 * cap * sizeof(*e));
	if (!e)
		return h->err = -ENOMEM;
	memset(e + 2 * h->capstacks, 0, 2 * (cap - h->capstacks) * sizeof(*e));
	h->est = e;
	h->capstacks = cap;
	return 0;
}

/* Stack s gets an allocation: its weights (its replay state in LIVE, SNAP,
 * SNAP_EPOCH), NULL for a stack the profile does not have (whose weights are
 * dropped). *ok is false when out of memory. The loader makes a stack before
 * it gives the replay an event of it, so a stack never turns from unknown to
 * known between an allocation and its free. */
static inline int64_t *stack_get(struct heap *h, uint32_t s, bool *ok)
{
	*ok = !(h->sample_bytes && s >= h->capstacks && est_grow(h, s));
	if (s >= h->maxstack)
		h->maxstack = (size_t)s + 1;
	return s < h->p->nstacks ? h->p->stacks[s].w : NULL;
}

/* Stack s's weights, NULL when the profile does not have it. */
static inline int64_t *stack_w(const struct heap *h, uint32_t s)
{
	return s < h->p->nstacks ? h->p->stacks[s].w : NULL;
}

/* Changes a stack's live bytes, first saving what it held at the current peak. */
/* Two's-complement addition: damaged input may overflow a sum, which must
 * give a wrong figure, never undefined behaviour. */
static inline int64_t wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

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

/* ---- threads ---- */

static inline size_t hash_u64(uint64_t v, size_t cap)
{
	return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static struct hthread *thread_lookup(struct heap *h, int32_t tid);

static inline struct hthread *thread_get(struct heap *h, int32_t tid)
{
	if (tid == 0)
		tid = -1; /* 0 marks an empty slot; no real thread has id 0 */
	if (h->last_th && h->last_th->tid == tid)
		return h->last_th;
	return thread_lookup(h, tid);
}

static __attribute__((noinline)) struct hthread *thread_lookup(struct heap *h, int32_t tid)
{
	if (2 * (h->nthreads + 1) > h->capthreads) {
		size_t cap = h->capthreads * 2;
		struct hthread *n = calloc(cap, sizeof(*n));
		if (!n) {
			h->err = -ENOMEM;
			return NULL;
		}
		for (size_t i = 0; i < h->capthreads; i++) {
			if (!h->threads[i].tid)
				continue;
			size_t j = hash_u64((uint64_t)(uint32_t)h->threads[i].tid, cap);
			while (n[j].tid)
				j = (j + 1) & (cap - 1);
			n[j] = h->threads[i];
		}
		free(h->threads);
		h->threads = n;
		h->capthreads = cap;
		h->last_th = NULL;
	}
	size_t j = hash_u64((uint64_t)(uint32_t)tid, h->capthreads);
	while (h->threads[j].tid && h->threads[j].tid != tid)
		j = (j + 1) & (h->capthreads - 1);
	if (!h->threads[j].tid) {
		h->threads[j].tid = tid;
		h->threads[j].last = 0;
		h->nthreads++;
	}
	return h->last_th = &h->threads[j];
}

/* ---- live blocks ---- */

static inline size_t block_slot(const struct heap *h, uint64_t ptr)
{
	return hash_u64(ptr >> 4, h->capblocks);
}

static inline struct hblock *block_find(struct heap *h, uint64_t ptr)
{
	size_t mask = h->capblocks - 1;
	for (size_t j = block_slot(h, ptr);; j = (j + 1) & mask) {
		if (h->blocks[j].ptr == ptr)
			return &h->blocks[j];
		if (!h->blocks[j].ptr)
			return NULL;
	}
}

static int blocks_grow(struct heap *h)
{
	size_t cap = h->capblocks * 2;
	struct hblock *n = calloc(cap, sizeof(*n));
	if (!n)
		return h->err = -ENOMEM;
	struct hblock *old = h->blocks;
	size_t oldcap = h->capblocks;
	h->blocks = n;
	h->capblocks = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].ptr)
			continue;
		size_t j = block_slot(h, old[i].ptr);
		while (n[j].ptr)
			j = (j + 1) & (cap - 1);
		n[j] = old[i];
	}
	free(old);
	return 0;
}

/* Inserts a block whose pointer is not in the table. */
static struct hblock *block_insert(struct heap *h, uint64_t ptr)
{
	if (4 * (h->nblocks + 1) > 3 * h->capblocks && blocks_grow(h))
		return NULL;
	size_t mask = h->capblocks - 1;
	size_t j = block_slot(h, ptr);
	while (h->blocks[j].ptr)
		j = (j + 1) & mask;
	h->blocks[j].ptr = ptr;
	h->nblocks++;
	return &h->blocks[j];
}

/* Removes the block at *b by shifting later members of its probe run back. */
static inline void block_remove(struct heap *h, struct hblock *b)
{
	size_t mask = h->capblocks - 1;
	size_t i = (size_t)(b - h->blocks);
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!h->blocks[j].ptr)
			break;
		size_t home = block_slot(h, h->blocks[j].ptr);
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			h->blocks[i] = h->blocks[j];
			i = j;
		}
	}
	h->blocks[i].ptr = 0;
	h->nblocks--;
}

/* ---- replay ---- */

static void note_peak(struct heap *h, uint64_t seq)
{
	if (h->live <= h->peak && h->peak_seen)
		return;
	h->peak = h->live;
	h->peak_seen = true;
	h->epoch++;
	h->peak_seq = seq;
	if (h->have_tick) {
		h->pk_t0 = h->tick_time;
		h->pk_s0 = h->tick_sq;
		h->pk_rss = h->tick_rss;
	} else {
		/* Before the first tick: the process's start, at the first seq. */
		h->pk_t0 = 0;
		h->pk_s0 = h->first_seq;
		h->pk_rss = 0;
	}
	h->peak_t1_pending = true;
}

/* Releases a live block: its bytes leave the heap and its stack. */
static inline __attribute__((always_inline)) void release_block(struct heap *h, struct hblock *b)
{
	int64_t w = live_weight(h, b->size);
	stack_live_add(h, stack_w(h, b->stack), -w);
	h->live = wrap_add(h->live, -w);
	block_remove(h, b);
}

/* Allocated twice without a free between (an event was lost): the old block
 * goes, then the new one takes a slot. */
static __attribute__((noinline)) struct hblock *block_replace(struct heap *h, uint64_t ptr)
{
	struct hblock *b = block_find(h, ptr);
	if (b) {
		h->dup_allocs++;
		release_block(h, b);
	}
	return block_insert(h, ptr);
}

/* The slot for a new live block at ptr. Nearly always the table has room and
 * ptr is not live: then the probe that finds ptr absent also finds the slot
 * block_insert() would take, and one probe does both. */
static inline __attribute__((always_inline)) struct hblock *block_new(struct heap *h, uint64_t ptr)
{
	if (4 * (h->nblocks + 1) <= 3 * h->capblocks) {
		size_t mask = h->capblocks - 1;
		size_t j = block_slot(h, ptr);
		while (h->blocks[j].ptr && h->blocks[j].ptr != ptr)
			j = (j + 1) & mask;
		if (!h->blocks[j].ptr) {
			h->blocks[j].ptr = ptr;
			h->nblocks++;
			return &h->blocks[j];
		}
	}
	return block_replace(h, ptr);
}

/* Adds a block allocated by tid at stack: counts the call and its bytes. */
static inline __attribute__((always_inline)) void add_block(struct heap *h, int32_t tid, uint32_t stack,
							    uint64_t size, uint64_t ptr)
{
	bool ok;
	int64_t *w = stack_get(h, stack, &ok);
	if (!ok)
		return;
	unsigned hb = hist_bucket(size);
	if (!w) {
		h->bad_stack_events++;
	} else if (!h->sample_bytes) {
		w[FA_ALLOC_CALLS] = wrap_add(w[FA_ALLOC_CALLS], 1);
		w[FA_ALLOC_BYTES] = wrap_add(w[FA_ALLOC_BYTES], (int64_t)size);
	}
	h->n_calls++;
	h->n_bytes += size;
	h->n_hist_calls[hb]++;
	h->n_hist_bytes[hb] += size;
	if (h->sample_bytes) {
		double calls = est_calls(h, size), bytes = est_bytes(h, size);
		h->est[2 * (size_t)stack] += calls;
		h->est[2 * (size_t)stack + 1] += bytes;
		h->calls += calls;
		h->bytes += bytes;
		h->hist_calls[hb] += calls;
		h->hist_bytes[hb] += bytes;
	}

	struct hthread *th = thread_get(h, tid);
	if (th)
		th->last = ptr;
	if (!ptr)
		return; /* a failed call, or realloc(p, 0): nothing is live */

	struct hblock *b = block_new(h, ptr);
	if (!b)
		return;
	b->size = size;
	b->stack = stack;
	b->tid = tid;
	int64_t lw = live_weight(h, size);
	stack_live_add(h, w, lw);
	h->live = wrap_add(h->live, lw);
}

static inline void note_seq(struct heap *h, uint64_t seq)
{
	if (seq >= h->last_seq)
		h->last_seq = seq;
	if (!h->any_seq || seq < h->first_seq) {
		h->first_seq = seq;
		h->any_seq = true;
	}
}

/* A tick: one timeline point, and a time for the peak if it is pending. */
static __attribute__((noinline)) void replay_tick(struct heap *h, uint64_t seq, uint64_t time, int64_t rss)
{
	if (h->peak_t1_pending && seq >= h->peak_seq) {
		h->pk_t1 = time;
		h->pk_s1 = seq;
		h->peak_t1_pending = false;
	}
	h->have_tick = true;
	h->tick_time = time;
	h->tick_sq = seq;
	h->tick_rss = rss;
	struct tlpoint pt = {time, h->live, rss};
	if (h->stride == 1) {
		h->tl[h->ntl++] = pt;
	} else {
		if (!h->inbucket || pt.heap > h->bucket.heap) {
			h->bucket.time = pt.time;
			h->bucket.heap = pt.heap;
		}
		if (!h->inbucket || pt.rss > h->bucket.rss)
			h->bucket.rss = pt.rss;
		if (++h->inbucket == h->stride) {
			h->tl[h->ntl++] = h->bucket;
			h->inbucket = 0;
		}
	}
	if (h->ntl == TIMELINE_MAX) {
		/* Halve: merge neighbours, keeping the higher heap (and its time)
		 * and the higher RSS, so that no maximum is lost. */
		size_t n = 0;
		for (size_t i = 0; i + 1 < h->ntl; i += 2) {
			struct tlpoint m = h->tl[i].heap >= h->tl[i + 1].heap ? h->tl[i] : h->tl[i + 1];
			m.rss = h->tl[i].rss > h->tl[i + 1].rss ? h->tl[i].rss : h->tl[i + 1].rss;
			h->tl[n++] = m;
		}
		h->ntl = n;
		h->stride *= 2;
	}
}

static inline __attribute__((always_inline)) void replay_free(struct heap *h, uint64_t seq, int32_t tid,
							      uint64_t ptr)
{
	note_seq(h, seq);
	struct hblock *b = block_find(h, ptr);
	if (!b) {
		h->unknown_frees++;
		return;
	}
	h->n_frees++;
	if (h->sample_bytes)
		h->frees += est_calls(h, b->size);
	struct hthread *th = thread_get(h, tid);
	if (th && th->last == ptr) {
		if (b->tid == tid && !h->sample_bytes) {
			h->n_temp++;
			if (b->stack < h->p->nstacks)
				h->p->stacks[b->stack].w[FA_TEMP_CALLS] =
				    wrap_add(h->p->stacks[b->stack].w[FA_TEMP_CALLS], 1);
		}
		th->last = 0;
	}
	release_block(h, b);
}

/* An allocation, or a realloc of old (0 for a plain allocation). */
static inline __attribute__((always_inline)) void replay_alloc(struct heap *h, uint64_t seq, int32_t tid,
							       uint32_t stack, uint64_t size, uint64_t ptr,
							       uint64_t old)
{
	note_seq(h, seq);
	if (size > MAX_SIZE) {
		h->bad_sizes++;
		return;
	}
	if (old) {
		/* realloc: the old block goes, atomically with the new one's arrival. */
		struct hblock *b = block_find(h, old);
		if (b) {
			if (!ptr && size) {
				/* A failed realloc leaves the old block alone. */
				add_block(h, tid, stack, size, 0);
				return;
			}
			release_block(h, b);
		}
	}
	add_block(h, tid, stack, size, ptr);
	note_peak(h, seq);
}

static int64_t pick(const struct heap *h, uint64_t recorded, double estimate);

/* What stack s has allocated so far in the replay (metric FA_ALLOC_CALLS or
 * FA_ALLOC_BYTES): an exact recording's counts go straight into the
 * profile's stack weights as they come, a sampled one's estimates add up
 * in est. */
static int64_t stack_so_far(const struct heap *h, size_t s, int metric)
{
	if (h->sample_bytes)
		return s < h->capstacks ? llround(h->est[2 * s + (metric == FA_ALLOC_BYTES)]) : 0;
	return s < h->p->nstacks ? h->p->stacks[s].w[metric] : 0;
}

/* A WINDOW mark: the live heap now, by stack. At a START after a STOP, the
 * blocks still live are set aside: their frees while paused went unseen, so
 * from now on only what this window allocates is followed (their later
 * frees count as unknown). */
static __attribute__((noinline)) void replay_mark(struct heap *h, size_t idx, int what)
{
	struct hmark *mk = realloc(h->marks, (h->nmarks + 1) * sizeof(*mk));
	double *bytes = h->maxstack ? calloc(h->maxstack, sizeof(double)) : NULL;
	double *blocks = h->maxstack ? calloc(h->maxstack, sizeof(double)) : NULL;
	if (mk)
		h->marks = mk;
	if (!mk || (h->maxstack && (!bytes || !blocks))) {
		free(bytes);
		free(blocks);
		h->err = -ENOMEM;
		return;
	}
	mk = &h->marks[h->nmarks++];
	*mk = (struct hmark){.idx = idx};
	double tb = 0, tn = 0;
	size_t nz = 0;
	for (size_t i = 0; i < h->capblocks; i++) {
		const struct hblock *b = &h->blocks[i];
		if (!b->ptr || b->stack >= h->maxstack)
			continue;
		double w = (double)live_weight(h, b->size), n = est_calls(h, b->size);
		nz += !blocks[b->stack];
		bytes[b->stack] += w;
		blocks[b->stack] += n;
		tb += w;
		tn += n;
	}
	mk->bytes = llround(tb);
	mk->blocks = llround(tn);
	/* The ends of a time range (fathom mem --at, --from) also keep what
	 * each stack had allocated so far: what a range allocated is the
	 * difference. */
	bool range = what == FA_MARK_AT || what == FA_MARK_FROM;
	if (range) {
		mk->calls = pick(h, h->n_calls, h->calls);
		mk->alloc_bytes = pick(h, h->n_bytes, h->bytes);
		mk->frees = pick(h, h->n_frees, h->frees);
		for (size_t s = 0; s < h->maxstack; s++)
			nz += !blocks[s] && stack_so_far(h, s, FA_ALLOC_CALLS);
	}
	if (nz && (what == FD_WIN_SNAPSHOT || range)) {
		if (!(mk->live = malloc(nz * sizeof(*mk->live)))) {
			h->err = -ENOMEM;
			nz = 0;
		}
		for (size_t s = 0; s < h->maxstack && mk->nlive < nz; s++) {
			if (!blocks[s] && !(range && stack_so_far(h, s, FA_ALLOC_CALLS)))
				continue;
			struct fa_mark_live *l = &mk->live[mk->nlive++];
			*l = (struct fa_mark_live){(uint32_t)s, llround(bytes[s]), llround(blocks[s]), 0, 0};
			if (range) {
				l->calls = stack_so_far(h, s, FA_ALLOC_CALLS);
				l->alloc_bytes = stack_so_far(h, s, FA_ALLOC_BYTES);
			}
		}
	}
	free(bytes);
	free(blocks);
	if (what == FD_WIN_STOP)
		h->paused = true;
	if (what == FD_WIN_START && h->paused) {
		h->paused = false;
		h->paused_bytes += mk->bytes;
		h->paused_blocks += mk->blocks;
		for (size_t i = 0; i < h->capblocks; i++) {
			struct hblock *b = &h->blocks[i];
			if (b->ptr)
				stack_live_add(h, stack_w(h, b->stack), -live_weight(h, b->size));
		}
		memset(h->blocks, 0, h->capblocks * sizeof(*h->blocks));
		h->nblocks = 0;
		h->live = 0;
		for (size_t i = 0; i < h->capthreads; i++)
			h->threads[i].last = 0;
	}
}

static void replay(struct heap *h, const struct hev *e)
{
	uint64_t seq = e->key >> 1;
	if (!(e->key & 1) && e->stack == MARK_STACK)
		replay_mark(h, (size_t)e->a, (int)e->b);
	else if (!(e->key & 1))
		replay_tick(h, seq, e->a, (int64_t)e->b);
	else if (e->stack == NO_STACK)
		replay_free(h, seq, e->tid, e->a);
	else
		replay_alloc(h, seq, e->tid, e->stack, e->b, e->a, e->c);
}

/* ---- reorder buffer ---- */

static int q_push(struct heap *h, const struct hev *e)
{
	if (h->nq == h->capq) {
		size_t cap = h->capq ? h->capq * 2 : 1024;
		struct hev *n = realloc(h->q, cap * sizeof(*n));
		if (!n)
			return h->err = -ENOMEM;
		h->q = n;
		h->capq = cap;
	}
	size_t i = h->nq++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (h->q[up].key <= e->key)
			break;
		h->q[i] = h->q[up];
		i = up;
	}
	h->q[i] = *e;
	return 0;
}

static void q_pop(struct heap *h, struct hev *out)
{
	*out = h->q[0];
	struct hev last = h->q[--h->nq];
	size_t n = h->nq, i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && h->q[c + 1].key < h->q[c].key)
			c++;
		if (last.key <= h->q[c].key)
			break;
		h->q[i] = h->q[c];
		i = c;
	}
	if (n)
		h->q[i] = last;
}

/* Replays a released event and advances the expected sequence number. */
static void release(struct heap *h, const struct hev *e)
{
	uint64_t seq = e->key >> 1;
	if (e->key & 1) {
		if (h->started && seq < h->next_seq)
			h->late++;
		if (!h->started || seq + 1 > h->next_seq)
			h->next_seq = seq + 1;
	} else if (!h->started || seq > h->next_seq) {
		h->next_seq = seq;
	}
	h->started = true;
	replay(h, e);
}

/* Releases what is in order, then whatever the limits force out. */
static void q_drain(struct heap *h, uint64_t force_below_key)
{
	struct hev e;
	while (h->nq) {
		uint64_t k = h->q[0].key;
		if (!h->started && ((k >> 1) <= 1 || h->nq >= START_WINDOW)) {
			/* The first release: a counter that starts at 0 or 1, or, in a
			 * forked child whose counter continues the parent's, the
			 * smallest seq of the first window of events. */
			h->started = true;
			h->next_seq = k >> 1;
		}
		bool ready = h->started && (k >> 1) <= h->next_seq;
		if (!ready && k >= force_below_key && h->nq <= REORDER_MAX)
			break;
		q_pop(h, &e);
		release(h, &e);
	}
}

static int submit(struct heap *h, const struct hev *e)
{
	if (h->err)
		return h->err;
	uint64_t seq = e->key >> 1;
	/* The common case: the next event in order with nothing waiting. */
	if (!h->nq && h->started && ((e->key & 1) ? seq == h->next_seq : seq <= h->next_seq)) {
		release(h, e);
		return h->err;
	}
	if (h->started && (e->key & 1) && seq < h->next_seq) {
		/* Too late for its place: replay it now rather than never. */
		release(h, e);
		return h->err;
	}
	if (q_push(h, e))
		return h->err;
	q_drain(h, 0);
	return h->err;
}

/* The common case: the next event in order with nothing waiting. */
static inline bool in_order(const struct heap *h, uint64_t seq)
{
	return !h->nq && h->started && seq == h->next_seq && !h->err;
}

int heap_alloc(struct heap *h, uint64_t seq, int tid, uint32_t stack, uint64_t size, uint64_t ptr)
{
	if (stack == NO_STACK)
		return -EINVAL;
	if (in_order(h, seq)) {
		h->next_seq++;
		replay_alloc(h, seq, tid, stack, size, ptr, 0);
		return h->err;
	}
	struct hev e = {2 * seq + 1, ptr, size, 0, stack, tid};
	return submit(h, &e);
}

int heap_free(struct heap *h, uint64_t seq, int tid, uint64_t ptr)
{
	if (!ptr)
		return h->err;
	if (in_order(h, seq)) {
		h->next_seq++;
		replay_free(h, seq, tid, ptr);
		return h->err;
	}
	struct hev e = {2 * seq + 1, ptr, 0, 0, NO_STACK, tid};
	return submit(h, &e);
}

int heap_realloc(struct heap *h, uint64_t seq, int tid, uint32_t stack, uint64_t size, uint64_t old_ptr,
		 uint64_t new_ptr)
{
	struct hev e = {2 * seq + 1, new_ptr, size, old_ptr, stack, tid};
	if (stack == NO_STACK)
		return -EINVAL;
	return submit(h, &e);
}

int heap_tick(struct heap *h, uint64_t time_ns, uint64_t seq, int64_t rss)
{
	struct hev e = {2 * seq, time_ns, (uint64_t)rss, 0, NO_STACK, 0};
	if (h->err)
		return h->err;
	/* In file order, a tick REORDER_TICKS ticks back marks a seq below which
	 * every event has been written: release up to it even across gaps. */
	uint64_t force = 0;
	if (h->nticks_seen >= REORDER_TICKS)
		force = 2 * h->tick_seq[h->nticks_seen % REORDER_TICKS];
	h->tick_seq[h->nticks_seen % REORDER_TICKS] = seq;
	h->nticks_seen++;
	if (q_push(h, &e))
		return h->err;
	q_drain(h, force);
	return h->err;
}

int heap_mark(struct heap *h, uint64_t seq, size_t idx, int what)
{
	struct hev e = {2 * seq, idx, (uint64_t)what, 0, MARK_STACK, 0};
	if (h->err)
		return h->err;
	if (q_push(h, &e))
		return h->err;
	q_drain(h, 0);
	return h->err;
}

/* ---- finish ---- */

static int add_warning(struct profile *p, const char *msg)
{
	char **n = realloc(p->warnings, (p->nwarnings + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->warnings = n;
	if (!(n[p->nwarnings] = strdup(msg)))
		return -ENOMEM;
	p->nwarnings++;
	return 0;
}

/* A weight: as recorded for an exact recording, the estimate for a sampled one. */
static int64_t pick(const struct heap *h, uint64_t recorded, double estimate)
{
	return h->sample_bytes ? llround(estimate) : (int64_t)recorded;
}

static uint64_t peak_time(const struct heap *h, uint64_t duration)
{
	uint64_t t0 = h->pk_t0, s0 = h->pk_s0, t1, s1;
	if (h->peak_t1_pending) {
		t1 = duration > t0 ? duration : t0;
		s1 = h->last_seq + 1;
	} else {
		t1 = h->pk_t1;
		s1 = h->pk_s1;
	}
	if (s1 <= s0 || t1 <= t0 || h->peak_seq <= s0)
		return t0;
	double f = (double)(h->peak_seq - s0) / (double)(s1 - s0);
	if (f > 1)
		f = 1;
	return t0 + (uint64_t)(f * (double)(t1 - t0));
}

static void heap_destroy(struct heap *h)
{
	for (size_t i = 0; i < h->nmarks; i++)
		free(h->marks[i].live);
	free(h->marks);
	free(h->q);
	free(h->blocks);
	free(h->est);
	free(h->threads);
	free(h->tl);
	free(h);
}

/* A double kept in a weight's 8 bytes while heap_finish sums leaks. */
static double w_double(int64_t v)
{
	double d;
	memcpy(&d, &v, sizeof(d));
	return d;
}

static void w_add_double(int64_t *v, double add)
{
	double d = w_double(*v) + add;
	memcpy(v, &d, sizeof(d));
}

int heap_finish(struct heap *h, struct profile *p, uint32_t proc)
{
	int ret = h->err;
	char msg[256];
	if (ret)
		goto out;
	struct hev e;
	while (h->nq) {
		q_pop(h, &e);
		release(h, &e);
	}
	if ((ret = h->err))
		goto out;
	if (h->inbucket)
		h->tl[h->ntl++] = h->bucket;

	/* Leaks: what is still live, by stack. Each of this process's stacks
	 * trades its replay state for its bytes at the peak (in SNAP_EPOCH's
	 * place) and the sums of its leaks, fractions in a sampled recording
	 * (doubles in LIVE's and SNAP's places), then for its final weights. */
	size_t nst = h->maxstack < p->nstacks ? h->maxstack : p->nstacks;
	for (size_t s = 0; s < nst; s++) {
		int64_t *w = p->stacks[s].w;
		if (p->stacks[s].proc != proc)
			continue; /* another process's: its own replay's */
		w[FA_PEAK_BYTES] = (uint64_t)w[SNAP_EPOCH] == h->epoch ? w[SNAP] : w[LIVE];
		w[FA_LEAKED_BYTES] = w[FA_LEAKED_BLOCKS] = 0; /* 0.0 */
	}
	double tot_leak_bytes = 0, tot_leak_blocks = 0;
	for (size_t i = 0; i < h->capblocks; i++) {
		const struct hblock *b = &h->blocks[i];
		if (!b->ptr)
			continue;
		double bytes = (double)live_weight(h, b->size), calls = est_calls(h, b->size);
		if (b->stack < nst && p->stacks[b->stack].proc == proc) {
			int64_t *w = p->stacks[b->stack].w;
			w_add_double(&w[FA_LEAKED_BYTES], bytes);
			w_add_double(&w[FA_LEAKED_BLOCKS], calls);
		}
		tot_leak_bytes += bytes;
		tot_leak_blocks += calls;
	}

	for (size_t s = 0; s < nst; s++) {
		int64_t *w = p->stacks[s].w;
		if (p->stacks[s].proc != proc)
			continue;
		int64_t at_peak = w[FA_PEAK_BYTES];
		double leak_bytes = w_double(w[FA_LEAKED_BYTES]), leak_blocks = w_double(w[FA_LEAKED_BLOCKS]);
		w[FA_LEAKED_BYTES] = w[FA_LEAKED_BLOCKS] = w[FA_PEAK_BYTES] = 0;
		if (h->sample_bytes) {
			w[FA_ALLOC_CALLS] = wrap_add(w[FA_ALLOC_CALLS], llround(h->est[2 * s]));
			w[FA_ALLOC_BYTES] = wrap_add(w[FA_ALLOC_BYTES], llround(h->est[2 * s + 1]));
		}
		if (!at_peak && !leak_blocks)
			continue;
		w[FA_LEAKED_BYTES] = llround(leak_bytes);
		w[FA_LEAKED_BLOCKS] = llround(leak_blocks);
		w[FA_PEAK_BYTES] = h->peak_seen ? at_peak : 0;
	}

	struct fa_mem *m = &p->mem;
	/* The combined scale: estimated bytes over recorded bytes, over every
	 * process read so far (an exact one counts with scale 1). */
	double prev_raw = m->scale > 0 ? (double)m->alloc_bytes / m->scale : (double)m->alloc_bytes;
	m->alloc_calls += (uint64_t)pick(h, h->n_calls, h->calls);
	m->alloc_bytes += (uint64_t)pick(h, h->n_bytes, h->bytes);
	m->frees += (uint64_t)pick(h, h->n_frees, h->frees);
	m->temp_calls += h->n_temp;
	m->leaked_bytes = wrap_add(m->leaked_bytes, llround(tot_leak_bytes));
	m->leaked_blocks = wrap_add(m->leaked_blocks, llround(tot_leak_blocks));
	for (int i = 0; i < FA_HIST_BUCKETS; i++) {
		m->hist_calls[i] += (uint64_t)pick(h, h->n_hist_calls[i], h->hist_calls[i]);
		m->hist_bytes[i] += (uint64_t)pick(h, h->n_hist_bytes[i], h->hist_bytes[i]);
	}
	double raw = prev_raw + (double)h->n_bytes;
	m->scale = raw > 0 ? (double)m->alloc_bytes / raw : 1;
	if (h->sample_bytes)
		m->sampled = m->temp_unknown = true;

	uint64_t duration = proc < p->nprocs ? p->procs[proc].duration_ns : 0;
	uint64_t pt = h->peak_seen ? peak_time(h, duration) : 0;
	if (h->peak_seen && (h->peak > m->peak_bytes || (m->peak_bytes == 0 && m->peak_time_ns == 0))) {
		m->peak_bytes = h->peak;
		m->peak_time_ns = pt;
		m->peak_proc = proc;
	}

	/* The timeline, with the peak as a point of its own in time order. */
	size_t add = h->ntl + (h->peak_seen ? 1 : 0);
	if (add) {
		struct fa_point *tl = realloc(p->timeline, (p->ntimeline + add) * sizeof(*tl));
		if (!tl) {
			ret = -ENOMEM;
			goto out;
		}
		p->timeline = tl;
		bool peak_done = !h->peak_seen;
		for (size_t i = 0; i < h->ntl; i++) {
			if (!peak_done && pt <= h->tl[i].time) {
				tl[p->ntimeline++] = (struct fa_point){proc, pt, h->peak, h->pk_rss};
				peak_done = true;
			}
			tl[p->ntimeline++] =
			    (struct fa_point){proc, h->tl[i].time, h->tl[i].heap, h->tl[i].rss};
		}
		if (!peak_done)
			tl[p->ntimeline++] = (struct fa_point){proc, pt, h->peak, h->pk_rss};
	}

	/* The marks' heaps go to their process. */
	if (proc < p->nprocs) {
		struct fa_process *pr = &p->procs[proc];
		for (size_t i = 0; i < h->nmarks; i++) {
			struct hmark *mk = &h->marks[i];
			if (mk->idx >= pr->nmarks)
				continue;
			struct fa_mark *fm = &pr->marks[mk->idx];
			fm->heap_known = true;
			fm->heap_bytes = mk->bytes;
			fm->heap_blocks = mk->blocks;
			fm->alloc_calls = mk->calls;
			fm->alloc_bytes = mk->alloc_bytes;
			fm->frees = mk->frees;
			free(fm->live);
			fm->live = mk->live;
			fm->nlive = mk->nlive;
			mk->live = NULL;
		}
		pr->frees_unknown += h->unknown_frees;
		pr->paused_live_bytes += h->paused_bytes;
		pr->paused_live_blocks += h->paused_blocks;
	}

	const char *name = proc < p->nprocs && p->procs[proc].path ? p->procs[proc].path : "recording";
	if (h->late || h->dup_allocs) {
		snprintf(msg, sizeof(msg),
			 "%s: %llu allocation events arrived too late to replay in order and %llu blocks "
			 "were allocated twice; leaks and the peak may be off",
			 name, (unsigned long long)h->late, (unsigned long long)h->dup_allocs);
		if ((ret = add_warning(p, msg)))
			goto out;
	}
	if (h->bad_sizes) {
		snprintf(msg, sizeof(msg),
			 "%s: %llu allocation events with impossible sizes (over 256 TiB) were ignored", name,
			 (unsigned long long)h->bad_sizes);
		if ((ret = add_warning(p, msg)))
			goto out;
	}
	if (h->bad_stack_events) {
		snprintf(msg, sizeof(msg),
			 "%s: %llu allocations were at stacks never defined; their weights are dropped", name,
			 (unsigned long long)h->bad_stack_events);
		if ((ret = add_warning(p, msg)))
			goto out;
	}
out:
	heap_destroy(h);
	return ret;
}
