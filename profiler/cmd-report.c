/* fathom report: where the CPU time went, by function, file, line or module,
 * self and total, per thread on request, as text or JSON. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cmds.h"
#include "marks.h"
#include "cpu-account.h"
#include "cxxname.h"
#include "debug-hint.h"
#include "fathom-dump.h"
#include "profile.h"
#include "json-profile.h"
#include "util.h"

enum by { BY_FUNCTION, BY_FILE, BY_LINE, BY_MODULE };
#define HEADER_PROCS 8 /* processes listed in the text header of a big run */
static const char *const by_names[] = {"function", "file", "line", "module", NULL};

struct report {
	const struct profile *p;
	enum by by;
	int top;
	bool threads, json;
	bool full_names; /* text rows keep C++ template arguments */
	int tid;
	bool has_tid;
	const struct cmd_common *cc; /* its time range */
	struct agg_table t;	     /* the rows, CPU only, after the thread filter */
	struct debug_hint *hints;    /* hot modules without debug info */
	size_t nhints;
	struct cpu_account acct;
};

static double period_ns(const struct profile *p, uint32_t proc)
{
	unsigned hz = p->procs[proc].hz;
	return hz ? 1e9 / hz : 0;
}

/* The rows: self and total CPU per function, file, line or module, as
 * every command counts them (aggregate.h). */
static int aggregate(struct report *r)
{
	static const enum agg_key keys[] = {[BY_FUNCTION] = AGG_FUNCTION,
					    [BY_FILE] = AGG_FILE,
					    [BY_LINE] = AGG_LINE,
					    [BY_MODULE] = AGG_MODULE};
	struct agg_opts o = {.key = keys[r->by],
			     .metrics = AGG_METRIC(FA_CPU),
			     .heavy = -1,
			     .filter = {.tid = r->has_tid ? r->tid : 0}};
	cmd_range_filter(r->cc, &o.filter);
	return agg_table_build(&r->t, r->p, &o);
}

static int cmp_self(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->self[FA_CPU] != y->self[FA_CPU])
		return x->self[FA_CPU] > y->self[FA_CPU] ? -1 : 1;
	if (x->total[FA_CPU] != y->total[FA_CPU])
		return x->total[FA_CPU] > y->total[FA_CPU] ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_total(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->total[FA_CPU] != y->total[FA_CPU])
		return x->total[FA_CPU] > y->total[FA_CPU] ? -1 : 1;
	if (x->self[FA_CPU] != y->self[FA_CPU])
		return x->self[FA_CPU] > y->self[FA_CPU] ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The function of a line row (the first one seen at that line). */
static const char *row_function(const struct report *r, const struct agg_row *e)
{
	return e->func < r->p->nfuncs ? r->p->funcs[e->func].name : NULL;
}

