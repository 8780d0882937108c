/* WINDOW marks in the heap replay: the live heap by stack at each, what
 * each stack had allocated so far at the ends of a time range, and the
 * pause between a STOP and the next START. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heap-int.h"

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
void heap_replay_mark(struct heap *h, size_t idx, int what)
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
