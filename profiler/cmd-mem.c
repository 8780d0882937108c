/* 'fathom mem': where the heap went: totals, the peak and who held it, leaks,
 * temporary allocations, the top allocation sites, sizes and the heap over time. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cmds.h"
#include "cxxname.h"
#include "fathom-dump.h"
#include "outputs.h"
#include "profile.h"
#include "site.h"
#include "json-profile.h"
#include "util.h"

#define FRAMES_SHOWN 4 /* frames of a stack shown under its site */
#define SPARK_WIDTH 60
#define HEADER_PROCS 8 /* processes listed in the header of a big run */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fathom mem [--top N] [--sort calls|bytes|peak|leaked|temp] [--json] [--raw-sites]\n"
		"                  [--full-names] [COMMON OPTIONS] FILE...\n"
		"\n"
		"Reports the heap of a recording made with 'fathom record --alloc' (or\n"
		"--alloc-sample BYTES): allocation calls and bytes, the peak heap and the stacks\n"
		"that held it, what was still allocated at exit, temporary allocations (freed by\n"
		"the allocating thread before it allocated anything else), the top allocation\n"
		"sites, a size histogram and the heap and RSS over time.\n"
		"\n"
		"  -n, --top N        how many sites and stacks each section lists (default 10; 0: all)\n"
		"  -s, --sort KEY     one table of sites ordered by calls, bytes, peak, leaked or temp\n"
		"                     (default: two tables, by calls and by bytes)\n"
		"      --json         everything as JSON on stdout\n"
		"      --raw-sites    a site is the first frame past operator new and malloc's other\n"
		"                     callers in the runtime (std::__new_allocator<...>::allocate), not\n"
		"                     the program's own code past the C++ standard library\n"
		"      --full-names   keep C++ template arguments in the text (std::vector<int, ...>)\n");
}

/* One allocation site: a frame (function and line), its stacks' weights. */
struct site {
	uint32_t func, line;
	int64_t w[FA_NMETRICS];
	uint32_t stack; /* its heaviest stack by the sort key, shown with it */
	int64_t stack_w;
};

struct mem {
	struct profile *p;
	bool sampled, json;
	bool full_names; /* text keeps template arguments */
	enum site_rule rule;
	size_t top;
	int sort; /* the --sort metric, or -1 */
	struct site *sites;
	size_t nsites;
	const char *est; /* "~" before estimated figures */
};

/* fmt_bytes and fmt_count of a figure that is an estimate in a sampled
 * recording: then with "~" in front. */
static char *fmt_est_bytes(const struct mem *m, char buf[40], int64_t v)
{
	buf[0] = '~';
	fmt_bytes(buf + (*m->est ? 1 : 0), v);
	return buf;
}

static char *fmt_est_count(const struct mem *m, char buf[40], int64_t v)
{
	buf[0] = '~';
	fmt_count(buf + (*m->est ? 1 : 0), v);
	return buf;
}

/* "func (file.c:12)" into buf; C++ template arguments elided unless
 * --full-names. */
static const char *frame_text(const struct mem *m, const struct fa_frame *fr, char *buf, size_t len)
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

/* ---- sites ---- */

/* The frames of a stack (malloc'ed, *n of them; fr[0] is a "[no stack]"
 * frame when it has none) and in *at the index of its site, the frame that
 * holds its memory in every table (aggregate.h); NULL when out of memory. */
static struct fa_frame *stack_site(const struct mem *m, uint32_t stack, size_t *n, size_t *at)
{
	struct fa_frame *fr = NULL;
	size_t cap = 0;
	if (agg_stack_site(m->p, &m->p->stacks[stack], m->rule, &fr, &cap, n, at) < 0) {
		free(fr);
		return NULL;
	}
	if (!*n)
		fr[0] = (struct fa_frame){FA_NONE, 0};
	return fr;
}

/* The allocation sites: the stacks' memory weights by site frame, each with
 * its heaviest stack by the sort key, from the aggregation layer. */