static double pct(int64_t part, int64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* "file.c:12", the module, or "" for the text report's location column. */
static void where(const struct report *r, const struct agg_row *e, char *buf, size_t len)
{
	switch (r->by) {
	case BY_FUNCTION:
		if (e->file && e->line)
			snprintf(buf, len, "%s:%" PRIu32, cmd_base_name(e->file), e->line);
		else if (e->file)
			snprintf(buf, len, "%s", cmd_base_name(e->file));
		else if (strncmp(e->name, e->module, strlen(e->module)) || e->name[strlen(e->module)] != '+')
			snprintf(buf, len, "%s", e->module);
		else
			buf[0] = 0; /* "libx.so+0x1f3a" names its module already */
		break;
	case BY_LINE:
		/* A line row shows its function; one without a file is named by
		 * its function already ("libx.so+0x1f30"), so show the module. */
		snprintf(buf, len, "%s",
			 row_function(r, e) && strcmp(row_function(r, e), e->name) ? row_function(r, e)
										   : e->module);
		break;
	case BY_FILE:
		snprintf(buf, len, "%s", e->module);
		break;
	case BY_MODULE:
		buf[0] = 0; /* the row is the module */
		break;
	}
}

static const char *clock_name(int clock)
{
	return clock == FD_CLOCK_WALL ? "wall" : "cpu";
}

/* "CPU", "wall time" or "sampled time" (cpu and wall clocks mixed). */
static const char *time_label(const struct profile *p)
{
	bool cpu = false, wall = false;
	for (size_t i = 0; i < p->nprocs; i++) {
		if (!p->procs[i].hz)
			continue;
		if (p->procs[i].clock == FD_CLOCK_WALL)
			wall = true;
		else
			cpu = true;
	}
	return wall && cpu ? "sampled time" : wall ? "wall time" : "CPU";
}

/* The samples' CPU time against the threads' measured CPU time (format
 * 1.2), and the threads whose CPU the samples missed: every report says how
 * complete it is. */
static void print_cpu_account(const struct report *r)
{
	const struct profile *p = r->p;
	const struct cpu_account *a = &r->acct;
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	if (a->wall_procs && !a->procs) {
		printf("CPU account: not compared (wall-clock samples count time, waiting included, not CPU "
		       "time)\n");
		return;
	}
	if (!a->procs)
		return;
	printf("CPU account: threads measured %s (%s thread%s, the agent's writer thread left out); "
	       "the profile holds %s (%.1f%%): %s sampled, %s charged at thread ends\n",
	       fmt_duration(b1, a->measured_ns), fmt_count(b4, (int64_t)a->threads),
	       a->threads == 1 ? "" : "s", fmt_duration(b2, a->profile_ns), a->ratio * 100,
	       fmt_duration(b3, a->sampled_ns), fmt_duration(b5, a->charged_ns));
	if (a->has_process && a->outside_ns)
		printf("          the process used %s more than its threads measured (thread exits "
		       "after their last record, threads that ended unseen)\n",
		       fmt_duration(b1, a->outside_ns));
	char line[512];
	for (size_t i = 0; cpu_account_note(p, a, i, line, sizeof(line)); i++)
		printf("%s\n", line);
}

/* The header's lines of one process: what ran, how it was sampled, and
 * what the reader should know about its samples. */
static void print_process(const struct fa_process *pr, bool first)
{
	char a[32], b[32], c[32];
	printf("%s %s: pid %d%s, %s, ", first ? "recording" : "         ", pr->path, pr->pid,
	       pr->generation ? " (after exec)" : "", fmt_duration(a, pr->duration_ns));
	if (pr->cpu_unavailable)
		printf("CPU sampling unavailable: %s\n", pr->cpu_unavailable);
	else if (pr->hz)
		printf("%s samples (%s lost), %u Hz %s clock\n", fmt_count(b, (int64_t)pr->samples),
		       fmt_count(c, (int64_t)pr->lost_samples), pr->hz, clock_name(pr->clock));
	else
		printf("no CPU sampling (--no-cpu)\n");
	printf("          command: %s\n", pr->cmdline && *pr->cmdline ? pr->cmdline : pr->exe);
	if (pr->files > 1 || pr->first_file > 1 || pr->next_file > pr->last_file)
		printf("          files: %u to %u of a rotated recording (%u read)%s\n", pr->first_file,
		       pr->last_file, pr->files,
		       pr->first_file > 1 || pr->next_file > pr->last_file ? ", not all of it" : "");
	if (marks_windowed(pr)) {
		char wt[256];
		if (marks_window_text(pr, wt, sizeof(wt)) == 0)
			printf("          window: %s\n", wt);
	}
	if (pr->end_signal)
		printf("          ended by %s (the agent finished the dump before the signal took its "
		       "default action)\n",
		       signal_name(a, sizeof(a), pr->end_signal));
	if (pr->cpu_unsampled_threads)
		printf("          %s thread%s not CPU-sampled: %s\n",
		       fmt_count(a, (int64_t)pr->cpu_unsampled_threads),
		       pr->cpu_unsampled_threads == 1 ? "" : "s", pr->cpu_unsampled_why);
	/* CPU timers fire at the kernel's tick (4 ms at 250 Hz) and later on
	 * a loaded or virtualised machine (steal time): samples that stand
	 * for much more than that give a short call right after a long one
	 * the long one's end. */
	uint64_t period = pr->hz ? 1000000000ull / pr->hz : 0, expect = period > 4000000 ? period : 4000000;
	if (pr->clock == FD_CLOCK_CPU && pr->timer_samples >= 20 &&
	    pr->timer_weight * period / pr->timer_samples > 3 * expect)
		printf("          samples came every %s of CPU on average, not every %s: the kernel "
		       "delivered"
		       " the timer late (a loaded or virtualised machine?); a short call right after "
		       "a long"
		       " one gains weight\n",
		       fmt_duration(a, pr->timer_weight * period / pr->timer_samples),
		       fmt_duration(c, period));
	if (pr->agent_left_out && pr->hz)
		printf("          %s (%.1f%% of the samples) was the agent's own work, left out of "
		       "the shares"
		       " (--include-agent: charge it to the calling frames)\n",
		       fmt_duration(b, pr->agent_left_out * (1000000000ull / pr->hz)),
		       100.0 * (double)pr->agent_left_out /
			   (double)(pr->sample_weight ? pr->sample_weight : 1));
	else if (pr->cpu_in_agent && pr->hz)
		printf("          %s sampled in the agent, charged to the calling frame\n",
		       fmt_duration(b, pr->cpu_in_agent * (1000000000ull / pr->hz)));
	const struct fa_python *py = &pr->python;
	if (py->perf)
		printf("          Python ran with -X perf: native frames stop at its perf "
		       "trampolines (%.1f%% of "
		       "the samples with Python frames); Python frames are complete, native frames "
		       "between Python calls are not shown\n",
		       py->weight ? 100.0 * (double)py->trampoline_cut / (double)py->weight : 0.0);
	if (py->mismatched)
		printf("          Python frames: %.1f%% of the samples with Python frames had eval-loop "
		       "frames and Python calls that disagree; their Python frames are shown under the "
		       "innermost eval frame\n",
		       py->weight ? 100.0 * (double)py->mismatched / (double)py->weight : 0.0);
	if (pr->damage)
		printf("          damaged: %s\n", pr->damage);
}

static void print_text_header(const struct report *r)
{
	const struct profile *p = r->p;
	char a[32], b[32], c[32];
	uint64_t samples = 0, lost = 0;
	for (size_t i = 0; i < p->nprocs; i++) {
		samples += p->procs[i].samples;
		lost += p->procs[i].lost_samples;
	}
	/* A run of a shell script or a build can hold hundreds of processes:
	 * beyond HEADER_PROCS, only those with samples are listed (the first
	 * process always), and the rest are counted in one line. */
	size_t listed = 0, skipped = 0, skipped_samples = 0;
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		if (p->nprocs > HEADER_PROCS && i > 0 && (!pr->samples || listed >= HEADER_PROCS) &&
		    !pr->damage) {
			skipped++;
			skipped_samples += pr->samples;
			continue;
		}
		listed++;
		print_process(pr, i == 0);
	}
	if (skipped)
		printf("          and %zu more process%s with %s samples (--json lists them all)\n", skipped,
		       skipped == 1 ? "" : "es", fmt_count(a, (int64_t)skipped_samples));
	/* Wall-clock samples measure time spent, waiting included: not CPU. */
	printf("total: %zu process%s, %zu thread%s, %s samples (%s lost), %s %s", p->nprocs,
	       p->nprocs == 1 ? "" : "es", p->nthreads, p->nthreads == 1 ? "" : "s",
	       fmt_count(a, (int64_t)samples), fmt_count(b, (int64_t)lost), time_label(p),
	       fmt_duration(c, (uint64_t)r->t.total_ns));
	if (r->has_tid)
		printf(" (thread %d only)", r->tid);
	printf("\n");
	if (r->cc->timed) {
		char range[96];
		cmd_range_text(r->cc, range, sizeof(range));
		/* The measured CPU time covers the whole run: no account of a range. */
		printf("time range: %s of each process's run: %s samples, %s %s in it (the tables below)\n",
		       range, fmt_count(a, (int64_t)r->t.total_n), time_label(p),
		       fmt_duration(c, (uint64_t)r->t.total_ns));
		return;
	}
	print_cpu_account(r);
}

