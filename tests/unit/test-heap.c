/* Unit tests of the heap replay (heap.c): ordering across threads, realloc,
 * temporaries, the peak and who held it, leaks, the timeline and sampled
 * estimates, fed straight through the heap_* API. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "heap.h"

#define NSTACKS 64

/* A profile (fixture.h) of one process with NSTACKS empty stacks, for the
 * replay to weigh. */
static struct profile *prof_new(void)
{
	struct profile *p = malloc(sizeof(*p));
	assert_non_null(p);
	fx_init(p);
	uint32_t proc = fx_process(p, "test.fdump", 0, NULL, NULL);
	p->procs[proc].duration_ns = 1000000000;
	for (int i = 0; i < NSTACKS; i++)
		fx_stack(p, proc, 0, NULL);
	return p;
}

static void prof_free(struct profile *p)
{
	profile_free(p);
	free(p);
}

static int64_t W(struct profile *p, int s, int m)
{
	return p->stacks[s].w[m];
}

/* The simplest story: two blocks, one freed. */
static void test_basic(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	assert_int_equal(heap_alloc(h, 0, 10, 1, 100, 0x1000), 0);
	assert_int_equal(heap_alloc(h, 1, 10, 2, 50, 0x2000), 0);
	assert_int_equal(heap_free(h, 2, 10, 0x1000), 0);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 2);
	assert_int_equal(p->mem.alloc_bytes, 150);
	assert_int_equal(p->mem.frees, 1);
	assert_int_equal(p->mem.leaked_bytes, 50);
	assert_int_equal(p->mem.leaked_blocks, 1);
	assert_int_equal(p->mem.peak_bytes, 150);
	assert_int_equal(p->mem.temp_calls, 0);
	assert_int_equal(W(p, 1, FA_ALLOC_CALLS), 1);
	assert_int_equal(W(p, 2, FA_LEAKED_BYTES), 50);
	assert_int_equal(W(p, 1, FA_LEAKED_BYTES), 0);
	assert_int_equal(W(p, 1, FA_PEAK_BYTES), 100);
	assert_int_equal(W(p, 2, FA_PEAK_BYTES), 50);
	assert_false(p->mem.sampled);
	assert_true(fabs(p->mem.scale - 1) < 1e-12);
	assert_int_equal(p->mem.hist_calls[7], 1); /* 100 in [64, 128) */
	assert_int_equal(p->mem.hist_calls[6], 1); /* 50 in [32, 64) */
	assert_int_equal(p->mem.hist_bytes[7], 100);
	assert_int_equal(p->nwarnings, 0);
	prof_free(p);
}

/* Thread A allocates p, thread B frees it, thread C gets the same address from
 * malloc. The file holds C's event first (its ring was drained first). In
 * seq order the block C holds is the only leak. */
static void test_reuse_across_threads(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	assert_int_equal(heap_alloc(h, 3, 30, 3, 64, 0xa000), 0); /* C */
	assert_int_equal(heap_alloc(h, 1, 10, 1, 32, 0xa000), 0); /* A */
	assert_int_equal(heap_free(h, 2, 20, 0xa000), 0);	  /* B */
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 2);
	assert_int_equal(p->mem.frees, 1);
	assert_int_equal(p->mem.leaked_blocks, 1);
	assert_int_equal(p->mem.leaked_bytes, 64);
	assert_int_equal(W(p, 3, FA_LEAKED_BYTES), 64);
	assert_int_equal(W(p, 1, FA_LEAKED_BYTES), 0);
	assert_int_equal(p->mem.peak_bytes, 64);
	assert_int_equal(W(p, 3, FA_PEAK_BYTES), 64);
	assert_int_equal(W(p, 1, FA_PEAK_BYTES), 0);
	/* A freed block on another thread is not a temporary. */
	assert_int_equal(p->mem.temp_calls, 0);
	assert_int_equal(p->nwarnings, 0);
	prof_free(p);
}

