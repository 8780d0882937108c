/* fathom mem's text sections over sizes and time: the allocation size
 * histogram and the heap and RSS of each process over time (cmd-mem.h). */
#include <stdio.h>
#include <stdint.h>

#include "cmd-mem.h"
#include "cmds.h"
#include "fathom-dump.h"
#include "util.h"

#define SPARK_WIDTH 60

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

void mem_print_timeline(const struct mem *m)
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
		printf("| max %s\n", mem_est_bytes(m, a, maxheap));
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
				       mem_est_bytes(m, b, pts[imax].heap), fmt_bytes(c, pts[imax].rss));
			}
			printf("  %12s %12s %12s%s\n", fmt_duration(a, pts[i].time_ns),
			       mem_est_bytes(m, b, pts[i].heap), fmt_bytes(c, pts[i].rss),
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

void mem_print_histogram(const struct mem *m)
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
		printf("  %-22s %14s %11s  ", lab, mem_est_count(m, a, (int64_t)mm->hist_calls[i]),
		       mem_est_bytes(m, b, (int64_t)mm->hist_bytes[i]));
		for (int k = 0; k < (bar ? bar : 1); k++)
			fputs("#", stdout);
		putchar('\n');
	}
}
