/* fathom mem's text sections about the heap itself: the processes, totals,
 * the peak and who held it, leaks, temporary allocations and the top
 * allocation sites (cmd-mem.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-mem.h"
#include "cmds.h"
#include "cxxname.h"
#include "fathom-dump.h"
#include "marks.h"
#include "util.h"

#define HEADER_PROCS 8 /* processes listed in the header of a big run */

char *mem_est_bytes(const struct mem *m, char buf[40], int64_t v)
{
	buf[0] = '~';
	fmt_bytes(buf + (*m->est ? 1 : 0), v);
	return buf;
}

char *mem_est_count(const struct mem *m, char buf[40], int64_t v)
{
	buf[0] = '~';
	fmt_count(buf + (*m->est ? 1 : 0), v);
	return buf;
}

/* "func (file.c:12)" into buf; C++ template arguments elided unless
 * --full-names. */
static const char *mem_frame_text(const struct mem *m, const struct fa_frame *fr, char *buf, size_t len)
{
	const struct profile *p = m->p;
	if (fr->func == FA_NONE) {
		snprintf(buf, len, "[no stack]");
		return buf;
	}
	const struct fa_func *fn = &p->funcs[fr->func];
	char sbuf[512];
	const char *name = m->full_names ? fn->name : cxxname_short(fn->name, sbuf, sizeof(sbuf));
	if (fn->file && fr->line)
		snprintf(buf, len, "%s (%s:%u)", name, cmd_base_name(fn->file), fr->line);
	else if (fn->file)
		snprintf(buf, len, "%s (%s)", name, cmd_base_name(fn->file));
	else if (fn->module != FA_NONE)
		snprintf(buf, len, "%s (%s)", name, p->modules[fn->module].name);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

/* The frames of a stack and the index of its site (mem.h). */
static struct fa_frame *mem_site_frames(const struct mem *m, uint32_t stack, size_t *n, size_t *at)
{
	return mem_stack_site(m->p, stack, m->rule, n, at);
}

uint32_t *mem_stacks(const struct mem *m, int metric, uint32_t proc, size_t *n)
{
	return mem_stacks_by(m->p, metric, proc, n);
}

static void mem_sort(struct mem *m, int metric)
{
	mem_sites_sort(m->p, m->sites, m->nsites, metric);
}

static size_t mem_limit(const struct mem *m, size_t n)
{
	return m->top && m->top < n ? m->top : n;
}

/* ---- text ---- */

/* The site of a stack and, below it, up to FRAMES_SHOWN of its callers. */
void mem_print_stack(const struct mem *m, uint32_t stack, const char *indent)
{
	char buf[512];
	size_t n, at;
	struct fa_frame *fr = mem_site_frames(m, stack, &n, &at);
	if (!fr) {
		printf("[out of memory]\n");
		return;
	}
	printf("%s\n", mem_frame_text(m, &fr[at], buf, sizeof(buf)));
	size_t shown = at + 1 + FRAMES_SHOWN < n ? at + 1 + FRAMES_SHOWN : n;
	for (size_t i = at + 1; i < shown; i++)
		printf("%s<- %s\n", indent, mem_frame_text(m, &fr[i], buf, sizeof(buf)));
	if (n > shown)
		printf("%s   ... %zu more frame%s\n", indent, n - shown, n - shown == 1 ? "" : "s");
	free(fr);
}

static void print_site_line(const struct mem *m, const struct mem_site *s, char *buf, size_t len)
{
	struct fa_frame fr = {s->func, s->line};
	mem_frame_text(m, &fr, buf, len);
}

void mem_print_sites(struct mem *m, int metric)
{
	char a[40], b[40], c[40], d[40], e[40], buf[512];
	const struct profile *p = m->p;
	mem_sort(m, metric);
	const char *what = metric == FA_ALLOC_CALLS    ? "calls"
			   : metric == FA_ALLOC_BYTES  ? "bytes"
			   : metric == FA_PEAK_BYTES   ? "bytes at the peak"
			   : metric == FA_LEAKED_BYTES ? "leaked bytes"
						       : "temporary allocations";
	printf("\nTop allocation sites by %s\n", what);
	printf("  %14s %11s %11s %11s %12s  %s\n", "calls", "bytes", "at peak", "leaked", "temporary",
	       "site");
	size_t shown = 0;
	for (size_t i = 0; i < m->nsites && (!m->top || shown < m->top); i++) {
		const struct mem_site *s = &m->sites[i];
		if (s->w[metric] <= 0)
			break;
		shown++;
		print_site_line(m, s, buf, sizeof(buf));
		printf("  %14s %11s %11s %11s %12s  %s\n", mem_est_count(m, a, s->w[FA_ALLOC_CALLS]),
		       mem_est_bytes(m, b, s->w[FA_ALLOC_BYTES]), mem_est_bytes(m, c, s->w[FA_PEAK_BYTES]),
		       mem_est_bytes(m, d, s->w[FA_LEAKED_BYTES]),
		       p->mem.temp_unknown ? "-" : mem_est_count(m, e, s->w[FA_TEMP_CALLS]), buf);
	}
	if (!shown)
		printf("  (none)\n");
	(void)p;
}

/* RSS this far above the heap is worth a note, as the opposite case is. */
#define RSS_GAP_MIN ((int64_t)32 << 20)

/* Memory the heap does not explain: pymalloc's arenas, a program's own mmap,
 * thread stacks, code. Said for each process whose RSS peak exceeds its heap
 * peak by RSS_GAP_MIN and is more than twice as large; otherwise the
 * difference is the usual code, libraries and allocator overhead. */
static void rss_notes(const struct mem *m)
{
	const struct profile *p = m->p;
	char a[40], b[40], c[40];
	for (uint32_t i = 0; i < p->nprocs; i++) {
		int64_t heap, rss = mem_proc_peaks(p, i, &heap);
		if (p->procs[i].alloc_mode == FD_ALLOC_OFF || rss - heap < RSS_GAP_MIN || rss <= 2 * heap)
			continue;
		printf(
		    "  note: RSS peak %s, heap peak %s%s: %s not from malloc (mmap, stacks, code, or another "
		    "allocator)",
		    fmt_bytes(a, rss), mem_est_bytes(m, b, heap), m->sampled ? " (estimated)" : "",
		    fmt_bytes(c, rss - heap));
		if (p->nprocs > 1)
			printf(" in pid %d", p->procs[i].pid);
		putchar('\n');
	}
}

/* The header: one line per process (see mem_pick_procs), with what went
 * wrong in it, and how the figures were sampled. */
void mem_print_header(const struct mem *m)
{
	const struct profile *p = m->p;
	char a[40];
	size_t nlisted;
	int64_t rest_calls;
	bool *listed = mem_pick_procs(p, HEADER_PROCS, &nlisted, &rest_calls);
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		if (listed && !listed[i])
			continue;
		printf("%s  pid %d  %s%s\n", pr->path, pr->pid,
		       pr->cmdline && *pr->cmdline ? pr->cmdline : pr->exe,
		       pr->alloc_mode == FD_ALLOC_OFF	    ? "  (no allocation tracking)"
		       : pr->alloc_mode == FD_ALLOC_SAMPLED ? "  (sampled)"
							    : "");
		if (pr->damage)
			printf("  damaged: %s\n", pr->damage);
		if (pr->lost_alloc)
			printf("  %s allocation events were lost: leaks and the peak are approximate\n",
			       fmt_count(a, (int64_t)pr->lost_alloc));
		if (pr->alloc_bypass) {
			/* An allocator preloaded before the agent took the
			 * program's calls: its count is not the program's. */
			int64_t n = mem_proc_calls(p, (uint32_t)i);
			const char *exe = strrchr(pr->exe, '/') ? strrchr(pr->exe, '/') + 1 : pr->exe;
			const char *lib = strrchr(pr->alloc_bypass, '/') ? strrchr(pr->alloc_bypass, '/') + 1
									 : pr->alloc_bypass;
			/* The program's own malloc: the note names the program. */
			if (!strcmp(pr->alloc_bypass, pr->exe))
				printf(
				    "  allocation calls %s: %s's own allocator bypasses fathom (linked into "
				    "it)\n",
				    mem_est_count(m, a, n), exe);
			else
				printf(
				    "  allocation calls %s: %s's allocator bypasses fathom (preloaded before "
				    "it: %s)\n",
				    mem_est_count(m, a, n), exe, lib);
		}
	}
	if (listed && nlisted < p->nprocs)
		printf("and %zu more processes with %s allocation calls (--json lists them all)\n",
		       p->nprocs - nlisted, mem_est_count(m, a, rest_calls));
	free(listed);
	if (m->sampled) {
		uint64_t rate = 0;
		for (size_t i = 0; i < p->nprocs; i++)
			if (p->procs[i].alloc_mode == FD_ALLOC_SAMPLED)
				rate = p->procs[i].alloc_sample_bytes;
		printf(
		    "\nSAMPLED: one allocation recorded per %s allocated on average; figures marked ~ are\n"
		    "unbiased estimates (each sample of size s stands for s/(1-exp(-s/%" PRIu64
		    ")) bytes).\n",
		    fmt_bytes(a, (int64_t)rate), rate);
	}
}