static void test_realloc_cases(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	/* realloc(NULL, 10) is an allocation */
	assert_int_equal(heap_realloc(h, 0, 1, 1, 10, 0, 0x100), 0);
	/* in place: 10 -> 40 at stack 2 */
	assert_int_equal(heap_realloc(h, 1, 1, 2, 40, 0x100, 0x100), 0);
	/* move: 40 -> 100 at stack 3 */
	assert_int_equal(heap_realloc(h, 2, 1, 3, 100, 0x100, 0x200), 0);
	/* realloc(p, 0) frees */
	assert_int_equal(heap_alloc(h, 3, 1, 4, 7, 0x300), 0);
	assert_int_equal(heap_realloc(h, 4, 1, 5, 0, 0x300, 0), 0);
	/* a failed realloc keeps the old block */
	assert_int_equal(heap_realloc(h, 5, 1, 6, 1 << 30, 0x200, 0), 0);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 6);
	assert_int_equal(p->mem.alloc_bytes, 10 + 40 + 100 + 7 + 0 + (1 << 30));
	assert_int_equal(p->mem.leaked_blocks, 1);
	assert_int_equal(p->mem.leaked_bytes, 100);
	assert_int_equal(W(p, 3, FA_LEAKED_BYTES), 100);
	assert_int_equal(W(p, 3, FA_LEAKED_BLOCKS), 1);
	assert_int_equal(p->mem.peak_bytes, 107);
	assert_int_equal(W(p, 3, FA_PEAK_BYTES), 100);
	assert_int_equal(W(p, 4, FA_PEAK_BYTES), 7);
	assert_int_equal(W(p, 2, FA_PEAK_BYTES), 0);
	assert_int_equal(p->mem.temp_calls, 0);
	prof_free(p);
}

static void test_temporaries(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	uint64_t s = 100;
	/* 1: alloc, free at once: temporary */
	heap_alloc(h, s++, 1, 1, 8, 0x10);
	heap_free(h, s++, 1, 0x10);
	/* 2: another allocation of the thread between: not temporary */
	heap_alloc(h, s++, 1, 2, 8, 0x20);
	heap_alloc(h, s++, 1, 3, 8, 0x30);
	heap_free(h, s++, 1, 0x20);
	/* ... but the later one is freed with none between: temporary */
	heap_free(h, s++, 1, 0x30);
	/* 3: other threads' allocations in between do not count */
	heap_alloc(h, s++, 1, 4, 8, 0x40);
	heap_alloc(h, s++, 2, 5, 8, 0x50);
	heap_free(h, s++, 1, 0x40);
	/* 4: freed by another thread: not temporary */
	heap_free(h, s++, 1, 0x50);
	/* 5: a free of some older block between does not break it */
	heap_alloc(h, s++, 1, 6, 8, 0x60);
	heap_alloc(h, s++, 1, 7, 8, 0x70);
	heap_free(h, s++, 1, 0x60);
	heap_free(h, s++, 1, 0x70);
	/* 6: a realloc between is an allocation */
	heap_alloc(h, s++, 1, 8, 8, 0x80);
	heap_realloc(h, s++, 1, 9, 16, 0x90, 0x90);
	heap_free(h, s++, 1, 0x80);
	/* 7: the block a realloc returns can be temporary */
	heap_alloc(h, s++, 1, 10, 8, 0xa0);
	heap_realloc(h, s++, 1, 11, 32, 0xa0, 0xb0);
	heap_free(h, s++, 1, 0xb0);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(W(p, 1, FA_TEMP_CALLS), 1);
	assert_int_equal(W(p, 2, FA_TEMP_CALLS), 0);
	assert_int_equal(W(p, 3, FA_TEMP_CALLS), 1);
	assert_int_equal(W(p, 4, FA_TEMP_CALLS), 1);
	assert_int_equal(W(p, 5, FA_TEMP_CALLS), 0);
	assert_int_equal(W(p, 6, FA_TEMP_CALLS), 0);
	assert_int_equal(W(p, 7, FA_TEMP_CALLS), 1);
	assert_int_equal(W(p, 8, FA_TEMP_CALLS), 0);
	assert_int_equal(W(p, 10, FA_TEMP_CALLS), 0);
	assert_int_equal(W(p, 11, FA_TEMP_CALLS), 1);
	assert_int_equal(p->mem.temp_calls, 5);
	prof_free(p);
}

