/* The line view of a profile: the functions fathom lines shows, their
 * lines' figures, the code inlined into them and their sources (lines.h). */
#define _GNU_SOURCE
#include "lines.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_SOURCE_BYTES (64u << 20) /* a larger "source" is cut there */

static void warn(struct lines *l, char *msg)
{
	char **w = msg ? realloc(l->warnings, (l->nwarnings + 1) * sizeof(*w)) : NULL;
	if (!w) {
		free(msg);
		return;
	}
	w[l->nwarnings++] = msg;
	l->warnings = w;
}

bool lines_row_has(const struct lines *l, const struct agg_row *r)
{
	for (int m = 0; m < FA_NMETRICS; m++)
		if ((l->metrics & AGG_METRIC(m)) && (r->self[m] || r->total[m]))
			return true;
	return r->total_n > 0;
}

/* ---- sources ---- */

uint32_t lines_source(struct lines *l, const char *file, uint32_t max_line)
{
	for (size_t i = 0; i < l->nsrcs; i++)
		if (!strcmp(l->srcs[i].sf.recorded, file)) {
			if (max_line > l->srcs[i].max_line)
				l->srcs[i].max_line = max_line;
			return (uint32_t)i;
		}
	struct lines_src *s = realloc(l->srcs, (l->nsrcs + 1) * sizeof(*s));
	if (!s)
		return FA_NONE;
	l->srcs = s;
	s = &l->srcs[l->nsrcs];
	memset(s, 0, sizeof(*s));
	s->rc = source_open(&s->sf, &l->so, file, MAX_SOURCE_BYTES);
	s->max_line = max_line;
	return (uint32_t)l->nsrcs++;
}

/* Checks every source found against its build, once all of its lines are known. */
static void check_sources(struct lines *l)
{
	for (size_t i = 0; i < l->nsrcs; i++) {
		struct lines_src *s = &l->srcs[i];
		const char *what = NULL;
		int64_t built = 0;
		for (size_t k = 0; k < l->nfuncs && !built; k++)
			if (l->funcs[k].src == i)
				built = source_built_ns(l->p, l->funcs[k].func, &what);
		char why[1024];
		if (!s->rc && source_changed(&s->sf, built, what, s->max_line, why, sizeof(why))) {
			s->changed = strdup(why);
			warn(l, str_fmt("%s", why));
		}
	}
}

/* ---- choosing the functions ---- */

/* The heaviest first: by self CPU, then total CPU, then self bytes. */
static int cmp_heavy(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	static const int order[] = {FA_CPU, FA_ALLOC_BYTES};
	for (int i = 0; i < 2; i++) {
		int m = order[i];
		if (x->self[m] != y->self[m])
			return x->self[m] > y->self[m] ? -1 : 1;
		if (x->total[m] != y->total[m])
			return x->total[m] > y->total[m] ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

/* Rows of t (sorted by cmp) whose func is f: [*lo, *hi). */
static void rows_of(const struct agg_row **v, size_t n, uint32_t f, bool by_caller, size_t *lo, size_t *hi)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = (a + b) / 2;
		if ((by_caller ? v[m]->caller : v[m]->func) < f)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < n && (by_caller ? v[a]->caller : v[a]->func) == f)
		a++;
	*hi = a;
}

/* Whether the recorded file path names `want` (the whole path, or a
 * trailing part of it at a '/'). */
static bool file_matches(const char *file, const char *want, size_t wlen)
{
	size_t n = strlen(file);
	if (!wlen || n < wlen || strncmp(file + n - wlen, want, wlen))
		return false;
	return n == wlen || file[n - wlen - 1] == '/' || want[0] == '/';
}

