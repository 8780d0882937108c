/* fathom mem's figures from a profile (see mem.h): allocation sites and the
 * stacks heaviest in a metric, each process's peaks and allocation calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "mem.h"

int mem_sites_build(const struct profile *p, enum site_rule rule, int heavy, struct mem_site **sites,
		    size_t *nsites)
{
	struct agg_table t;
	struct agg_opts o = {.key = AGG_FRAME,
			     .metrics = AGG_MEMORY,
			     .rule = rule,
			     .heavy = heavy,
			     .no_stack_row = true,
			     .self_only = true};
	*sites = NULL;
	*nsites = 0;
	if (agg_table_build(&t, p, &o) < 0)
		return -ENOMEM;
	struct mem_site *v = calloc(t.nrows ? t.nrows : 1, sizeof(*v));
	if (!v) {
		agg_table_free(&t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t.nrows; i++) {
		const struct agg_row *r = &t.rows[i];
		struct mem_site *st = &v[i];
		st->func = r->func;
		st->line = r->line;
		memcpy(st->w, r->self, sizeof(st->w));
		st->stack = r->stack;
		st->stack_w = r->stack_w;
	}
	*sites = v;
	*nsites = t.nrows;
	agg_table_free(&t);
	return 0;
}

static int g_metric; /* the key of the sorts below (qsort has no context) */
static const struct profile *g_prof;

static int cmp_sites(const void *a, const void *b)
{
	const struct mem_site *x = a, *y = b;
	if (x->w[g_metric] != y->w[g_metric])
		return x->w[g_metric] > y->w[g_metric] ? -1 : 1;
	if (x->w[FA_ALLOC_BYTES] != y->w[FA_ALLOC_BYTES])
		return x->w[FA_ALLOC_BYTES] > y->w[FA_ALLOC_BYTES] ? -1 : 1;
	if (x->func == FA_NONE || y->func == FA_NONE)
		return x->func == y->func ? 0 : x->func == FA_NONE ? 1 : -1;
	int c = strcmp(g_prof->funcs[x->func].name, g_prof->funcs[y->func].name);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

void mem_sites_sort(const struct profile *p, struct mem_site *sites, size_t nsites, int metric)
{
	g_metric = metric;
	g_prof = p;
	qsort(sites, nsites, sizeof(*sites), cmp_sites);
}

static int cmp_stacks(const void *a, const void *b)
{
	const struct fa_stack *x = &g_prof->stacks[*(const uint32_t *)a],
			      *y = &g_prof->stacks[*(const uint32_t *)b];
	if (x->w[g_metric] != y->w[g_metric])
		return x->w[g_metric] > y->w[g_metric] ? -1 : 1;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	return i < j ? -1 : i > j;
}

uint32_t *mem_stacks_by(const struct profile *p, int metric, uint32_t proc, size_t *n)
{
	uint32_t *v = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t s = 0; s < p->nstacks; s++)
		if (p->stacks[s].w[metric] > 0 && (proc == FA_NONE || p->stacks[s].proc == proc))
			v[(*n)++] = (uint32_t)s;
	g_metric = metric;
	g_prof = p;
	qsort(v, *n, sizeof(*v), cmp_stacks);
	return v;
}

struct fa_frame *mem_stack_site(const struct profile *p, uint32_t stack, enum site_rule rule, size_t *n,
				size_t *at)
{
	struct fa_frame *fr = NULL;
	size_t cap = 0;
	if (agg_stack_site(p, &p->stacks[stack], rule, &fr, &cap, n, at) < 0) {
		free(fr);
		return NULL;
	}
	if (!*n)
		fr[0] = (struct fa_frame){FA_NONE, 0};
	return fr;
}

int64_t mem_proc_peaks(const struct profile *p, uint32_t proc, int64_t *heap)
{
	int64_t rss = 0, h = 0;
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct fa_point *pt = &p->timeline[i];
		if (pt->proc != proc)
			continue;
		rss = pt->rss > rss ? pt->rss : rss;
		h = pt->heap > h ? pt->heap : h;
	}
	if (proc == p->mem.peak_proc && p->mem.peak_bytes > h)
		h = p->mem.peak_bytes;
	if (heap)
		*heap = h;
	return rss;
}

int64_t mem_proc_calls(const struct profile *p, uint32_t proc)
{
	int64_t n = 0;
	for (size_t s = 0; s < p->nstacks; s++)
		if (p->stacks[s].proc == proc)
			n += p->stacks[s].w[FA_ALLOC_CALLS];
	return n;
}

bool *mem_pick_procs(const struct profile *p, size_t max, size_t *nlisted, int64_t *rest_calls)
{
	const struct fa_mem *mm = &p->mem;
	bool *listed = calloc(p->nprocs ? p->nprocs : 1, sizeof(*listed));
	int64_t *calls = calloc(p->nprocs ? p->nprocs : 1, sizeof(*calls));
	*nlisted = 0;
	*rest_calls = 0;
	if (listed && calls && p->nprocs > max) {
		for (size_t s = 0; s < p->nstacks; s++)
			if (p->stacks[s].proc < p->nprocs)
				calls[p->stacks[s].proc] += p->stacks[s].w[FA_ALLOC_CALLS];
		listed[0] = true;
		if (mm->peak_proc < p->nprocs)
			listed[mm->peak_proc] = true;
		for (size_t i = 0; i < p->nprocs; i++)
			if (p->procs[i].damage || p->procs[i].lost_alloc || p->procs[i].alloc_bypass)
				listed[i] = true;
		for (size_t i = 0; i < p->nprocs; i++)
			*nlisted += listed[i];
		while (*nlisted < max) {
			size_t best = SIZE_MAX;
			for (size_t i = 0; i < p->nprocs; i++)
				if (!listed[i] && calls[i] > 0 &&
				    (best == SIZE_MAX || calls[i] > calls[best]))
					best = i;
			if (best == SIZE_MAX)
				break;
			listed[best] = true;
			(*nlisted)++;
		}
		for (size_t i = 0; i < p->nprocs; i++)
			if (!listed[i])
				*rest_calls += calls[i];
	} else if (listed) {
		for (size_t i = 0; i < p->nprocs; i++)
			listed[i] = true;
		*nlisted = p->nprocs;
	}
	free(calls);
	return listed;
}