/* A row's name as the text shows it: C++ template arguments elided
 * (std::vector<…>::push_back) unless --full-names. */
static const char *text_name(const struct report *r, const char *name, char *buf, size_t len)
{
	if (r->full_names || (r->by != BY_FUNCTION && r->by != BY_LINE))
		return name;
	return cxxname_short(name, buf, len);
}

static void print_table(const struct report *r, struct agg_row **rows, size_t n, bool by_total)
{
	char a[32], b[32], loc[512], nbuf[512];
	static const char *const what[] = {"functions", "files", "lines", "modules"};
	printf("\nTop %s by %s time\n", what[r->by], by_total ? "total (inclusive)" : "self");
	printf("  %6s %10s %8s  %6s %10s  %s\n", "self%", "self", "samples", "total%", "total",
	       by_names[r->by]);
	for (size_t i = 0; i < n && i < (size_t)r->top; i++) {
		const struct agg_row *e = rows[i];
		if (!(by_total ? e->total[FA_CPU] : e->self[FA_CPU]))
			break;
		where(r, e, loc, sizeof(loc));
		printf("  %5.1f%% %10s %8" PRIu64 "  %5.1f%% %10s  %s%s%s\n",
		       pct(e->self[FA_CPU], r->t.total[FA_CPU]), fmt_duration(a, (uint64_t)e->self_ns),
		       (uint64_t)(by_total ? e->total_n : e->self_n),
		       pct(e->total[FA_CPU], r->t.total[FA_CPU]), fmt_duration(b, (uint64_t)e->total_ns),
		       text_name(r, e->name, nbuf, sizeof(nbuf)), *loc ? "  " : "", loc);
	}
}