void mem_print_totals(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40];
	printf("\nTotals\n");
	bool bypassed = false;
	for (size_t i = 0; i < p->nprocs; i++)
		bypassed |= p->procs[i].alloc_bypass != NULL;
	printf("  allocation calls  %s\n", mem_est_count(m, a, (int64_t)mm->alloc_calls));
	printf("  bytes allocated   %s\n", mem_est_bytes(m, a, (int64_t)mm->alloc_bytes));
	printf("  frees             %s\n", mem_est_count(m, a, (int64_t)mm->frees));
	/* fathom record --pid: the blocks allocated before the attach are
	 * unknown, their frees counted apart (never as negative live bytes). */
	uint64_t before = 0;
	bool attached = false;
	for (size_t i = 0; i < p->nprocs; i++)
		if (marks_attached(&p->procs[i])) {
			attached = true;
			before += p->procs[i].frees_unknown;
		}
	if (attached)
		printf("  freed, allocated before attach  %s (not counted above: every figure is since "
		       "the attach)\n",
		       mem_est_count(m, a, (int64_t)before));
	/* A late start or a stop and start by hand: say the windows. */
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		char wt[256];
		if (attached || !marks_windowed(pr) || marks_window_text(pr, wt, sizeof(wt)) < 0)
			continue;
		if (p->nprocs > 1)
			printf("  window (pid %d)  %s\n", pr->pid, wt);
		else
			printf("  window            %s\n", wt);
		mem_print_window_note(pr, true);
	}
	if (mm->temp_unknown)
		printf("  temporary         not estimated (sampled recording)\n");
	else
		printf("  temporary         %s (%.1f%% of calls)\n",
		       mem_est_count(m, a, (int64_t)mm->temp_calls),
		       mm->alloc_calls ? 100.0 * (double)mm->temp_calls / (double)mm->alloc_calls : 0.0);
	if (!mm->alloc_calls && !mm->frees && !bypassed)
		printf("  (no heap allocation was recorded: the program made none while the agent was "
		       "tracking)\n");
}

