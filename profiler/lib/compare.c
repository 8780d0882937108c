/* CI verdicts: summaries of recordings, their statistics, the reports and
 * the budgets of `fathom check`; the diff of two summaries is in
 * compare-diff.c, the matching of their functions in compare-match.c, the
 * writers in compare-out.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "compare-int.h"
#include "fathom-dump.h"
#include "site.h"
#include "util.h"
#include "wait.h"

/* ---- summaries ---------------------------------------------------------- */

static const char *module_name(const struct profile *p, uint32_t m)
{
	if (m == FA_NONE || m >= p->nmodules)
		return NULL;
	return p->modules[m].name;
}

/* The modules of the summary's functions that have no names, once each by
 * basename (the name functions are matched by), with their self samples. */
static int unsym_collect(const struct profile *p, struct compare_summary *s)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		const struct fa_module *m = &p->modules[i];
		if (!m->symbols_problem)
			continue;
		double self_n = 0;
		bool used = false;
		for (size_t k = 0; k < s->nfuncs; k++)
			if (s->funcs[k].unsymbolized && s->funcs[k].module &&
			    !strcmp(s->funcs[k].module, m->name)) {
				used = true;
				self_n += s->funcs[k].self_n;
			}
		bool seen = false;
		for (size_t k = 0; k < s->nunsym && !seen; k++)
			seen = !strcmp(s->unsym[k].name, m->name);
		if (!used || seen)
			continue;
		void *n = realloc(s->unsym, (s->nunsym + 1) * sizeof(*s->unsym));
		if (!n)
			return -ENOMEM;
		s->unsym = n;
		s->unsym[s->nunsym++] = (struct compare_unsym){m->name, m->path, m->symbols_problem, self_n};
	}
	return 0;
}

int compare_summarize(const struct profile *p, struct compare_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->nprocs = p->nprocs;
	s->clock = p->nprocs ? p->procs[0].clock : FD_CLOCK_CPU;
	double proc_samples = 0;
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		if (pr->hz)
			s->cpu_ns += (double)pr->sample_weight * 1e9 / pr->hz;
		proc_samples += (double)pr->samples;
		s->lost_samples += pr->lost_samples;
		s->lost_alloc += pr->lost_alloc;
		if (pr->alloc_mode != FD_ALLOC_OFF)
			s->has_alloc = true;
		if (pr->alloc_mode == FD_ALLOC_SAMPLED)
			s->alloc_sampled = true;
		if (pr->damage)
			s->damaged = true;
		if (pr->clock != s->clock)
			s->clock = -1;
	}
	if (p->mem.sampled)
		s->alloc_sampled = true;
	s->has_wait = wait_recorded(p);
	s->wait_ns = p->waits ? (double)p->waits->total : 0;
	s->wait_var = p->waits ? p->waits->var : 0;
	/* A run is a process whose parent is not in the recording; its forks
	 * and execs belong to it. Several runs are merged for more samples. */
	for (size_t i = 0; i < p->nprocs; i++) {
		bool child = p->procs[i].generation > 0;
		for (size_t k = 0; k < p->nprocs && !child; k++)
			child = k != i && p->procs[k].pid == p->procs[i].ppid;
		s->runs += !child;
	}
	if (!s->runs)
		s->runs = 1;
	s->cpu_weight = (double)p->total[FA_CPU];
	/* The per-thread table counts delivered signals per stack; the process
	 * totals are the fallback when a model has no such table. */
	double ts = 0;
	for (size_t i = 0; i < p->ntstacks; i++)
		ts += (double)p->tstacks[i].samples;
	s->samples = p->ntstacks ? ts : proc_samples;
	s->alloc_calls = (int64_t)p->mem.alloc_calls;
	s->alloc_bytes = (int64_t)p->mem.alloc_bytes;
	s->temp_calls = (int64_t)p->mem.temp_calls;
	s->temp_unknown = p->mem.temp_unknown;
	s->peak = p->mem.peak_bytes;
	s->leaked_bytes = p->mem.leaked_bytes;
	s->leaked_blocks = p->mem.leaked_blocks;
	s->suppressed_bytes = p->mem.suppressed_bytes;
	s->suppressed_blocks = p->mem.suppressed_blocks;

	/* Shares for the z-test are counted in delivered samples, not in
	 * periods: a wall-clock sample that waited 20 ms for the CPU stands for
	 * 20 periods but is one observation, and weighting by it would give the
	 * shares a variance the test does not expect. CPU self time belongs to
	 * the leaf, allocations to their site (the caller of operator new and
	 * the like), as in fathom report and fathom mem. */
	int ret = -ENOMEM;
	struct agg_table t;
	struct agg_opts o = {.key = AGG_FUNCTION,
			     .metrics = AGG_METRIC(FA_CPU) | AGG_METRIC(FA_ALLOC_CALLS) |
					AGG_METRIC(FA_ALLOC_BYTES) | AGG_METRIC(FA_LEAKED_BYTES) |
					AGG_METRIC(FA_LEAKED_BLOCKS),
			     .rule = SITE_USER,
			     .heavy = -1};
	if (agg_table_build(&t, p, &o) < 0)
		goto out;
	s->funcs = calloc(t.nrows + 1, sizeof(*s->funcs));
	if (!s->funcs) {
		agg_table_free(&t);
		goto out;
	}
	for (size_t i = 0; i < t.nrows; i++) {
		const struct agg_row *r = &t.rows[i];
		const struct fa_func *fn = &p->funcs[r->func];
		struct compare_func *cf = &s->funcs[s->nfuncs++];
		cf->name = fn->name ? fn->name : "?";
		cf->file = fn->file;
		cf->module = module_name(p, fn->module);
		cf->line = fn->decl_line ? fn->decl_line : (int)r->self_line[FA_CPU];
		cf->unsymbolized = fn->module < p->nmodules && p->modules[fn->module].symbols_problem;
		cf->self = (double)r->self[FA_CPU];
		cf->self_n = r->self_n;
		cf->total = (double)r->total[FA_CPU];
		cf->total_n = r->total_n;
		cf->alloc_calls = r->self[FA_ALLOC_CALLS];
		cf->alloc_bytes = r->self[FA_ALLOC_BYTES];
		cf->leaked_bytes = r->self[FA_LEAKED_BYTES];
		cf->leaked_blocks = r->self[FA_LEAKED_BLOCKS];
		cf->leak_line = (int)r->self_line[FA_LEAKED_BLOCKS];
	}
	agg_table_free(&t);
	if (unsym_collect(p, s) < 0)
		goto out;
	ret = 0;