int lines_choose(struct lines *l, const char *pattern)
{
	const struct agg_row **heavy = l->heavy;
	size_t nheavy = l->nheavy;
	const struct agg_row **pick = calloc(nheavy + 1, sizeof(*pick));
	size_t n = 0;
	if (!pick)
		return -ENOMEM;
	uint32_t target = 0;
	if (pattern) {
		/* SOURCE[:LINE] when some function of that file has figures. */
		char *colon = strrchr(pattern, ':');
		size_t wlen = strlen(pattern);
		char *end = NULL;
		if (colon && colon[1]) {
			unsigned long v = strtoul(colon + 1, &end, 10);
			if (!*end && v > 0 && v < UINT32_MAX) {
				target = (uint32_t)v;
				wlen = (size_t)(colon - pattern);
			}
		}
		for (size_t i = 0; i < nheavy; i++)
			if (heavy[i]->file && file_matches(heavy[i]->file, pattern, wlen))
				pick[n++] = heavy[i];
		if (n && target) {
			/* The function of that line: the last to start at or before it. */
			const struct agg_row *best = NULL;
			for (size_t i = 0; i < n; i++)
				if (pick[i]->line <= target && (!best || pick[i]->line > best->line))
					best = pick[i];
			n = 0;
			if (best)
				pick[n++] = best;
		}
		if (!n) {
			target = 0;
			regex_t re;
			bool ok = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
			for (size_t i = 0; i < nheavy; i++)
				if (ok ? regexec(&re, heavy[i]->name, 0, NULL, 0) == 0
				       : strstr(heavy[i]->name, pattern) != NULL)
					pick[n++] = heavy[i];
			if (ok)
				regfree(&re);
		}
		if (!n) {
			free(pick);
			return -ENOENT;
		}
	} else {
		for (size_t i = 0; i < nheavy; i++)
			pick[n++] = heavy[i];
	}
	if (l->top && n > (size_t)l->top) {
		l->more = n - (size_t)l->top;
		n = (size_t)l->top;
	}
	l->funcs = calloc(n ? n : 1, sizeof(*l->funcs));
	if (!l->funcs) {
		free(pick);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct lines_func *f = &l->funcs[i];
		f->row = pick[i];
		f->func = pick[i]->func;
		f->target = target;
		f->src = FA_NONE;
	}
	l->nfuncs = n;
	free(pick);
	return 0;
}

