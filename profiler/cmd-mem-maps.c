/* fathom mem's section on all of memory: the heap, the mappings the
 * program made and the RSS side by side with the peak of each, the
 * mappings by kind, the top mapping sites (by the site rule of the
 * allocation tables) and the files mapped, and the RSS that neither the
 * heap nor those mappings explain (cmd-mem.h; the figures are maps.c's). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd-mem.h"
#include "maps.h"
#include "util.h"

/* The RSS peak of process proc and when, from the ticks; its file part then. */
static int64_t rss_peak(const struct profile *p, uint32_t proc, uint64_t *when, int64_t *file)
{
	int64_t best = -1;
	*when = 0;
	*file = -1;
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].proc == proc && p->timeline[i].rss > best) {
			best = p->timeline[i].rss;
			*when = p->timeline[i].time_ns;
		}
	const struct fa_maps *mp = p->maps;
	for (size_t i = 0; mp && i < mp->nrss; i++)
		if (mp->rss[i].proc == proc && mp->rss[i].time_ns <= *when)
			*file = mp->rss[i].rss_file;
	return best;
}

/* The heap of process proc at time t (the last tick at or before it). */
static int64_t heap_at(const struct profile *p, uint32_t proc, uint64_t t)
{
	int64_t h = 0;
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].proc == proc && p->timeline[i].time_ns <= t)
			h = p->timeline[i].heap;
	return h;
}

/* When the figures "at the end" were taken. */
static const char *end_word(const struct mem *m)
{
	return mem_detached(m) ? "at detach" : "at exit";
}

static int by_peak(const void *a, const void *b)
{
	const struct fa_map_stack *x = a, *y = b;
	int64_t u = x->max_live, v = y->max_live;
	if (u != v)
		return u > v ? -1 : 1;
	return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

static void print_sites(const struct mem *m, const struct fa_maps *mp)
{
	size_t n = 0;
	struct fa_map_stack *v = malloc((mp->nstacks + 1) * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < mp->nstacks; i++)
		if (mp->stacks[i].kind != FD_MAP_HEAP)
			v[n++] = mp->stacks[i];
	qsort(v, n, sizeof(*v), by_peak);
	if (n) {
		printf("  Top mmap sites (by the most each held at once)\n");
		printf("  %11s %11s %7s  %-9s  %s\n", "max mapped", end_word(m), "calls", "kind",
		       "mapped at");
	}
	size_t top = m->top && m->top < n ? m->top : n;
	char a[40], b[40];
	for (size_t i = 0; i < top; i++) {
		printf("  %11s %11s %7" PRIu64 "  %-9s  ", fmt_bytes(a, v[i].max_live),
		       fmt_bytes(b, v[i].live_end), v[i].calls, maps_kind_name(v[i].kind));
		mem_print_stack(m, v[i].stack, "                                           ");
	}
	if (n > top)
		printf("  ... %zu more sites\n", n - top);
	free(v);
	if (mp->nfiles)
		printf("  Files mapped\n  %11s %11s %7s  %s\n", "max mapped", end_word(m), "calls", "path");
	for (size_t i = 0; i < mp->nfiles && (!m->top || i < m->top); i++)
		printf("  %11s %11s %7" PRIu64 "  %s\n", fmt_bytes(a, mp->files[i].max_live),
		       fmt_bytes(b, mp->files[i].live_end), mp->files[i].calls, mp->files[i].path);
}

void mem_print_mappings(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_maps *mp = p->maps;
	if (!mp)
		return;
	char a[40], b[40], c[40], d[40];
	uint32_t proc = mp->npoints ? mp->peak_proc : p->mem.peak_proc;
	if (proc >= p->nprocs)
		proc = 0;
	uint64_t rss_t;
	int64_t rss_file, rss = rss_peak(p, proc, &rss_t, &rss_file);
	int64_t end = maps_counted(mp->end_kind);
	printf("\nMemory: heap, mappings and RSS%s\n",
	       p->nprocs > 1 ? " (the process with the mapped peak)" : "");
	printf("  %-10s %11s %9s  %s\n", "", "peak", "at", "");
	printf("  %-10s %11s %8.2fs  (malloc and friends; large blocks too)\n", "heap",
	       mem_est_bytes(m, a, p->mem.peak_bytes), (double)p->mem.peak_time_ns / 1e9);
	printf("  %-10s %11s %8.2fs  (mmap, mremap, brk by the program; %s %s)\n", "mapped",
	       fmt_bytes(a, mp->peak_bytes), (double)mp->peak_time_ns / 1e9, fmt_bytes(b, end), end_word(m));
	if (rss >= 0) {
		printf("  %-10s %11s %8.2fs", "RSS", fmt_bytes(a, rss), (double)rss_t / 1e9);
		if (rss_file >= 0)
			printf("  (%s anonymous, %s of files and shared memory)",
			       fmt_bytes(b, rss - rss_file), fmt_bytes(c, rss_file));
		putchar('\n');
		/* At the RSS peak: the anonymous pages the heap and the
		 * program's anonymous mappings could hold. Mapped pages need
		 * not be resident, so this is a lower bound. */
		int64_t live[FD_MAP_NKINDS];
		maps_at(mp, proc, rss_t, live);
		int64_t heap = heap_at(p, proc, rss_t);
		int64_t anon = rss_file >= 0 ? rss - rss_file : rss - live[FD_MAP_FILE];
		int64_t seen = heap + live[FD_MAP_ANON] + live[FD_MAP_STACK] + live[FD_MAP_BRK];
		int64_t unexplained = anon > seen ? anon - seen : 0;
		printf(
		    "  RSS not explained by the heap or mappings fathom saw: %s%s at the RSS peak (anonymous "
		    "%s, heap %s, anonymous mappings %s)\n",
		    unexplained ? "at least " : "", fmt_bytes(a, unexplained), fmt_bytes(b, anon),
		    fmt_bytes(c, heap), fmt_bytes(d, seen - heap));
		if (unexplained >= ((int64_t)32 << 20))
			printf(
			    "    hint: allocator overhead and fragmentation, freed pages the allocator kept "
			    "(malloc_trim), thread stacks and mappings made behind libc's back\n");
	}
	int any = 0;
	for (unsigned k = 0; k < FD_MAP_NKINDS; k++)
		any |= mp->calls[k] != 0;
	if (!any) {
		printf("  no mappings seen%s\n",
		       mp->recorded[proc] ? "" : " (recorded by an agent older than 1.4, or FATHOM_MMAP=0)");
		return;
	}
	printf("  %-10s %11s %11s %7s\n", "by kind", "max", end_word(m), "maps");
	for (unsigned k = 0; k < FD_MAP_NKINDS; k++)
		if (mp->calls[k])
			printf("  %-10s %11s %11s %7" PRIu64 "%s\n", maps_kind_name(k),
			       fmt_bytes(a, mp->kind_max[k]), fmt_bytes(b, mp->end_kind[k]), mp->calls[k],
			       k == FD_MAP_HEAP	   ? "  (the allocator's own: counted in the heap)"
			       : k == FD_MAP_GUARD ? "  (PROT_NONE: not resident, not in mapped)"
						   : "");
	if (mp->remaps || mp->unmaps)
		printf("  %" PRIu64 " munmap, %" PRIu64 " mremap\n", mp->unmaps, mp->remaps);
	print_sites(m, mp);
}