/* The peak and the stacks that held it, across later frees and reuse. */
static void test_peak(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	heap_tick(h, 0, 0, 1000);
	heap_alloc(h, 0, 1, 1, 1000, 0x1000); /* 1000 */
	heap_alloc(h, 1, 1, 2, 3000, 0x2000); /* 4000 */
	heap_free(h, 2, 1, 0x1000);	      /* 3000 */
	heap_tick(h, 100, 3, 2000);
	heap_alloc(h, 3, 1, 1, 500, 0x3000);  /* 3500 */
	heap_alloc(h, 4, 1, 3, 1000, 0x4000); /* 4500: the peak, seq 4 */
	heap_free(h, 5, 1, 0x2000);	      /* 1500 */
	heap_tick(h, 300, 7, 3000);
	heap_alloc(h, 7, 1, 2, 2000, 0x5000); /* 3500 */
	heap_free(h, 8, 1, 0x3000);	      /* 3000 */
	heap_alloc(h, 9, 1, 1, 100, 0x6000);  /* 3100 */
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.peak_bytes, 4500);
	assert_int_equal(W(p, 1, FA_PEAK_BYTES), 500);
	assert_int_equal(W(p, 2, FA_PEAK_BYTES), 3000);
	assert_int_equal(W(p, 3, FA_PEAK_BYTES), 1000);
	/* seq 4 between the ticks (100, seq 3) and (300, seq 7): a quarter of the way */
	assert_int_equal(p->mem.peak_time_ns, 150);
	assert_int_equal(p->mem.leaked_bytes, 3100);
	assert_int_equal(W(p, 1, FA_LEAKED_BYTES), 100);
	assert_int_equal(W(p, 2, FA_LEAKED_BYTES), 2000);
	assert_int_equal(W(p, 3, FA_LEAKED_BYTES), 1000);
	/* timeline: ticks at 0, 100, 300 plus the peak at 150 */
	assert_int_equal(p->ntimeline, 4);
	assert_int_equal(p->timeline[0].time_ns, 0);
	assert_int_equal(p->timeline[0].heap, 0);
	assert_int_equal(p->timeline[1].time_ns, 100);
	assert_int_equal(p->timeline[1].heap, 3000);
	assert_int_equal(p->timeline[1].rss, 2000);
	assert_int_equal(p->timeline[2].time_ns, 150);
	assert_int_equal(p->timeline[2].heap, 4500);
	assert_int_equal(p->timeline[3].time_ns, 300);
	assert_int_equal(p->timeline[3].heap, 1500);
	prof_free(p);
}

/* Many ticks: the timeline stays bounded and keeps the maximum. */
static void test_timeline_bounded(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	uint64_t seq = 0;
	for (int i = 0; i < 100000; i++) {
		heap_tick(h, (uint64_t)i * 1000, seq, 4096 + i);
		if (i == 77777) {
			heap_alloc(h, seq++, 1, 1, 1 << 20, 0x1000);
			heap_tick(h, (uint64_t)i * 1000 + 500, seq, 1);
			heap_free(h, seq++, 1, 0x1000);
		}
		heap_alloc(h, seq++, 1, 2, 16, 0x2000);
		heap_free(h, seq++, 1, 0x2000);
	}
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_true(p->ntimeline <= 2001);
	assert_true(p->ntimeline >= 1000);
	int64_t maxheap = 0, maxrss = 0;
	for (size_t i = 0; i < p->ntimeline; i++) {
		if (i)
			assert_true(p->timeline[i].time_ns >= p->timeline[i - 1].time_ns);
		if (p->timeline[i].heap > maxheap)
			maxheap = p->timeline[i].heap;
		if (p->timeline[i].rss > maxrss)
			maxrss = p->timeline[i].rss;
	}
	assert_int_equal(maxheap, 1 << 20);
	assert_int_equal(maxrss, 4096 + 99999);
	assert_int_equal(p->mem.peak_bytes, 1 << 20);
	prof_free(p);
}