out:
	if (ret)
		compare_summary_free(s);
	return ret;
}

void compare_summary_free(struct compare_summary *s)
{
	free(s->funcs);
	s->funcs = NULL;
	s->nfuncs = 0;
	free(s->unsym);
	s->unsym = NULL;
	s->nunsym = 0;
}

/* ---- statistics --------------------------------------------------------- */

double compare_normal_tail(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

double compare_normal_quantile(double p)
{
	if (!(p > 0))
		return INFINITY;
	if (p >= 0.5)
		return 0;
	/* The tail is monotonic, so bisection is exact enough and cannot fail. */
	double lo = 0, hi = 40;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (compare_normal_tail(mid) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double compare_two_prop_z(double x1, double n1, double x2, double n2)
{
	if (!(n1 > 0) || !(n2 > 0))
		return 0;
	double pool = (x1 + x2) / (n1 + n2);
	double var = pool * (1 - pool) * (1 / n1 + 1 / n2);
	if (!(var > 0))
		return 0;
	return (x2 / n2 - x1 / n1) / sqrt(var);
}

/* ---- reports ------------------------------------------------------------ */

struct compare_item *compare_item_add(struct compare_report *r, enum compare_section sec, const char *metric,
				      enum compare_unit unit, char *name)
{
	if (!name)
		return NULL;
	if (r->nitems == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		void *n = realloc(r->items, nc * sizeof(*r->items));
		if (!n) {
			free(name);
			return NULL;
		}
		r->items = n;
		r->cap = nc;
	}
	struct compare_item *it = &r->items[r->nitems++];
	memset(it, 0, sizeof(*it));
	it->section = sec;
	it->name = name;
	it->metric = metric;
	it->unit = unit;
	it->base = it->value = it->limit = it->change = it->z = it->p = NAN;
	return it;
}

int compare_note_add(struct compare_report *r, char *note)
{
	if (!note)
		return -ENOMEM;
	void *n = realloc(r->notes, (r->nnotes + 1) * sizeof(*r->notes));
	if (!n) {
		free(note);
		return -ENOMEM;
	}
	r->notes = n;
	r->notes[r->nnotes++] = note;
	return 0;
}

void compare_report_free(struct compare_report *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].name);
		free(r->items[i].message);
	}
	free(r->items);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	compare_lines_free(r);
	memset(r, 0, sizeof(*r));
}

