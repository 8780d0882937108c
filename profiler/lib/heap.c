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
#include <stdlib.h>
#include <string.h>

#include "heap-int.h"

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

/* The size histogram's bucket of an allocation of `size`. */
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

static void replay(struct heap *h, const struct hev *e)
{
	uint64_t seq = e->key >> 1;
	if (!(e->key & 1) && e->stack == MARK_STACK)
		heap_replay_mark(h, (size_t)e->a, (int)e->b);
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

void heap_flush(struct heap *h)
{
	struct hev e;
	while (h->nq) {
		q_pop(h, &e);
		release(h, &e);
	}
}