/* Per thread: its share and its hottest rows by self time. */
static int print_threads(const struct report *r, struct json *j)
{
	const struct profile *p = r->p;
	struct agg_thread *v;
	size_t nt;
	if (agg_threads(&r->t, p, r->has_tid ? r->tid : 0, &v, &nt) < 0)
		return -ENOMEM;
	if (j)
		json_array_begin(j, "threads");
	else
		printf("\nThreads\n  %6s %10s %8s  %-8s %-7s %-16s  %s\n",
		       strcmp(time_label(p), "CPU") ? "time%" : "cpu%",
		       strcmp(time_label(p), "CPU") ? "time" : "cpu", "samples", "tid", "pid", "name",
		       "hottest (self)");
	for (size_t i = 0; i < nt; i++) {
		const struct agg_thread *at = &v[i];
		const struct fa_thread *th = &p->threads[at->thread];
		double ns = (double)th->cpu * period_ns(p, th->proc);
		if (j) {
			json_object_begin(j, NULL);
			json_int(j, "tid", th->tid);
			json_int(j, "pid", p->procs[th->proc].pid);
			json_string(j, "name", th->name);
			json_uint(j, "samples", th->samples);
			json_int(j, "weight", th->cpu);
			json_double(j, "cpu_ns", ns);
			json_double(j, "percent", pct(th->cpu, r->t.total[FA_CPU]));
			json_array_begin(j, "hottest");
			for (int b = 0; b < AGG_THREAD_TOP && at->top[b] != FA_NONE; b++) {
				json_object_begin(j, NULL);
				json_string(j, "name", r->t.rows[at->top[b]].name);
				json_double(j, "percent_of_thread", pct(at->top_w[b], th->cpu));
				json_object_end(j);
			}
			json_array_end(j);
			json_object_end(j);
		} else {
			char a[32], nbuf[512];
			printf("  %5.1f%% %10s %8" PRIu64 "  %-8d %-7d %-16s ",
			       pct(th->cpu, r->t.total[FA_CPU]), fmt_duration(a, (uint64_t)ns), th->samples,
			       th->tid, p->procs[th->proc].pid, th->name && *th->name ? th->name : "-");
			for (int b = 0; b < AGG_THREAD_TOP && at->top[b] != FA_NONE; b++)
				printf("%s%s %.0f%%", b ? ", " : " ",
				       text_name(r, r->t.rows[at->top[b]].name, nbuf, sizeof(nbuf)),
				       pct(at->top_w[b], th->cpu));
			printf("\n");
		}
	}
	if (j)
		json_array_end(j);
	free(v);
	return 0;
}