const char *compare_value_str(char *buf, enum compare_unit u, double v)
{
	if (isnan(v))
		return "-";
	switch (u) {
	case COMPARE_BYTES:
		return fmt_bytes(buf, (int64_t)llround(v));
	case COMPARE_NS:
		return fmt_duration(buf, v < 0 ? 0 : (uint64_t)llround(v));
	case COMPARE_SHARE:
		snprintf(buf, 32, "%.1f%%", v * 100);
		return buf;
	case COMPARE_COUNT:
		break;
	}
	return fmt_count(buf, (int64_t)llround(v));
}

const char *compare_change_str(char *buf, double c)
{
	if (isnan(c))
		return "-";
	if (isinf(c))
		return c > 0 ? "new" : "gone";
	snprintf(buf, 32, "%+.1f%%", c * 100);
	return buf;
}

/* A function as people name it in a report line: "parse_line (parse.c:42)". */
void compare_func_where(char *buf, size_t len, const char *func, const char *file, int line)
{
	if (file && line)
		snprintf(buf, len, "%s (%s:%d)", func, file, line);
	else if (file)
		snprintf(buf, len, "%s (%s)", func, file);
	else
		snprintf(buf, len, "%s", func);
}

/* ---- check -------------------------------------------------------------- */

void compare_budgets_init(struct compare_budgets *b)
{
	b->max_peak = b->max_leaked = b->max_leaked_blocks = b->max_alloc_calls = -1;
	b->max_alloc_bytes = b->max_temp_calls = b->max_samples = b->max_cpu_ns = -1;
	b->max_wait_ns = -1;
}

