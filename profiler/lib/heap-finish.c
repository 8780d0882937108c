/* The end of a heap replay: the events still buffered replayed, then the
 * leaks, the peak, the totals, the timeline and the marks' heaps given to
 * the profile, with warnings for what the replay could not place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap-int.h"

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
	heap_flush(h);
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
		if ((ret = profile_warn(p, "%s", msg)))
			goto out;
	}
	if (h->bad_sizes) {
		snprintf(msg, sizeof(msg),
			 "%s: %llu allocation events with impossible sizes (over 256 TiB) were ignored", name,
			 (unsigned long long)h->bad_sizes);
		if ((ret = profile_warn(p, "%s", msg)))
			goto out;
	}
	if (h->bad_stack_events) {
		snprintf(msg, sizeof(msg),
			 "%s: %llu allocations were at stacks never defined; their weights are dropped", name,
			 (unsigned long long)h->bad_stack_events);
		if ((ret = profile_warn(p, "%s", msg)))
			goto out;
	}
out:
	heap_destroy(h);
	return ret;
}