/* ---- randomized: shuffled delivery against a straightforward reference ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct ev {
	int kind; /* 0 alloc, 1 free, 2 realloc */
	uint64_t seq;
	int tid;
	uint32_t stack;
	uint64_t size, ptr, old;
};

#define NTHR 4
#define NEV 200000
#define NADDR 64 /* few addresses, so that they are reused all the time */

/* Producer/consumer traffic over a small address pool: threads allocate,
 * free their own and each other's blocks, and realloc, so addresses move
 * between threads constantly. Returns the events in seq order. */
static struct ev *gen_events(size_t *n)
{
	struct ev *e = calloc(NEV, sizeof(*e));
	uint64_t owner_size[NADDR];
	bool live[NADDR];
	memset(live, 0, sizeof(live));
	uint64_t seq = 1;
	for (size_t i = 0; i < NEV; i++) {
		int tid = 100 + (int)(rnd() % NTHR);
		unsigned a = (unsigned)(rnd() % NADDR);
		uint64_t addr = 0x10000 + (uint64_t)a * 0x100;
		struct ev *x = &e[i];
		x->seq = seq++;
		x->tid = tid;
		x->stack = (uint32_t)(1 + (tid - 100) * 8 + rnd() % 8);
		if (!live[a]) {
			x->kind = 0;
			x->size = 1 + rnd() % 1000;
			x->ptr = addr;
			live[a] = true;
			owner_size[a] = x->size;
		} else if (rnd() % 4 == 0) {
			/* realloc, moving to a free address when one is found */
			unsigned b = (unsigned)(rnd() % NADDR);
			x->kind = 2;
			x->size = 1 + rnd() % 2000;
			x->old = addr;
			if (!live[b] || b == a) {
				live[a] = false;
				x->ptr = 0x10000 + (uint64_t)b * 0x100;
				live[b] = true;
				owner_size[b] = x->size;
			} else {
				x->ptr = addr;
				owner_size[a] = x->size;
			}
		} else {
			x->kind = 1;
			x->ptr = addr;
			live[a] = false;
		}
	}
	(void)owner_size;
	*n = NEV;
	return e;
}

struct ref {
	int64_t leaked_bytes, leaked_blocks, peak, temp;
	int64_t at_peak[NSTACKS], leak[NSTACKS], temps[NSTACKS];
};

/* The reference: a direct replay with arrays and a full copy at each peak. */
static void ref_replay(const struct ev *e, size_t n, struct ref *r)
{
	memset(r, 0, sizeof(*r));
	struct {
		bool live;
		uint64_t size;
		uint32_t stack;
		int tid;
	} blk[NADDR];
	memset(blk, 0, sizeof(blk));
	uint64_t last[NTHR] = {0};
	int64_t per[NSTACKS] = {0}, live = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ev *x = &e[i];
		int t = x->tid - 100;
		if (x->kind == 1 || x->kind == 2) {
			uint64_t ptr = x->kind == 1 ? x->ptr : x->old;
			unsigned a = (unsigned)((ptr - 0x10000) / 0x100);
			if (x->kind == 1 && last[t] == ptr) {
				if (blk[a].tid == x->tid) {
					r->temp++;
					r->temps[blk[a].stack]++;
				}
				last[t] = 0;
			}
			per[blk[a].stack] -= (int64_t)blk[a].size;
			live -= (int64_t)blk[a].size;
			blk[a].live = false;
		}
		if (x->kind == 0 || x->kind == 2) {
			unsigned a = (unsigned)((x->ptr - 0x10000) / 0x100);
			blk[a].live = true;
			blk[a].size = x->size;
			blk[a].stack = x->stack;
			blk[a].tid = x->tid;
			per[x->stack] += (int64_t)x->size;
			live += (int64_t)x->size;
			last[t] = x->ptr;
			if (live > r->peak) {
				r->peak = live;
				memcpy(r->at_peak, per, sizeof(per));
			}
		}
	}
	for (int a = 0; a < NADDR; a++) {
		if (!blk[a].live)
			continue;
		r->leaked_bytes += (int64_t)blk[a].size;
		r->leaked_blocks++;
		r->leak[blk[a].stack] += (int64_t)blk[a].size;
	}
}

