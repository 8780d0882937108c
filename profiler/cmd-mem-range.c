/* fathom mem --from T --to T: the live heap at a time range's two ends and
 * what the range allocated and freed, in all and by site, from the heap
 * replay's state at the first tick at or after each end (marks FA_MARK_FROM
 * and FA_MARK_AT, heap-mark.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-mem.h"
#include "cmds.h"
#include "fathom-dump.h"
#include "marks.h"
#include "util.h"

int mem_range_opts(const struct cmd_common *cc, struct profile_opts *po)
{
	if (po->mark_at_ns)
		return -1;
	/* Only marks: no CPU sample's time is needed. */
	po->keep_times = false;
	po->mark_from_ns = cc->from_ns;
	if (cc->to_ns != UINT64_MAX)
		po->mark_at_ns = cc->to_ns;
	return 0;
}

/* The end of a range: a mark's figures, or the start or the end of the
 * recording (k NULL: live 0 at the start; the stacks' weights at the end). */
struct end {
	const struct fa_mark *k;
	bool at_end;
	uint64_t time_ns;
	int64_t bytes, blocks, calls, alloc_bytes, frees;
};

static void end_of(const struct profile *p, uint32_t proc, const struct fa_mark *k, bool at_end,
		   struct end *e)
{
	memset(e, 0, sizeof(*e));
	e->k = k;
	e->at_end = at_end && !k;
	if (k) {
		e->time_ns = k->time_ns;
		e->bytes = k->heap_bytes;
		e->blocks = k->heap_blocks;
		e->calls = k->alloc_calls;
		e->alloc_bytes = k->alloc_bytes;
		e->frees = k->frees;
	} else if (e->at_end) {
		const struct fa_process *pr = &p->procs[proc];
		e->time_ns = pr->duration_ns;
		e->bytes = p->mem.leaked_bytes + p->mem.suppressed_bytes;
		e->blocks = p->mem.leaked_blocks + p->mem.suppressed_blocks;
		e->calls = (int64_t)p->mem.alloc_calls;
		e->alloc_bytes = (int64_t)p->mem.alloc_bytes;
		e->frees = (int64_t)p->mem.frees;
	}
}

/* Adds sign times end e's figures of each stack into the stacks' weights:
 * allocation calls and bytes so far, and the live heap (leaked weights). */
static void add_end(struct profile *p, const struct end *e, int sign, int64_t *live_end)
{
	if (e->k) {
		for (size_t i = 0; i < e->k->nlive; i++) {
			const struct fa_mark_live *l = &e->k->live[i];
			if (l->stack >= p->nstacks)
				continue;
			int64_t *w = p->stacks[l->stack].w;
			w[FA_ALLOC_CALLS] += sign * l->calls;
			w[FA_ALLOC_BYTES] += sign * l->alloc_bytes;
			w[FA_LEAKED_BYTES] += sign * l->bytes;
			w[FA_LEAKED_BLOCKS] += sign * l->blocks;
		}
	} else if (e->at_end) {
		for (size_t s = 0; s < p->nstacks; s++) {
			int64_t *w = p->stacks[s].w;
			w[FA_ALLOC_CALLS] += sign * live_end[4 * s];
			w[FA_ALLOC_BYTES] += sign * live_end[4 * s + 1];
			w[FA_LEAKED_BYTES] += sign * live_end[4 * s + 2];
			w[FA_LEAKED_BLOCKS] += sign * live_end[4 * s + 3];
		}
	}
}