/* The footer: once per hot module without debug info, what would name it. */
static void print_debug_hints(const struct report *r)
{
	if (r->nhints)
		printf("\n");
	for (size_t i = 0; i < r->nhints; i++) {
		const struct debug_hint *h = &r->hints[i];
		char advice[512];
		printf("%s: %s (%.1f%% self; %s%s%s): %s\n", r->p->modules[h->module].name, h->problem,
		       100.0 * h->share, h->build_id[0] ? "build id " : "no build id", h->build_id,
		       h->package ? "" : ", from no package", debug_hint_advice(h, advice, sizeof(advice)));
	}
}

static void json_rows(const struct report *r, struct json *j, const char *key, struct agg_row **rows,
		      size_t n, bool by_total)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < n && i < (size_t)r->top; i++) {
		const struct agg_row *e = rows[i];
		if (!(by_total ? e->total[FA_CPU] : e->self[FA_CPU]))
			break;
		json_object_begin(j, NULL);
		json_string(j, "name", e->name);
		if (r->by == BY_FUNCTION) {
			json_string(j, "file", e->file);
			if (e->line)
				json_uint(j, "line", e->line);
		}
		if (r->by == BY_LINE)
			json_string(j, "function", row_function(r, e));
		json_string(j, "module", e->module);
		json_uint(j, "self_samples", (uint64_t)e->self_n);
		json_int(j, "self_weight", e->self[FA_CPU]);
		json_double(j, "self_ns", e->self_ns);
		json_double(j, "self_percent", pct(e->self[FA_CPU], r->t.total[FA_CPU]));
		json_uint(j, "total_samples", (uint64_t)e->total_n);
		json_int(j, "total_weight", e->total[FA_CPU]);
		json_double(j, "total_ns", e->total_ns);
		json_double(j, "total_percent", pct(e->total[FA_CPU], r->t.total[FA_CPU]));
		json_object_end(j);
	}
	json_array_end(j);
}

/* The samples' CPU time against the threads' measured CPU time
 * (print_cpu_account's figures). */