static void feed(struct heap *h, const struct ev *x)
{
	int rc;
	if (x->kind == 0)
		rc = heap_alloc(h, x->seq, x->tid, x->stack, x->size, x->ptr);
	else if (x->kind == 1)
		rc = heap_free(h, x->seq, x->tid, x->ptr);
	else
		rc = heap_realloc(h, x->seq, x->tid, x->stack, x->size, x->old, x->ptr);
	assert_int_equal(rc, 0);
}

/* Delivers events as the agent's writer does: in drain rounds, each round
 * holding each thread's events of a window of seq numbers, threads in a
 * random order, with a tick per round. */
static size_t feed_like_writer(struct heap *h, const struct ev *e, size_t n, uint64_t window)
{
	uint64_t lo = 1, time = 0, maxseq = 0;
	size_t inversions = 0;
	while (lo <= e[n - 1].seq) {
		uint64_t hi = lo + window / 2 + rnd() % window;
		int order[NTHR];
		for (int t = 0; t < NTHR; t++)
			order[t] = t;
		for (int t = NTHR - 1; t > 0; t--) {
			int j = (int)(rnd() % (uint64_t)(t + 1)), tmp = order[t];
			order[t] = order[j];
			order[j] = tmp;
		}
		for (int k = 0; k < NTHR; k++)
			for (size_t i = lo - 1; i < n && e[i].seq < hi; i++)
				if (e[i].tid == 100 + order[k]) {
					feed(h, &e[i]);
					inversions += e[i].seq < maxseq;
					if (e[i].seq > maxseq)
						maxseq = e[i].seq;
				}
		time += 50000000;
		assert_int_equal(heap_tick(h, time, hi, 1 << 20), 0);
		lo = hi;
	}
	return inversions;
}

static void check_against_ref(struct profile *p, const struct ref *r, size_t nev)
{
	assert_int_equal(p->mem.alloc_calls + p->mem.frees, nev);
	assert_int_equal(p->mem.leaked_bytes, r->leaked_bytes);
	assert_int_equal(p->mem.leaked_blocks, r->leaked_blocks);
	assert_int_equal(p->mem.peak_bytes, r->peak);
	assert_int_equal(p->mem.temp_calls, r->temp);
	for (int s = 0; s < NSTACKS; s++) {
		assert_int_equal(W(p, s, FA_PEAK_BYTES), r->at_peak[s]);
		assert_int_equal(W(p, s, FA_LEAKED_BYTES), r->leak[s]);
		assert_int_equal(W(p, s, FA_TEMP_CALLS), r->temps[s]);
	}
	assert_int_equal(p->nwarnings, 0);
}