int mem_print_range(struct mem *m, const struct cmd_common *cc)
{
	struct profile *p = m->p;
	uint32_t pf = 0, pt = 0;
	const struct fa_mark *kf = cc->from_ns ? marks_find(p, FA_MARK_FROM, 0, &pf) : NULL;
	const struct fa_mark *kt = cc->to_ns != UINT64_MAX ? marks_find(p, FA_MARK_AT, 0, &pt) : NULL;
	if (cc->from_ns && !kf) {
		fprintf(stderr, "fathom mem: --from: the recording ends before that time\n");
		return 1;
	}
	if ((kf && !kf->heap_known) || (kt && !kt->heap_known)) {
		fprintf(stderr, "fathom mem: the process of that time did not record allocations\n");
		return 1;
	}
	if (p->nprocs > 1) {
		fprintf(stderr,
			"fathom mem: --from/--to read one process's dump at a time (this "
			"recording has %zu)\n",
			p->nprocs);
		return 2;
	}
	struct end from, to;
	end_of(p, pf, kf, false, &from);
	end_of(p, pt, kt, true, &to);
	/* The stacks' weights become the range's: allocated in it (calls,
	 * bytes), the growth of their live heap (leaked weights) and, in the
	 * peak weight which this report does not show otherwise, the bytes
	 * freed in it (live at the start + allocated - live at the end). */
	int64_t *saved = malloc((p->nstacks ? p->nstacks : 1) * 4 * sizeof(*saved));
	if (!saved) {
		fprintf(stderr, "fathom mem: out of memory\n");
		return 1;
	}
	for (size_t s = 0; s < p->nstacks; s++) {
		int64_t *w = p->stacks[s].w;
		saved[4 * s] = w[FA_ALLOC_CALLS];
		saved[4 * s + 1] = w[FA_ALLOC_BYTES];
		saved[4 * s + 2] = w[FA_LEAKED_BYTES];
		saved[4 * s + 3] = w[FA_LEAKED_BLOCKS];
		w[FA_ALLOC_CALLS] = w[FA_ALLOC_BYTES] = w[FA_LEAKED_BYTES] = w[FA_LEAKED_BLOCKS] = 0;
		w[FA_TEMP_CALLS] = w[FA_PEAK_BYTES] = 0;
	}
	add_end(p, &to, 1, saved);
	add_end(p, &from, -1, saved);
	free(saved);
	for (size_t s = 0; s < p->nstacks; s++) {
		int64_t *w = p->stacks[s].w;
		w[FA_PEAK_BYTES] = w[FA_ALLOC_BYTES] - w[FA_LEAKED_BYTES];
	}
	free(m->sites);
	m->sites = NULL;
	if (mem_sites_build(p, m->rule, FA_ALLOC_BYTES, &m->sites, &m->nsites) < 0) {
		fprintf(stderr, "fathom mem: out of memory\n");
		return 1;
	}
	mem_sites_sort(p, m->sites, m->nsites, FA_ALLOC_BYTES);

	char a[40], b[40], c[40], d[40], range[96], buf[512];
	const struct fa_process *pr = &p->procs[pf];
	cmd_range_text(cc, range, sizeof(range));
	printf("%s  pid %d  %s\n", pr->path, pr->pid, pr->cmdline ? pr->cmdline : "");
	printf("\nTime range %s: allocation events between the ticks at %.3f s and %s%.3f s\n", range,
	       (double)from.time_ns / 1e9, to.at_end ? "the end, " : "", (double)to.time_ns / 1e9);
	printf("  live heap at %.3f s: %s in %s blocks\n", (double)from.time_ns / 1e9,
	       mem_est_bytes(m, a, from.bytes), mem_est_count(m, b, from.blocks));
	printf("  live heap at %.3f s: %s in %s blocks (%s%s)\n", (double)to.time_ns / 1e9,
	       mem_est_bytes(m, a, to.bytes), mem_est_count(m, b, to.blocks),
	       to.bytes >= from.bytes ? "+" : "", mem_est_bytes(m, c, to.bytes - from.bytes));
	printf("  allocated in the range: %s calls, %s; freed: %s calls, %s\n",
	       mem_est_count(m, a, to.calls - from.calls),
	       mem_est_bytes(m, b, to.alloc_bytes - from.alloc_bytes),
	       mem_est_count(m, c, to.frees - from.frees),
	       mem_est_bytes(m, d, from.bytes + (to.alloc_bytes - from.alloc_bytes) - to.bytes));
	mem_print_window_note(pr, false);
	printf("\nSites by bytes allocated in the range\n");
	printf("  %12s %10s %12s %12s  %s\n", "allocated", "calls", "freed", "growth", "site");
	size_t shown = 0;
	for (size_t i = 0; i < m->nsites && (!m->top || shown < m->top); i++) {
		const struct mem_site *s = &m->sites[i];
		if (!s->w[FA_ALLOC_BYTES] && !s->w[FA_LEAKED_BYTES] && !s->w[FA_PEAK_BYTES])
			continue;
		shown++;
		mem_site_text(m, s, buf, sizeof(buf));
		char g[48];
		snprintf(g, sizeof(g), "%s%s", s->w[FA_LEAKED_BYTES] > 0 ? "+" : "",
			 mem_est_bytes(m, d, s->w[FA_LEAKED_BYTES]));
		printf("  %12s %10s %12s %12s  %s\n", mem_est_bytes(m, a, s->w[FA_ALLOC_BYTES]),
		       mem_est_count(m, b, s->w[FA_ALLOC_CALLS]), mem_est_bytes(m, c, s->w[FA_PEAK_BYTES]), g,
		       buf);
	}
	if (!shown)
		printf("  (none: nothing was allocated or freed in the range)\n");
	return 0;
}