static void json_cpu_account(struct json *j, const struct profile *p, const struct cpu_account *a)
{
	json_object_begin(j, "cpu_account");
	json_bool(j, "compared", a->procs > 0);
	json_uint(j, "wall_clock_processes", a->wall_procs);
	json_uint(j, "measured_ns", a->measured_ns);
	json_uint(j, "threads_measured", a->threads);
	json_uint(j, "profile_ns", a->profile_ns);
	json_uint(j, "sampled_ns", a->sampled_ns);
	json_uint(j, "charged_at_thread_end_ns", a->charged_ns);
	json_double(j, "ratio", a->ratio);
	json_bool(j, "warning", a->warn);
	if (a->has_process) {
		json_uint(j, "process_ns", a->process_ns);
		json_uint(j, "agent_writer_ns", a->agent_ns);
		json_uint(j, "outside_threads_ns", a->outside_ns);
	}
	json_array_begin(j, "not_sampled");
	for (size_t i = 0; i < a->nunsampled; i++) {
		const struct cpu_unsampled *u = &a->unsampled[i];
		const struct fa_thread *th = &p->threads[u->thread];
		json_object_begin(j, NULL);
		json_int(j, "pid", p->procs[th->proc].pid);
		json_int(j, "tid", th->tid);
		json_string(j, "name", th->name);
		json_uint(j, "measured_ns", u->measured_ns);
		json_uint(j, "not_sampled_ns", u->missed_ns);
		json_uint(j, "charged_at_end_ns", u->charged_ns);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void json_debug_hints(const struct report *r, struct json *j)
{
	json_array_begin(j, "debug_hints");
	for (size_t i = 0; i < r->nhints; i++) {
		const struct debug_hint *h = &r->hints[i];
		const struct fa_module *m = &r->p->modules[h->module];
		char advice[512];
		json_object_begin(j, NULL);
		json_string(j, "module", m->name);
		json_string(j, "path", m->path);
		json_string(j, "build_id", h->build_id);
		json_double(j, "self_percent", 100.0 * h->share);
		json_string(j, "problem", h->problem);
		json_string(j, "package", h->package);
		json_string(j, "debug_package", h->debug_package);
		json_string(j, "advice", debug_hint_advice(h, advice, sizeof(advice)));
		json_object_end(j);
	}
	json_array_end(j);
}

static void print_json(const struct report *r, struct agg_row **self, struct agg_row **total, size_t n)
{
	const struct profile *p = r->p;
	struct json j;
	json_init(&j, stdout, false);
	json_object_begin(&j, NULL);
	json_processes(&j, "processes", p);
	json_string(&j, "by", by_names[r->by]);
	if (r->has_tid)
		json_int(&j, "tid", r->tid);
	if (r->cc->timed) {
		json_object_begin(&j, "range");
		json_uint(&j, "from_ns", r->cc->from_ns);
		if (r->cc->to_ns != UINT64_MAX)
			json_uint(&j, "to_ns", r->cc->to_ns);
		json_object_end(&j);
	}
	json_uint(&j, "samples", (uint64_t)r->t.total_n);
	json_int(&j, "weight", r->t.total[FA_CPU]);
	json_double(&j, "cpu_ns", r->t.total_ns);
	json_cpu_account(&j, p, &r->acct);
	json_rows(r, &j, "top_self", self, n, false);
	json_rows(r, &j, "top_total", total, n, true);
	print_threads(r, &j);
	json_debug_hints(r, &j);
	json_array_begin(&j, "warnings");
	json_profile_warnings(&j, p);
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', stdout);
}

/* How many other dumps of the same run lie next to the one dump given
 * (FILE.PID, FILE.PID.N from 'fathom record -o FILE'). */
static size_t siblings(const struct profile *p)
{
	if (p->nprocs != 1)
		return 0;
	char *pat;
	glob_t g;
	size_t n = 0;
	if (asprintf(&pat, "%s.[0-9]*", p->procs[0].path) < 0)
		return 0;
	if (glob(pat, 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	free(pat);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom report [OPTIONS] FILE...\n"
		   "Shows where the CPU time went: the top entries by self and total time.\n"
		   "Several files (the dumps of a fork/exec tree) are merged.\n\n"
		   "  --by function|file|line|module   what a row is (default: function)\n"
		   "  --threads                        per-thread breakdown\n"
		   "  --tid TID                        only this thread\n"
		   "  --top N                          rows per table (default 20; 0: all)\n"
		   "  --json                           machine-readable output\n"
		   "  --full-names                     keep C++ template arguments in the text\n"
		   "                                   (rows show std::vector<...>::push_back)\n");
}

/* The text report: the header, then the tables, or why there are none. */
static void print_text(const struct report *r, struct agg_row **self, struct agg_row **total)
{
	const struct profile *p = r->p;
	print_text_header(r);
	bool sampled = false, allocs = false;
	const char *unavailable = NULL;
	for (size_t i = 0; i < p->nprocs; i++) {
		sampled |= p->procs[i].hz > 0 && !p->procs[i].cpu_unavailable;
		allocs |= p->procs[i].alloc_mode != FD_ALLOC_OFF;
		if (!unavailable)
			unavailable = p->procs[i].cpu_unavailable;
	}
	if (!r->t.total[FA_CPU] && unavailable)
		printf("\nNo CPU samples: CPU sampling was unavailable (%s)%s.\n", unavailable,
		       allocs ? "; the allocations are in 'fathom mem'" : "");
	else if (!r->t.total[FA_CPU] && !sampled)
		printf("\nNo CPU samples: the recording was made with --no-cpu%s.\n",
		       allocs ? "; its allocations are in 'fathom mem'" : "");
	else if (!r->t.total[FA_CPU] && siblings(p) > 0)
		/* `fathom record -o run.fdump -- ./script.sh`: run.fdump is the
		 * shell, and the work happened in the processes it started. */
		printf("\nNo CPU samples in %s, but its run wrote %zu more dump%s (child processes, "
		       "exec'd "
		       "programs); open them all:\nfathom report %s*\n",
		       p->procs[0].path, siblings(p), siblings(p) == 1 ? "" : "s", p->procs[0].path);
	else if (!r->t.total[FA_CPU])
		printf("\nNo CPU samples%s: the program may have run too briefly (try -F with a "
		       "higher rate).\n",
		       r->has_tid ? " in this thread" : "");
	else {
		print_table(r, self, r->t.nrows, false);
		print_table(r, total, r->t.nrows, true);
		if (r->threads)
			print_threads(r, NULL);
		print_debug_hints(r);
	}
}

/* Reads the command line into r and cc. Returns -1 to go on, else the exit status. */
static int parse_args(struct report *r, struct cmd_common *cc, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"threads", no_argument, NULL, 'T'},
	    {"tid", required_argument, NULL, 't'},
	    {"top", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"full-names", no_argument, NULL, 'F'},
	    CMD_TIME_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	int c, ret;
	char *end;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'b': {
			int i = 0;
			while (by_names[i] && strcmp(by_names[i], optarg))
				i++;
			if (!by_names[i]) {
				const char *s = cmd_suggest(optarg, by_names);
				fprintf(stderr,
					"fathom report: --by takes function, file, line or module, not "
					"'%s'%s%s%s\n",
					optarg, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
				return 2;
			}
			r->by = (enum by)i;
			break;
		}
		case 'T':
			r->threads = true;
			break;
		case 't':
			r->tid = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || r->tid <= 0) {
				fprintf(stderr, "fathom report: --tid takes a thread id, not '%s'\n", optarg);
				return 2;
			}
			r->has_tid = true;
			break;
		case 'n': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0) {
				fprintf(stderr, "fathom report: --top takes a count (0 for all), not '%s'\n",
					optarg);
				return 2;
			}
			r->top = v == 0 || v > INT_MAX ? INT_MAX : (int)v;
			break;
		}
		case 'j':
			r->json = true;
			break;
		case 'F':
			r->full_names = true;
			break;
		default:
			if ((ret = cmd_common_option(cc, c, argv, longopts)) >= 0)
				return ret;
		}
	}
	if (cc->timed && r->threads) {
		fprintf(stderr, "fathom report: --threads over a time range is not done yet; use --tid TID "
				"with --from/--to\n");
		return 2;
	}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	struct report r = {.by = BY_FUNCTION, .top = 20};
	struct cmd_common cc = {.name = "report", .usage = usage, .times = true};
	r.cc = &cc;
	int ret;
	if ((ret = parse_args(&r, &cc, argc, argv)) >= 0)
		return ret;
	struct profile p;
	if ((ret = cmd_load_files(&cc, &p, &argc, &argv)))
		return ret;
	ret = 2;
	r.p = &p;
	if (r.has_tid) {
		if (!cmd_has_tid(&p, r.tid)) {
			fprintf(stderr, "fathom report: no thread %d in the recording (see --threads)\n",
				r.tid);
			goto out;
		}
	}
	struct agg_row **self = NULL, **total = NULL;
	int nh = 0;
	if (aggregate(&r) < 0 || !(self = malloc((r.t.nrows + 1) * sizeof(*self))) ||
	    !(total = malloc((r.t.nrows + 1) * sizeof(*total))) || cpu_account(&p, &r.acct) < 0 ||
	    (nh = debug_hints(&p, r.has_tid ? r.tid : 0, &r.hints)) < 0) {
		fprintf(stderr, "fathom report: out of memory\n");
		ret = 1;
		goto out_rows;
	}
	r.nhints = (size_t)nh;
	for (size_t i = 0; i < r.t.nrows; i++)
		self[i] = total[i] = &r.t.rows[i];
	qsort(self, r.t.nrows, sizeof(*self), cmp_self);
	qsort(total, r.t.nrows, sizeof(*total), cmp_total);
	if (r.json)
		print_json(&r, self, total, r.t.nrows);
	else
		print_text(&r, self, total);
	ret = 0;
out_rows:
	free(self);
	free(total);
out:
	agg_table_free(&r.t);
	debug_hints_free(r.hints, r.nhints);
	cpu_account_free(&r.acct);
	profile_free(&p);
	return ret;
}