void mem_print_window_note(const struct fa_process *pr, bool always)
{
	char a[40];
	if (marks_windowed(pr) && (always || pr->paused_live_blocks || pr->frees_unknown))
		printf("  (only blocks allocated while recording count: %s frees were of blocks allocated "
		       "before the recording started or while it was paused, ignored)\n",
		       fmt_count(a, (int64_t)pr->frees_unknown));
}

/* The peak and the stacks that held it. */
void mem_print_peak(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40], b[40];
	const struct fa_process *pp = mm->peak_proc < p->nprocs ? &p->procs[mm->peak_proc] : NULL;
	printf("\nPeak heap%s  %s at %s", pp && marks_attached(pp) ? " since attach" : "",
	       mem_est_bytes(m, a, mm->peak_bytes), fmt_duration(b, mm->peak_time_ns));
	if (p->nprocs > 1 && pp)
		printf(" in pid %d", pp->pid);
	putchar('\n');
	/* sort(1) mallocs a buffer sized from physical memory and touches a
	 * fraction of it: the heap counts requested bytes, RSS touched pages.
	 * Say so when they disagree wildly, or the peak looks like a bug. */
	int64_t max_rss = mem_proc_peaks(p, mm->peak_proc, NULL);
	if (max_rss > 0 && mm->peak_bytes > 2 * max_rss)
		printf(
		    "  (bytes requested from malloc; pages never touched take no memory: RSS peaked at %s)\n",
		    fmt_bytes(a, max_rss));
	rss_notes(m);
	size_t n;
	uint32_t *v = mem_stacks(m, FA_PEAK_BYTES, p->nprocs > 1 ? mm->peak_proc : FA_NONE, &n);
	if (v && n) {
		printf("  %7s %11s  %s\n", "share", "bytes", "allocated at");
		for (size_t i = 0; i < mem_limit(m, n); i++) {
			const struct fa_stack *s = &p->stacks[v[i]];
			printf("  %6.1f%% %11s  ",
			       mm->peak_bytes ? 100.0 * (double)s->w[FA_PEAK_BYTES] / (double)mm->peak_bytes
					      : 0.0,
			       mem_est_bytes(m, a, s->w[FA_PEAK_BYTES]));
			mem_print_stack(m, v[i], "                          ");
		}
		if (n > mem_limit(m, n))
			printf("  ... %zu more stacks\n", n - mem_limit(m, n));
	}
	free(v);
}