int compare_check(const struct compare_summary *s, const struct compare_budgets *b, struct compare_report *r,
		  char **err)
{
	memset(r, 0, sizeof(*r));
	r->command = "check";
	r->samples[0] = s->samples;
	*err = NULL;
	const struct {
		double limit;
		const char *name, *metric, *what;
		enum compare_unit unit;
		double value;
		bool mem;
	} tab[] = {
	    {b->max_cpu_ns, "max-cpu", "cpu-time", "CPU time", COMPARE_NS, s->cpu_ns, false},
	    {b->max_samples, "max-samples", "samples", "CPU samples", COMPARE_COUNT, s->samples, false},
	    {b->max_alloc_calls, "max-alloc-calls", "alloc-calls", "Allocation calls", COMPARE_COUNT,
	     (double)s->alloc_calls, true},
	    {b->max_alloc_bytes, "max-alloc-bytes", "alloc-bytes", "Allocated bytes", COMPARE_BYTES,
	     (double)s->alloc_bytes, true},
	    {b->max_peak, "max-peak", "peak", "Peak heap", COMPARE_BYTES, (double)s->peak, true},
	    {b->max_leaked, "max-leaked", "leaked-bytes", "Leaked bytes", COMPARE_BYTES,
	     (double)s->leaked_bytes, true},
	    {b->max_leaked_blocks, "max-leaked-blocks", "leaked-blocks", "Leaked blocks", COMPARE_COUNT,
	     (double)s->leaked_blocks, true},
	    {b->max_temp_calls, "max-temp-calls", "temp-calls", "Temporary allocations", COMPARE_COUNT,
	     (double)s->temp_calls, true},
	    {b->max_wait_ns, "max-wait", "wait-time", "Waiting time", COMPARE_NS, s->wait_ns, false},
	};
	size_t n = sizeof(tab) / sizeof(tab[0]), set = 0;
	for (size_t i = 0; i < n; i++) {
		if (tab[i].limit < 0)
			continue;
		set++;
		if (tab[i].mem && !s->has_alloc) {
			*err = str_fmt("--%s needs allocation data, and this recording has none; record with "
				       "'fathom record --alloc'",
				       tab[i].name);
			return -EINVAL;
		}
	}
	if (b->max_wait_ns >= 0 && !s->has_wait) {
		*err =
		    strdup("--max-wait needs waits, and this recording has none; record with 'fathom record "
			   "--wait'");
		return -EINVAL;
	}
	if (b->max_temp_calls >= 0 && s->temp_unknown) {
		*err = strdup("--max-temp-calls: a sampled recording (--alloc-sample) cannot estimate "
			      "temporary allocations; record with 'fathom record --alloc'");
		return -EINVAL;
	}
	if (!set) {
		*err = strdup("no budget given (e.g. --max-peak 64M, --max-leaked 0, --max-cpu 2s)");
		return -EINVAL;
	}
	char b1[32], b2[32];
	for (size_t i = 0; i < n; i++) {
		if (tab[i].limit < 0)
			continue;
		struct compare_item *it =
		    compare_item_add(r, COMPARE_SEC_BUDGET, tab[i].metric, tab[i].unit, strdup(tab[i].name));
		if (!it)
			goto nomem;
		it->value = tab[i].value;
		it->limit = tab[i].limit;
		it->change = tab[i].limit ? tab[i].value / tab[i].limit - 1 : tab[i].value ? INFINITY : 0;
		if (tab[i].value > tab[i].limit) {
			it->status = COMPARE_FAIL;
			compare_value_str(b1, tab[i].unit, tab[i].value);
			compare_value_str(b2, tab[i].unit, tab[i].limit);
			/* Rounded for display, a value just over its budget would read
			 * as equal to it: then show the exact figures. */
			if (!strcmp(b1, b2) && tab[i].unit == COMPARE_BYTES) {
				fmt_count(b1, (int64_t)tab[i].value);
				fmt_count(b2, (int64_t)tab[i].limit);
				strcat(b1, " B");
				strcat(b2, " B");
			}
			it->message = str_fmt("%s %s exceeds the budget of %s", tab[i].what, b1, b2);
			if (!it->message)
				goto nomem;
			r->nfail++;
		}
	}
	if (s->alloc_sampled &&
	    compare_note_add(r, strdup("sampled allocation tracking: memory figures are estimates")))
		goto nomem;
	if (b->max_wait_ns >= 0 && s->wait_var > 0 &&
	    compare_note_add(
		r, str_fmt("waits shorter than the recording's threshold are sampled: the waiting time "
			   "is an estimate (± %s, two standard deviations)",
			   compare_value_str(b1, COMPARE_NS, 2 * sqrt(s->wait_var)))))
		goto nomem;
	if ((s->suppressed_blocks || s->suppressed_bytes) &&
	    compare_note_add(r, str_fmt("suppressed: %s in %" PRId64
					" block%s, not counted as leaked (glibc's one-time "
					"allocations and --suppressions; 'fathom mem' lists them)",
					compare_value_str(b1, COMPARE_BYTES, (double)s->suppressed_bytes),
					s->suppressed_blocks, s->suppressed_blocks == 1 ? "" : "s")))
		goto nomem;
	if (s->damaged &&
	    compare_note_add(r, strdup("the recording is damaged and was read up to its last good chunk")))
		goto nomem;
	if (s->lost_alloc && compare_note_add(r, str_fmt("the recording lost %" PRIu64
							 " allocation events: memory figures are not exact",
							 s->lost_alloc)))
		goto nomem;
	if (s->lost_samples &&
	    compare_note_add(r, str_fmt("the recording lost %" PRIu64 " CPU samples", s->lost_samples)))
		goto nomem;
	/* The budgets are whole-program figures, which need no names; what is
	 * named in the report (leak sites) would be addresses. */
	for (size_t i = 0; i < s->nunsym; i++)
		if (compare_note_add(
			r, str_fmt("%s %s: its functions are shown as addresses (record with 'fathom record "
				   "--symbolize' to keep the names in the dump)",
				   s->unsym[i].path, s->unsym[i].problem)))
			goto nomem;
	return 0;
nomem:
	compare_report_free(r);
	return -ENOMEM;
}