static void test_shuffled_matches_reference(void **state)
{
	(void)state;
	size_t n;
	struct ev *e = gen_events(&n);
	struct ref r;
	ref_replay(e, n, &r);
	assert_true(r.temp > 100); /* the generator makes all the cases */
	assert_true(r.peak > 0);

	/* In order, then delivered like the writer with small and large rounds. */
	uint64_t windows[] = {0, 16, 3000};
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		struct profile *p = prof_new();
		struct heap *h = heap_new(0, p);
		if (!windows[w])
			for (size_t i = 0; i < n; i++)
				feed(h, &e[i]);
		else /* the delivery really is out of order */
			assert_true(feed_like_writer(h, e, n, windows[w]) > n / 4);
		assert_int_equal(heap_finish(h, p, 0), 0);
		check_against_ref(p, &r, n);
		prof_free(p);
	}
	free(e);
}

/* A seq that never arrives (an event the agent numbered but never wrote)
 * must not stall the replay forever: ticks release past it, and an event that
 * turns up after that is replayed late with a warning. One that turns up within
 * the window is replayed in its place. */
static void gap_rounds(int rounds_before_late, size_t expect_warnings)
{
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	uint64_t seq = 1, t = 0;
	for (int round = 0; round < 60; round++) {
		for (int i = 0; i < 100; i++) {
			if (seq == 150)
				seq++; /* the gap */
			heap_alloc(h, seq, 1, 1, 8, 0x1000 + (uint64_t)seq * 16);
			seq++;
		}
		heap_tick(h, t += 20000000, seq, 0);
		if (round == rounds_before_late)
			heap_alloc(h, 150, 2, 2, 8, 0x1000 + 150 * 16);
	}
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 6001);
	assert_int_equal(p->mem.leaked_blocks, 6001);
	assert_int_equal(p->nwarnings, expect_warnings);
	if (expect_warnings)
		assert_non_null(strstr(p->warnings[0], "too late"));
	prof_free(p);
}

static void test_gap_released_by_ticks(void **state)
{
	(void)state;
	gap_rounds(10, 0);
	gap_rounds(50, 1);
}

/* A forked child's counter continues its parent's: the replay starts at the
 * smallest seq it sees. */
static void test_start_not_zero(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	uint64_t base = 5000000;
	heap_alloc(h, base + 2, 7, 2, 10, 0x500);
	heap_alloc(h, base + 0, 8, 1, 20, 0x500);
	heap_free(h, base + 1, 8, 0x500);
	for (uint64_t s = base + 3; s < base + 10000; s += 2) {
		heap_alloc(h, s, 7, 3, 1, 0x900);
		heap_free(h, s + 1, 7, 0x900);
	}
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.leaked_blocks, 1);
	assert_int_equal(W(p, 2, FA_LEAKED_BYTES), 10);
	assert_int_equal(p->nwarnings, 0);
	prof_free(p);
}

/* Sampled recording: simulate Poisson sampling by bytes (each allocation of
 * size s kept with probability 1 - exp(-s/R)) and check that the estimates
 * come within a few percent of the truth. */
static void test_sampled_estimates(void **state)
{
	(void)state;
	const uint64_t R = 4096;
	struct profile *p = prof_new();
	struct heap *h = heap_new(R, p);
	double true_calls[4] = {0}, true_bytes[4] = {0}, true_leak = 0;
	uint64_t seq = 1, kept = 0;
	const size_t n = 2000000;
	for (size_t i = 0; i < n; i++) {
		uint32_t st = (uint32_t)(1 + i % 4);
		/* stack 1 small, 2 medium, 3 large, 4 mixed */
		uint64_t size = st == 1	  ? 16 + rnd() % 48
				: st == 2 ? 512 + rnd() % 1024
				: st == 3 ? 65536 + rnd() % 65536
					  : 1 + rnd() % 20000;
		bool leak = i % 100 == 3;
		true_calls[st - 1] += 1;
		true_bytes[st - 1] += (double)size;
		if (leak)
			true_leak += (double)size;
		double prob = -expm1(-(double)size / (double)R);
		if ((double)(rnd() >> 11) / 9007199254740992.0 >= prob)
			continue;
		kept++;
		uint64_t ptr = 0x100000 + (uint64_t)i * 64;
		heap_alloc(h, seq++, 1, st, size, ptr);
		if (!leak)
			heap_free(h, seq++, 1, ptr);
	}
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_true(kept < n * 6 / 10); /* it really sampled */
	assert_true(p->mem.sampled);
	assert_true(p->mem.scale > 1.01);
	for (int s = 0; s < 4; s++) {
		double c = (double)W(p, s + 1, FA_ALLOC_CALLS), b = (double)W(p, s + 1, FA_ALLOC_BYTES);
		assert_true(fabs(c / true_calls[s] - 1) < 0.03);
		assert_true(fabs(b / true_bytes[s] - 1) < 0.03);
	}
	assert_true(fabs((double)p->mem.leaked_bytes / true_leak - 1) < 0.05);
	assert_true(fabs((double)p->mem.alloc_calls / (double)n - 1) < 0.02);
	prof_free(p);
}