bool mem_detached(const struct mem *m)
{
	for (size_t i = 0; i < m->p->nprocs; i++)
		if (m->p->procs[i].detached)
			return true;
	return false;
}

/* What was still allocated at exit, by stack, and what the suppressions left out. */
void mem_print_leaks(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40], b[40];
	/* Attached: what the attach saw allocated; detached: still live. */
	bool attached = false;
	for (size_t i = 0; i < p->nprocs; i++)
		attached |= marks_attached(&p->procs[i]);
	printf("\n%s  %s in %s blocks%s\n", mem_detached(m) ? "Live at detach" : "Leaked at exit",
	       mem_est_bytes(m, a, mm->leaked_bytes), mem_est_count(m, b, mm->leaked_blocks),
	       attached ? " (allocated since attach)" : "");
	size_t n;
	uint32_t *v = mem_stacks(m, FA_LEAKED_BYTES, FA_NONE, &n);
	if (v && n) {
		printf("  %11s %10s  %s\n", "bytes", "blocks", "allocated at");
		for (size_t i = 0; i < mem_limit(m, n); i++) {
			const struct fa_stack *s = &p->stacks[v[i]];
			printf("  %11s %10s  ", mem_est_bytes(m, a, s->w[FA_LEAKED_BYTES]),
			       mem_est_count(m, b, s->w[FA_LEAKED_BLOCKS]));
			mem_print_stack(m, v[i], "                           ");
		}
		if (n > mem_limit(m, n))
			printf("  ... %zu more stacks\n", n - mem_limit(m, n));
	}
	if (mm->suppressed_blocks || mm->suppressed_bytes) {
		printf("  suppressed: %s in %s block%s (not counted above)\n",
		       mem_est_bytes(m, a, mm->suppressed_bytes), mem_est_count(m, b, mm->suppressed_blocks),
		       mm->suppressed_blocks == 1 ? "" : "s");
		for (size_t i = 0; i < p->nsuppressions; i++) {
			const struct fa_suppression *su = &p->suppressions[i];
			bool def = !strcmp(su->source, "default");
			printf("  %11s %10s  leak:%s  (%s%s)\n", mem_est_bytes(m, a, su->bytes),
			       mem_est_count(m, b, su->blocks), su->pattern,
			       def ? "default: glibc's one-time allocations" : su->source,
			       def ? "; --no-default-suppressions counts them" : "");
		}
	}
	for (size_t i = 0; i < p->nprocs; i++)
		if (!p->procs[i].complete && p->procs[i].alloc_mode != FD_ALLOC_OFF)
			printf("  note: %s has no trailer (the program did not exit normally): 'leaked' is "
			       "what was "
			       "live when the recording stopped\n",
			       p->procs[i].path);
	free(v);
}

/* Temporary allocations, by site. A sampled recording cannot tell them (heap.c). */
void mem_print_temporaries(struct mem *m)
{
	const struct fa_mem *mm = &m->p->mem;
	char a[40], buf[512];
	if (mm->temp_unknown) {
		printf(
		    "\nTemporary allocations  not estimated\n"
		    "  (a sampled recording sees one allocation in many, so it cannot tell whether the\n"
		    "  thread allocated anything else before freeing; record with --alloc to count them)\n");
		return;
	}
	printf("\nTemporary allocations  %s (%.1f%% of calls)\n"
	       "  (freed by the allocating thread before it allocated anything else)\n",
	       mem_est_count(m, a, (int64_t)mm->temp_calls),
	       mm->alloc_calls ? 100.0 * (double)mm->temp_calls / (double)mm->alloc_calls : 0.0);
	mem_sort(m, FA_TEMP_CALLS);
	size_t shown = 0;
	for (size_t i = 0; i < m->nsites && shown < (m->top ? m->top : SIZE_MAX); i++) {
		const struct mem_site *s = &m->sites[i];
		if (s->w[FA_TEMP_CALLS] <= 0)
			break;
		if (!shown)
			printf("  %14s %8s  %s\n", "temporary", "of site", "site");
		shown++;
		print_site_line(m, s, buf, sizeof(buf));
		printf("  %14s %7.1f%%  %s\n", mem_est_count(m, a, s->w[FA_TEMP_CALLS]),
		       s->w[FA_ALLOC_CALLS]
			   ? 100.0 * (double)s->w[FA_TEMP_CALLS] / (double)s->w[FA_ALLOC_CALLS]
			   : 0.0,
		       buf);
	}
}

void mem_site_text(const struct mem *m, const struct mem_site *s, char *buf, size_t len)
{
	print_site_line(m, s, buf, len);
}