static int build_sites(struct mem *m)
{
	struct agg_table t;
	struct agg_opts o = {.key = AGG_FRAME,
			     .metrics = AGG_MEMORY,
			     .rule = m->rule,
			     .heavy = m->sort >= 0 ? m->sort : FA_ALLOC_BYTES,
			     .no_stack_row = true,
			     .self_only = true};
	if (agg_table_build(&t, m->p, &o) < 0)
		return -ENOMEM;
	m->sites = calloc(t.nrows ? t.nrows : 1, sizeof(*m->sites));
	if (!m->sites) {
		agg_table_free(&t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t.nrows; i++) {
		const struct agg_row *r = &t.rows[i];
		struct site *st = &m->sites[m->nsites++];
		st->func = r->func;
		st->line = r->line;
		memcpy(st->w, r->self, sizeof(st->w));
		st->stack = r->stack;
		st->stack_w = r->stack_w;
	}
	agg_table_free(&t);
	return 0;
}

static int g_metric; /* the key of the sort below (qsort has no context) */
static const struct profile *g_prof;

static int cmp_sites(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
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

static void sort_sites(struct mem *m, int metric)
{
	g_metric = metric;
	g_prof = m->p;
	qsort(m->sites, m->nsites, sizeof(*m->sites), cmp_sites);
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

/* The stacks with weight in metric (of process proc, or all with FA_NONE),
 * heaviest first. */
static uint32_t *stacks_by(const struct mem *m, int metric, uint32_t proc, size_t *n)
{
	const struct profile *p = m->p;
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

static size_t limit(const struct mem *m, size_t n)
{
	return m->top && m->top < n ? m->top : n;
}

/* ---- text ---- */

/* The site of a stack and, below it, up to FRAMES_SHOWN of its callers. */
static void print_stack(const struct mem *m, uint32_t stack, const char *indent)
{
	char buf[512];
	size_t n, at;
	struct fa_frame *fr = stack_site(m, stack, &n, &at);
	if (!fr) {
		printf("[out of memory]\n");
		return;
	}
	printf("%s\n", frame_text(m, &fr[at], buf, sizeof(buf)));
	size_t shown = at + 1 + FRAMES_SHOWN < n ? at + 1 + FRAMES_SHOWN : n;
	for (size_t i = at + 1; i < shown; i++)
		printf("%s<- %s\n", indent, frame_text(m, &fr[i], buf, sizeof(buf)));
	if (n > shown)
		printf("%s   ... %zu more frame%s\n", indent, n - shown, n - shown == 1 ? "" : "s");
	free(fr);
}

static void print_site_line(const struct mem *m, const struct site *s, char *buf, size_t len)
{
	struct fa_frame fr = {s->func, s->line};
	frame_text(m, &fr, buf, len);
}

static void print_sites_table(struct mem *m, int metric)
{
	char a[40], b[40], c[40], d[40], e[40], buf[512];
	const struct profile *p = m->p;
	sort_sites(m, metric);
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
		const struct site *s = &m->sites[i];
		if (s->w[metric] <= 0)
			break;
		shown++;
		print_site_line(m, s, buf, sizeof(buf));
		printf("  %14s %11s %11s %11s %12s  %s\n", fmt_est_count(m, a, s->w[FA_ALLOC_CALLS]),
		       fmt_est_bytes(m, b, s->w[FA_ALLOC_BYTES]), fmt_est_bytes(m, c, s->w[FA_PEAK_BYTES]),
		       fmt_est_bytes(m, d, s->w[FA_LEAKED_BYTES]),
		       p->mem.temp_unknown ? "-" : fmt_est_count(m, e, s->w[FA_TEMP_CALLS]), buf);
	}
	if (!shown)
		printf("  (none)\n");
	(void)p;
}

/* A sparkline of values over SPARK_WIDTH columns (the maximum of each column). */
static void sparkline(const struct fa_point *pts, size_t n, uint64_t t_end, bool rss, int64_t *maxv)
{
	static const char *const bars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	int64_t col[SPARK_WIDTH];
	bool set[SPARK_WIDTH] = {false};
	*maxv = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = rss ? pts[i].rss : pts[i].heap;
		size_t c =
		    t_end ? (size_t)((double)pts[i].time_ns / (double)t_end * (SPARK_WIDTH - 1) + 0.5) : 0;
		if (c >= SPARK_WIDTH)
			c = SPARK_WIDTH - 1;
		if (!set[c] || v > col[c])
			col[c] = v;
		set[c] = true;
		if (v > *maxv)
			*maxv = v;
	}
	int64_t prev = 0;
	for (size_t c = 0; c < SPARK_WIDTH; c++) {
		int64_t v = set[c] ? col[c] : prev;
		prev = v;
		int k = *maxv > 0 ? (int)((double)v / (double)*maxv * 8 + 0.5) : 0;
		if (k == 0 && v > 0)
			k = 1;
		fputs(bars[k < 0 ? 0 : k > 8 ? 8 : k], stdout);
	}
}

static void print_timeline(const struct mem *m)
{
	const struct profile *p = m->p;
	char a[40], b[40], c[40];
	bool header = false;
	size_t procs_shown = 0;
	/* The process with the peak first; then others, in order, up to 8 (a
	 * shell script's helpers would otherwise crowd out the program). */
	uint32_t first_proc = p->mem.peak_proc < p->nprocs ? p->mem.peak_proc : 0;
	for (uint32_t k = 0; k < p->nprocs && procs_shown < 8; k++) {
		uint32_t proc = k == 0 ? first_proc : k <= first_proc ? k - 1 : k;
		size_t first = SIZE_MAX, n = 0;
		for (size_t i = 0; i < p->ntimeline; i++)
			if (p->timeline[i].proc == proc) {
				if (first == SIZE_MAX)
					first = i;
				n++;
			}
		if (n < 2 || p->procs[proc].alloc_mode == FD_ALLOC_OFF)
			continue;
		/* The points of one process are contiguous and in time order. */
		const struct fa_point *pts = &p->timeline[first];
		uint64_t t_end = pts[n - 1].time_ns;
		if (!header) {
			printf("\nHeap and RSS over time\n");
			header = true;
		}
		procs_shown++;
		if (p->nprocs > 1)
			printf("  pid %d (%s)%s\n", p->procs[proc].pid, cmd_base_name(p->procs[proc].exe),
			       proc == p->mem.peak_proc ? ", the process with the peak" : "");
		int64_t maxheap, maxrss;
		printf("  heap |");
		sparkline(pts, n, t_end, false, &maxheap);
		printf("| max %s\n", fmt_est_bytes(m, a, maxheap));
		printf("  rss  |");
		sparkline(pts, n, t_end, true, &maxrss);
		printf("| max %s\n", fmt_bytes(a, maxrss));
		printf("        0%*s%s\n", SPARK_WIDTH - 1, "", fmt_duration(a, t_end));
		/* A few rows as numbers: evenly spaced, and the heap's maximum. */
		size_t rows = n < 8 ? n : 8, imax = 0;
		for (size_t i = 0; i < n; i++)
			if (pts[i].heap > pts[imax].heap)
				imax = i;
		printf("  %12s %12s %12s\n", "time", "heap", "rss");
		size_t last = SIZE_MAX;
		for (size_t r = 0; r < rows; r++) {
			size_t i = rows > 1 ? r * (n - 1) / (rows - 1) : 0;
			if (last != SIZE_MAX && last < imax && imax < i) {
				printf("  %12s %12s %12s  <- max\n", fmt_duration(a, pts[imax].time_ns),
				       fmt_est_bytes(m, b, pts[imax].heap), fmt_bytes(c, pts[imax].rss));
			}
			printf("  %12s %12s %12s%s\n", fmt_duration(a, pts[i].time_ns),
			       fmt_est_bytes(m, b, pts[i].heap), fmt_bytes(c, pts[i].rss),
			       i == imax ? "  <- max" : "");
			last = i;
		}
	}
}

static void hist_label(int i, char *buf, size_t len)
{
	char a[32], b[32];
	if (i == 0)
		snprintf(buf, len, "0 B");
	else if (i == FA_HIST_BUCKETS - 1)
		snprintf(buf, len, ">= %s", fmt_bytes(a, (int64_t)1 << (i - 1)));
	else if (i == 1)
		snprintf(buf, len, "1 B");
	else
		snprintf(buf, len, "%s - %s", fmt_bytes(a, (int64_t)1 << (i - 1)),
			 fmt_bytes(b, ((int64_t)1 << i) - 1));
}

static void print_histogram(const struct mem *m)
{
	const struct fa_mem *mm = &m->p->mem;
	char a[40], b[40], lab[80];
	uint64_t maxc = 0;
	for (int i = 0; i < FA_HIST_BUCKETS; i++)
		if (mm->hist_calls[i] > maxc)
			maxc = mm->hist_calls[i];
	if (!maxc)
		return;
	printf("\nAllocation sizes\n");
	printf("  %-22s %14s %11s\n", "size", "calls", "bytes");
	for (int i = 0; i < FA_HIST_BUCKETS; i++) {
		if (!mm->hist_calls[i])
			continue;
		hist_label(i, lab, sizeof(lab));
		int bar = (int)((double)mm->hist_calls[i] / (double)maxc * 30 + 0.5);
		printf("  %-22s %14s %11s  ", lab, fmt_est_count(m, a, (int64_t)mm->hist_calls[i]),
		       fmt_est_bytes(m, b, (int64_t)mm->hist_bytes[i]));
		for (int k = 0; k < (bar ? bar : 1); k++)
			fputs("#", stdout);
		putchar('\n');
	}
}

/* The largest RSS of process proc in the timeline; its largest heap in *heap
 * (the exact peak for the process that holds the overall one). */
static int64_t proc_peaks(const struct profile *p, uint32_t proc, int64_t *heap)
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
		int64_t heap, rss = proc_peaks(p, i, &heap);
		if (p->procs[i].alloc_mode == FD_ALLOC_OFF || rss - heap < RSS_GAP_MIN || rss <= 2 * heap)
			continue;
		printf(
		    "  note: RSS peak %s, heap peak %s%s: %s not from malloc (mmap, stacks, code, or another "
		    "allocator)",
		    fmt_bytes(a, rss), fmt_est_bytes(m, b, heap), m->sampled ? " (estimated)" : "",
		    fmt_bytes(c, rss - heap));
		if (p->nprocs > 1)
			printf(" in pid %d", p->procs[i].pid);
		putchar('\n');
	}
}