/* Frees of blocks the replay never saw (allocated before the agent started)
 * are not frees of the program's blocks; an address allocated twice without
 * a free between means a lost event and is reported. */
static void test_unknown_and_duplicate(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	heap_free(h, 0, 1, 0xdead0);
	heap_alloc(h, 1, 1, 1, 100, 0x10);
	heap_alloc(h, 2, 1, 2, 40, 0x10);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.frees, 0);
	assert_int_equal(p->mem.alloc_calls, 2);
	assert_int_equal(p->mem.leaked_blocks, 1);
	assert_int_equal(W(p, 2, FA_LEAKED_BYTES), 40);
	assert_int_equal(p->mem.peak_bytes, 100);
	assert_int_equal(p->nwarnings, 1);
	assert_non_null(strstr(p->warnings[0], "allocated twice"));
	prof_free(p);
}

/* Damaged sizes (no allocation exceeds the address space) are ignored with a
 * warning instead of overflowing the sums. */
static void test_impossible_sizes(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	for (uint64_t i = 0; i < 4; i++)
		heap_alloc(h, i, 1, 1, UINT64_MAX - i, 0x1000 + i * 16);
	heap_alloc(h, 4, 1, 2, 64, 0x2000);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 1);
	assert_int_equal(p->mem.peak_bytes, 64);
	assert_int_equal(p->mem.leaked_bytes, 64);
	assert_int_equal(p->nwarnings, 1);
	assert_non_null(strstr(p->warnings[0], "impossible sizes"));
	prof_free(p);
}

/* Sampled mode: a realloc of a sampled block moves its estimated weight. */
static void test_sampled_realloc(void **state)
{
	(void)state;
	const double R = 1000;
	struct profile *p = prof_new();
	struct heap *h = heap_new((uint64_t)R, p);
	heap_alloc(h, 0, 1, 1, 500, 0x10);
	heap_realloc(h, 1, 1, 2, 3000, 0x10, 0x20);
	assert_int_equal(heap_finish(h, p, 0), 0);
	double w500 = 500 / -expm1(-500 / R), w3000 = 3000 / -expm1(-3000 / R);
	assert_int_equal(W(p, 1, FA_ALLOC_BYTES), llround(w500));
	assert_int_equal(W(p, 1, FA_ALLOC_CALLS), llround(w500 / 500));
	assert_int_equal(W(p, 2, FA_LEAKED_BYTES), llround(w3000));
	assert_int_equal(W(p, 1, FA_LEAKED_BYTES), 0);
	assert_int_equal(p->mem.peak_bytes, llround(w3000));
	assert_int_equal(W(p, 2, FA_PEAK_BYTES), llround(w3000));
	assert_true(p->mem.sampled);
	prof_free(p);
}

/* Sampled mode cannot tell temporaries: the thread's unsampled allocations
 * between a sampled block's allocation and its free are not in the dump, so a
 * block freed before the next *sampled* allocation is not known to be one.
 * None is counted, and the model says they are unknown. */