int lines_gather(struct lines *l)
{
	const struct agg_row **byline = malloc((l->fr.nrows + 1) * sizeof(*byline));
	const struct agg_row **bycall = malloc((l->in.nrows + 1) * sizeof(*bycall));
	const struct agg_row **bycallee = malloc((l->in.nrows + 1) * sizeof(*bycallee));
	int rc = -ENOMEM;
	if (!byline || !bycall || !bycallee)
		goto out;
	for (size_t i = 0; i < l->fr.nrows; i++)
		byline[i] = &l->fr.rows[i];
	for (size_t i = 0; i < l->in.nrows; i++)
		bycall[i] = bycallee[i] = &l->in.rows[i];
	qsort(byline, l->fr.nrows, sizeof(*byline), agg_row_cmp_line);
	qsort(bycall, l->in.nrows, sizeof(*bycall), agg_row_cmp_call_site);
	qsort(bycallee, l->in.nrows, sizeof(*bycallee), agg_row_cmp_line);
	for (size_t i = 0; i < l->nfuncs; i++) {
		struct lines_func *f = &l->funcs[i];
		size_t lo, hi;
		rows_of(byline, l->fr.nrows, f->func, false, &lo, &hi);
		if (!(f->lines = malloc((hi - lo + 1) * sizeof(*f->lines))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			if (lines_row_has(l, byline[k]))
				f->lines[f->nlines++] = byline[k];
		rows_of(bycall, l->in.nrows, f->func, true, &lo, &hi);
		if (!(f->inl = malloc((hi - lo + 1) * sizeof(*f->inl))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			if (lines_row_has(l, bycall[k]))
				f->inl[f->ninl++] = bycall[k];
		rows_of(bycallee, l->in.nrows, f->func, false, &lo, &hi);
		if (!(f->sites = malloc((hi - lo + 1) * sizeof(*f->sites))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			f->sites[f->nsites++] = bycallee[k];
		/* The lines shown: from the declaration to the end of the
		 * function in its source, and every line with figures. */
		const struct fa_func *fn = &l->p->funcs[f->func];
		uint32_t first = fn->decl_line > 0 ? (uint32_t)fn->decl_line : 0, last = first;
		for (size_t k = 0; k < f->nlines; k++) {
			uint32_t ln = f->lines[k]->line;
			if (ln && (!first || ln < first))
				first = ln;
			if (ln > last)
				last = ln;
		}
		if (f->target && f->target > last)
			last = f->target;
		if (!fn->file)
			continue;
		f->src = lines_source(l, fn->file, last);
		if (f->src == FA_NONE)
			goto out;
		const struct lines_src *s = &l->srcs[f->src];
		if (!s->rc && fn->decl_line > 0) {
			uint32_t end = source_function_end(&s->sf, (uint32_t)fn->decl_line);
			if (end > last)
				last = end;
		}
		f->first = first;
		f->last = last;
		/* The sources of the code inlined into it, for its notes. */
		for (size_t k = 0; k < f->ninl; k++)
			if (f->inl[k]->file && lines_source(l, f->inl[k]->file, f->inl[k]->line) == FA_NONE)
				goto out;
	}
	check_sources(l);
	rc = 0;
out:
	free(byline);
	free(bycall);
	free(bycallee);
	return rc;
}

static int build_tables(struct lines *l)
{
	l->metrics = AGG_METRIC(FA_CPU);
	for (int m = FA_ALLOC_CALLS; !l->tid && m < FA_NMETRICS; m++)
		if (m != FA_TEMP_CALLS && m != FA_LEAKED_BLOCKS && agg_has_metric(l->p, m))
			l->metrics |= AGG_METRIC(m);
	struct agg_opts o = {
	    .key = AGG_FUNCTION, .metrics = l->metrics, .heavy = -1, .filter = {.tid = l->tid}};
	if (agg_table_build(&l->fn, l->p, &o) < 0)
		return -ENOMEM;
	o.key = AGG_FRAME;
	if (agg_table_build(&l->fr, l->p, &o) < 0)
		return -ENOMEM;
	o.key = AGG_INLINED;
	return agg_table_build(&l->in, l->p, &o);
}

/* The directories of the dumps, where relative recorded paths (Python's)
 * are tried too. */
static int add_dump_dirs(struct lines *l)
{
	const struct profile *p = l->p;
	if (!(l->dirs = calloc(p->nprocs + 1, sizeof(*l->dirs))))
		return -ENOMEM;
	for (size_t i = 0; i < p->nprocs; i++) {
		const char *slash = strrchr(p->procs[i].path, '/');
		char *dir = slash ? strndup(p->procs[i].path, (size_t)(slash - p->procs[i].path)) : NULL;
		if (!dir)
			continue;
		l->dirs[l->ndirs++] = dir;
		if (source_add_base(&l->so, dir) < 0)
			return -ENOMEM;
	}
	return 0;
}

int lines_build(struct lines *l, const char *pattern)
{
	if (add_dump_dirs(l) < 0 || build_tables(l) < 0 ||
	    !(l->heavy = malloc((l->fn.nrows + 1) * sizeof(*l->heavy))))
		return -ENOMEM;
	int by = l->fn.total[FA_CPU] ? FA_CPU : FA_ALLOC_BYTES;
	for (size_t i = 0; i < l->fn.nrows; i++) {
		const struct agg_row *r = &l->fn.rows[i];
		if (r->func != FA_NONE && (pattern ? lines_row_has(l, r) : r->self[by] > 0))
			l->heavy[l->nheavy++] = r;
	}
	qsort(l->heavy, l->nheavy, sizeof(*l->heavy), cmp_heavy);
	return l->nheavy ? 0 : -ENODATA;
}

void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->nfuncs; i++) {
		free(l->funcs[i].lines);
		free(l->funcs[i].inl);
		free(l->funcs[i].sites);
	}
	free(l->funcs);
	for (size_t i = 0; i < l->nsrcs; i++) {
		source_close(&l->srcs[i].sf);
		free(l->srcs[i].changed);
	}
	free(l->srcs);
	for (size_t i = 0; i < l->nwarnings; i++)
		free(l->warnings[i]);
	free(l->warnings);
	agg_table_free(&l->fn);
	agg_table_free(&l->fr);
	agg_table_free(&l->in);
	free(l->heavy);
	source_opts_free(&l->so);
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i]);
	free(l->dirs);
}