/* Which processes the header lists: all of them, or in a run with hundreds
 * (a shell script's) HEADER_PROCS: the first, the one with the peak, damaged
 * ones and the busiest allocators. Returns the flags (NULL when out of
 * memory: then all are listed), with how many are listed and the allocation
 * calls of the others. */
static bool *pick_header_procs(const struct profile *p, size_t *nlisted, int64_t *rest_calls)
{
	const struct fa_mem *mm = &p->mem;
	bool *listed = calloc(p->nprocs ? p->nprocs : 1, sizeof(*listed));
	int64_t *calls = calloc(p->nprocs ? p->nprocs : 1, sizeof(*calls));
	*nlisted = 0;
	*rest_calls = 0;
	if (listed && calls && p->nprocs > HEADER_PROCS) {
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
		while (*nlisted < HEADER_PROCS) {
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

/* The header: one line per process (see pick_header_procs), with what went
 * wrong in it, and how the figures were sampled. */
static void print_header(const struct mem *m)
{
	const struct profile *p = m->p;
	char a[40];
	size_t nlisted;
	int64_t rest_calls;
	bool *listed = pick_header_procs(p, &nlisted, &rest_calls);
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
			int64_t n = 0;
			for (size_t s = 0; s < p->nstacks; s++)
				if (p->stacks[s].proc == i)
					n += p->stacks[s].w[FA_ALLOC_CALLS];
			const char *exe = strrchr(pr->exe, '/') ? strrchr(pr->exe, '/') + 1 : pr->exe;
			const char *lib = strrchr(pr->alloc_bypass, '/') ? strrchr(pr->alloc_bypass, '/') + 1
									 : pr->alloc_bypass;
			/* The program's own malloc: the note names the program. */
			if (!strcmp(pr->alloc_bypass, pr->exe))
				printf(
				    "  allocation calls %s: %s's own allocator bypasses fathom (linked into "
				    "it)\n",
				    fmt_est_count(m, a, n), exe);
			else
				printf(
				    "  allocation calls %s: %s's allocator bypasses fathom (preloaded before "
				    "it: %s)\n",
				    fmt_est_count(m, a, n), exe, lib);
		}
	}
	if (listed && nlisted < p->nprocs)
		printf("and %zu more processes with %s allocation calls (--json lists them all)\n",
		       p->nprocs - nlisted, fmt_est_count(m, a, rest_calls));
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

static void print_totals(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40];
	printf("\nTotals\n");
	bool bypassed = false;
	for (size_t i = 0; i < p->nprocs; i++)
		bypassed |= p->procs[i].alloc_bypass != NULL;
	printf("  allocation calls  %s\n", fmt_est_count(m, a, (int64_t)mm->alloc_calls));
	printf("  bytes allocated   %s\n", fmt_est_bytes(m, a, (int64_t)mm->alloc_bytes));
	printf("  frees             %s\n", fmt_est_count(m, a, (int64_t)mm->frees));
	if (mm->temp_unknown)
		printf("  temporary         not estimated (sampled recording)\n");
	else
		printf("  temporary         %s (%.1f%% of calls)\n",
		       fmt_est_count(m, a, (int64_t)mm->temp_calls),
		       mm->alloc_calls ? 100.0 * (double)mm->temp_calls / (double)mm->alloc_calls : 0.0);
	if (!mm->alloc_calls && !mm->frees && !bypassed)
		printf("  (no heap allocation was recorded: the program made none while the agent was "
		       "tracking)\n");
}

/* The peak and the stacks that held it. */
static void print_peak(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40], b[40];
	const struct fa_process *pp = mm->peak_proc < p->nprocs ? &p->procs[mm->peak_proc] : NULL;
	printf("\nPeak heap  %s at %s", fmt_est_bytes(m, a, mm->peak_bytes),
	       fmt_duration(b, mm->peak_time_ns));
	if (p->nprocs > 1 && pp)
		printf(" in pid %d", pp->pid);
	putchar('\n');
	/* sort(1) mallocs a buffer sized from physical memory and touches a
	 * fraction of it: the heap counts requested bytes, RSS touched pages.
	 * Say so when they disagree wildly, or the peak looks like a bug. */
	int64_t max_rss = proc_peaks(p, mm->peak_proc, NULL);
	if (max_rss > 0 && mm->peak_bytes > 2 * max_rss)
		printf(
		    "  (bytes requested from malloc; pages never touched take no memory: RSS peaked at %s)\n",
		    fmt_bytes(a, max_rss));
	rss_notes(m);
	size_t n;
	uint32_t *v = stacks_by(m, FA_PEAK_BYTES, p->nprocs > 1 ? mm->peak_proc : FA_NONE, &n);
	if (v && n) {
		printf("  %7s %11s  %s\n", "share", "bytes", "allocated at");
		for (size_t i = 0; i < limit(m, n); i++) {
			const struct fa_stack *s = &p->stacks[v[i]];
			printf("  %6.1f%% %11s  ",
			       mm->peak_bytes ? 100.0 * (double)s->w[FA_PEAK_BYTES] / (double)mm->peak_bytes
					      : 0.0,
			       fmt_est_bytes(m, a, s->w[FA_PEAK_BYTES]));
			print_stack(m, v[i], "                          ");
		}
		if (n > limit(m, n))
			printf("  ... %zu more stacks\n", n - limit(m, n));
	}
	free(v);
}