static void test_sampled_no_temporaries(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(1000, p);
	heap_alloc(h, 0, 1, 1, 500, 0x10);
	heap_free(h, 5, 1, 0x10);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.temp_calls, 0);
	assert_int_equal(W(p, 1, FA_TEMP_CALLS), 0);
	assert_true(p->mem.temp_unknown);
	prof_free(p);
	/* An exact recording counts it, and knows. */
	p = prof_new();
	h = heap_new(0, p);
	heap_alloc(h, 0, 1, 1, 500, 0x10);
	heap_free(h, 1, 1, 0x10);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.temp_calls, 1);
	assert_false(p->mem.temp_unknown);
	prof_free(p);
}

/* Weights go into the profile's stacks; a stack index the profile does not
 * have is dropped with a warning, not written out of bounds. */
static void test_undefined_stack(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	heap_alloc(h, 1, 1, NSTACKS + 5, 8, 0x10);
	heap_alloc(h, 2, 1, 1, 8, 0x20);
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(W(p, 1, FA_LEAKED_BYTES), 8);
	assert_int_equal(p->nwarnings, 1);
	assert_non_null(strstr(p->warnings[0], "test.fdump"));
	prof_free(p);
}

/* Two processes: weights add up, the peak is the larger one's. */
static void test_two_processes(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	p->nprocs = 2;
	p->procs = realloc(p->procs, 2 * sizeof(*p->procs));
	memset(&p->procs[1], 0, sizeof(p->procs[1]));
	struct heap *a = heap_new(0, p), *b = heap_new(0, p);
	heap_alloc(a, 1, 1, 1, 100, 0x10);
	heap_alloc(b, 1, 2, 2, 300, 0x10);
	heap_free(b, 2, 2, 0x10);
	assert_int_equal(heap_finish(a, p, 0), 0);
	assert_int_equal(heap_finish(b, p, 1), 0);
	assert_int_equal(p->mem.alloc_calls, 2);
	assert_int_equal(p->mem.peak_bytes, 300);
	assert_int_equal(p->mem.peak_proc, 1);
	assert_int_equal(p->mem.leaked_bytes, 100);
	prof_free(p);
}

/* Twenty million events replay in a bounded time (checked loosely here; the
 * benchmark measures it). */
static void test_many_events(void **state)
{
	(void)state;
	struct profile *p = prof_new();
	struct heap *h = heap_new(0, p);
	uint64_t seq = 1;
	for (int i = 0; i < 2000000; i++) {
		int tid = 1 + i % 3;
		heap_alloc(h, seq++, tid, (uint32_t)(1 + i % 40), 16 + (uint64_t)(i % 200),
			   0x10000 + (uint64_t)(i % 1000) * 512);
		if (i >= 999)
			heap_free(h, seq++, tid, 0x10000 + (uint64_t)((i - 999) % 1000) * 512);
	}
	assert_int_equal(heap_finish(h, p, 0), 0);
	assert_int_equal(p->mem.alloc_calls, 2000000);
	assert_int_equal(p->mem.leaked_blocks, 999);
	prof_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_reuse_across_threads),
	    cmocka_unit_test(test_realloc_cases),
	    cmocka_unit_test(test_temporaries),
	    cmocka_unit_test(test_peak),
	    cmocka_unit_test(test_timeline_bounded),
	    cmocka_unit_test(test_shuffled_matches_reference),
	    cmocka_unit_test(test_gap_released_by_ticks),
	    cmocka_unit_test(test_start_not_zero),
	    cmocka_unit_test(test_sampled_estimates),
	    cmocka_unit_test(test_unknown_and_duplicate),
	    cmocka_unit_test(test_sampled_realloc),
	    cmocka_unit_test(test_sampled_no_temporaries),
	    cmocka_unit_test(test_impossible_sizes),
	    cmocka_unit_test(test_undefined_stack),
	    cmocka_unit_test(test_two_processes),
	    cmocka_unit_test(test_many_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