/* What was still allocated at exit, by stack, and what the suppressions left out. */
static void print_leaks(const struct mem *m)
{
	const struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	char a[40], b[40];
	printf("\nLeaked at exit  %s in %s blocks\n", fmt_est_bytes(m, a, mm->leaked_bytes),
	       fmt_est_count(m, b, mm->leaked_blocks));
	size_t n;
	uint32_t *v = stacks_by(m, FA_LEAKED_BYTES, FA_NONE, &n);
	if (v && n) {
		printf("  %11s %10s  %s\n", "bytes", "blocks", "allocated at");
		for (size_t i = 0; i < limit(m, n); i++) {
			const struct fa_stack *s = &p->stacks[v[i]];
			printf("  %11s %10s  ", fmt_est_bytes(m, a, s->w[FA_LEAKED_BYTES]),
			       fmt_est_count(m, b, s->w[FA_LEAKED_BLOCKS]));
			print_stack(m, v[i], "                           ");
		}
		if (n > limit(m, n))
			printf("  ... %zu more stacks\n", n - limit(m, n));
	}
	if (mm->suppressed_blocks || mm->suppressed_bytes) {
		printf("  suppressed: %s in %s block%s (not counted above)\n",
		       fmt_est_bytes(m, a, mm->suppressed_bytes), fmt_est_count(m, b, mm->suppressed_blocks),
		       mm->suppressed_blocks == 1 ? "" : "s");
		for (size_t i = 0; i < p->nsuppressions; i++) {
			const struct fa_suppression *su = &p->suppressions[i];
			bool def = !strcmp(su->source, "default");
			printf("  %11s %10s  leak:%s  (%s%s)\n", fmt_est_bytes(m, a, su->bytes),
			       fmt_est_count(m, b, su->blocks), su->pattern,
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
static void print_temporaries(struct mem *m)
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
	       fmt_est_count(m, a, (int64_t)mm->temp_calls),
	       mm->alloc_calls ? 100.0 * (double)mm->temp_calls / (double)mm->alloc_calls : 0.0);
	sort_sites(m, FA_TEMP_CALLS);
	size_t shown = 0;
	for (size_t i = 0; i < m->nsites && shown < (m->top ? m->top : SIZE_MAX); i++) {
		const struct site *s = &m->sites[i];
		if (s->w[FA_TEMP_CALLS] <= 0)
			break;
		if (!shown)
			printf("  %14s %8s  %s\n", "temporary", "of site", "site");
		shown++;
		print_site_line(m, s, buf, sizeof(buf));
		printf("  %14s %7.1f%%  %s\n", fmt_est_count(m, a, s->w[FA_TEMP_CALLS]),
		       s->w[FA_ALLOC_CALLS]
			   ? 100.0 * (double)s->w[FA_TEMP_CALLS] / (double)s->w[FA_ALLOC_CALLS]
			   : 0.0,
		       buf);
	}
}

static void print_text(struct mem *m)
{
	print_header(m);
	print_totals(m);
	print_peak(m);
	print_leaks(m);
	print_temporaries(m);
	if (m->sort >= 0) {
		print_sites_table(m, m->sort);
	} else {
		print_sites_table(m, FA_ALLOC_CALLS);
		print_sites_table(m, FA_ALLOC_BYTES);
	}
	print_histogram(m);
	print_timeline(m);
}

/* ---- JSON ---- */

/* Up to max frames of a stack, from its frame `from` (innermost first). */
static void json_frames(struct json *j, const struct profile *p, uint32_t stack, size_t from, size_t max)
{
	struct fa_frame fr[FD_MAX_FRAMES * 2];
	size_t n = profile_stack_frames(p, &p->stacks[stack], fr, FD_MAX_FRAMES * 2);
	if (n > FD_MAX_FRAMES * 2)
		n = FD_MAX_FRAMES * 2;
	if (n > from + max)
		n = from + max;
	json_array_begin(j, "frames");
	for (size_t i = from; i < n; i++) {
		const struct fa_func *fn = &p->funcs[fr[i].func];
		json_object_begin(j, NULL);
		json_string(j, "function", fn->name);
		json_string(j, "file", fn->file);
		json_uint(j, "line", fr[i].line);
		json_string(j, "module", fn->module != FA_NONE ? p->modules[fn->module].name : NULL);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_stacks(struct json *j, const struct mem *m, const char *key, int metric, uint32_t proc)
{
	size_t n;
	uint32_t *v = stacks_by(m, metric, proc, &n);
	json_array_begin(j, key);
	for (size_t i = 0; v && i < limit(m, n); i++) {
		const struct fa_stack *s = &m->p->stacks[v[i]];
		json_object_begin(j, NULL);
		json_int(j, "pid", m->p->procs[s->proc].pid);
		if (metric == FA_PEAK_BYTES) {
			json_int(j, "bytes", s->w[FA_PEAK_BYTES]);
			json_double(j, "share",
				    m->p->mem.peak_bytes
					? (double)s->w[FA_PEAK_BYTES] / (double)m->p->mem.peak_bytes
					: 0);
		} else {
			json_int(j, "bytes", s->w[FA_LEAKED_BYTES]);
			json_int(j, "blocks", s->w[FA_LEAKED_BLOCKS]);
		}
		json_frames(j, m->p, v[i], 0, FD_MAX_FRAMES * 2);
		json_object_end(j);
	}
	json_array_end(j);
	free(v);
}

static void print_json(struct mem *m)
{
	struct profile *p = m->p;
	const struct fa_mem *mm = &p->mem;
	struct json j;
	json_init(&j, stdout, false);
	json_object_begin(&j, NULL);
	json_processes(&j, "processes", p);
	json_bool(&j, "sampled", mm->sampled);
	json_double(&j, "scale", mm->scale);

	json_object_begin(&j, "totals");
	json_uint(&j, "alloc_calls", mm->alloc_calls);
	json_uint(&j, "alloc_bytes", mm->alloc_bytes);
	json_uint(&j, "frees", mm->frees);
	if (mm->temp_unknown)
		json_null(&j, "temp_calls"); /* not estimated (sampled) */
	else
		json_uint(&j, "temp_calls", mm->temp_calls);
	json_object_end(&j);

	json_object_begin(&j, "peak");
	json_int(&j, "bytes", mm->peak_bytes);
	json_uint(&j, "time_ns", mm->peak_time_ns);
	json_int(&j, "pid", mm->peak_proc < p->nprocs ? p->procs[mm->peak_proc].pid : 0);
	json_int(&j, "rss_bytes", proc_peaks(p, mm->peak_proc, NULL)); /* that process's RSS peak */
	json_stacks(&j, m, "stacks", FA_PEAK_BYTES, p->nprocs > 1 ? mm->peak_proc : FA_NONE);
	json_object_end(&j);

	json_object_begin(&j, "leaks");
	json_int(&j, "bytes", mm->leaked_bytes);
	json_int(&j, "blocks", mm->leaked_blocks);
	json_stacks(&j, m, "stacks", FA_LEAKED_BYTES, FA_NONE);
	json_object_end(&j);

	json_object_begin(&j, "suppressed");
	json_int(&j, "bytes", mm->suppressed_bytes);
	json_int(&j, "blocks", mm->suppressed_blocks);
	json_array_begin(&j, "patterns");
	for (size_t i = 0; i < p->nsuppressions; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "pattern", p->suppressions[i].pattern);
		json_string(&j, "source", p->suppressions[i].source);
		json_int(&j, "bytes", p->suppressions[i].bytes);
		json_int(&j, "blocks", p->suppressions[i].blocks);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);

	sort_sites(m, m->sort >= 0 ? m->sort : FA_ALLOC_BYTES);
	json_array_begin(&j, "sites");
	for (size_t i = 0; i < limit(m, m->nsites); i++) {
		const struct site *s = &m->sites[i];
		const struct fa_func *fn = s->func != FA_NONE ? &p->funcs[s->func] : NULL;
		json_object_begin(&j, NULL);
		json_string(&j, "function", fn ? fn->name : "[no stack]");
		json_string(&j, "file", fn ? fn->file : NULL);
		json_uint(&j, "line", s->line);
		json_string(&j, "module", fn && fn->module != FA_NONE ? p->modules[fn->module].name : NULL);
		json_int(&j, "calls", s->w[FA_ALLOC_CALLS]);
		json_int(&j, "bytes", s->w[FA_ALLOC_BYTES]);
		if (p->mem.temp_unknown)
			json_null(&j, "temp_calls");
		else
			json_int(&j, "temp_calls", s->w[FA_TEMP_CALLS]);
		json_int(&j, "peak_bytes", s->w[FA_PEAK_BYTES]);
		json_int(&j, "leaked_bytes", s->w[FA_LEAKED_BYTES]);
		json_int(&j, "leaked_blocks", s->w[FA_LEAKED_BLOCKS]);
		size_t nf, at = 0;
		free(stack_site(m, s->stack, &nf, &at));
		json_frames(&j, p, s->stack, at, FRAMES_SHOWN);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "histogram");
	for (int i = 0; i < FA_HIST_BUCKETS; i++) {
		if (!mm->hist_calls[i])
			continue;
		json_object_begin(&j, NULL);
		json_uint(&j, "min", i ? (uint64_t)1 << (i - 1) : 0);
		if (i < FA_HIST_BUCKETS - 1)
			json_uint(&j, "max", i ? ((uint64_t)1 << i) - 1 : 0);
		else
			json_null(&j, "max");
		json_uint(&j, "calls", mm->hist_calls[i]);
		json_uint(&j, "bytes", mm->hist_bytes[i]);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "timeline");
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct fa_point *pt = &p->timeline[i];
		json_object_begin(&j, NULL);
		json_int(&j, "pid", p->procs[pt->proc].pid);
		json_uint(&j, "time_ns", pt->time_ns);
		json_int(&j, "heap", pt->heap);
		json_int(&j, "rss", pt->rss);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "warnings");
	for (size_t i = 0; i < p->nwarnings; i++)
		json_string(&j, NULL, p->warnings[i]);
	json_array_end(&j);
	json_object_end(&j);
	putchar('\n');
}

int cmd_mem(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, 'n'},
	    {"sort", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"raw-sites", no_argument, NULL, 'R'},
	    {"full-names", no_argument, NULL, 'F'},
	    CMD_LEAK_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	struct mem m = {.top = 10, .sort = -1, .est = "", .rule = SITE_USER};
	struct cmd_common cc = {.name = "mem", .usage = usage, .leaks = true};
	int c, status;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:s:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0) {
				fprintf(stderr, "fathom mem: --top needs a count (0 for all), not '%s'\n",
					optarg);
				cmd_common_free(&cc);
				return 2;
			}
			m.top = (size_t)v;
			break;
		case 's':
			m.sort = fa_metric_parse(optarg);
			if (m.sort == FA_LEAKED_BLOCKS)
				m.sort = FA_LEAKED_BYTES;
			if (m.sort < 0 || m.sort == FA_CPU) {
				fprintf(stderr,
					"fathom mem: unknown sort key '%s'; use calls, bytes, peak, leaked "
					"or temp\n",
					optarg);
				cmd_common_free(&cc);
				return 2;
			}
			break;
		case 'j':
			m.json = true;
			break;
		case 'R':
			m.rule = SITE_RAW;
			break;
		case 'F':
			m.full_names = true;
			break;
		default:
			if ((status = cmd_common_option(&cc, c, argv, longopts)) >= 0) {
				cmd_common_free(&cc);
				return status;
			}
		}
	}
	struct profile p;
	if ((status = cmd_load_files(&cc, &p, &argc, &argv))) {
		cmd_common_free(&cc);
		return status;
	}
	cmd_common_free(&cc);

	status = 0;
	bool any = false;
	for (size_t i = 0; i < p.nprocs; i++)
		if (p.procs[i].alloc_mode != FD_ALLOC_OFF)
			any = true;
	if (!any) {
		bool damaged = false;
		for (size_t i = 0; i < p.nprocs; i++)
			if (p.procs[i].damage)
				damaged = true;
		if (damaged)
			fprintf(
			    stderr,
			    "fathom mem: %s: no allocation data could be read (the recording is damaged)\n",
			    argv[optind]);
		else
			fprintf(stderr,
				"fathom mem: %s: no allocation data in this recording; record with "
				"'fathom record --alloc -- CMD' (or --alloc-sample BYTES)\n",
				argv[optind]);
		status = 1;
		goto out;
	}
	if (m.sort == FA_TEMP_CALLS && p.mem.temp_unknown) {
		fprintf(stderr, "fathom mem: --sort temp: a sampled recording cannot estimate temporary "
				"allocations; record with 'fathom record --alloc'\n");
		status = 2;
		goto out;
	}
	m.p = &p;
	m.sampled = p.mem.sampled;
	m.est = m.sampled ? "~" : "";
	if (build_sites(&m) < 0) {
		fprintf(stderr, "fathom mem: out of memory\n");
		status = 1;
		goto out;
	}
	if (m.json)
		print_json(&m);
	else
		print_text(&m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "fathom mem: writing the output: %s\n", strerror(errno));
		status = 1;
	}
out:
	free(m.sites);
	profile_free(&p);
	return status;
}
