/* CI verdicts: summaries of recordings, the statistics of `fathom diff`, the
 * budgets of `fathom check` (their writers are in compare-out.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "compare.h"
#include "fathom-dump.h"
#include "outfile.h"
#include "outputs.h"
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

/* The factor by which a function's time grew relative to the rest of the
 * program: the odds ratio of its shares. A function that takes 30% longer
 * while everything else stays the same has an odds ratio of exactly 1.3,
 * whatever its share, whereas its share grows by less and by an amount that
 * depends on the share. Shares are kept half a sample away from 0 and 1 so
 * that a function absent from one run gives a large finite figure. */
static double odds_ratio(double p1, double n1, double p2, double n2)
{
	double e1 = 0.5 / n1, e2 = 0.5 / n2;
	p1 = fmin(fmax(p1, e1), 1 - e1);
	p2 = fmin(fmax(p2, e2), 1 - e2);
	return (p2 / (1 - p2)) / (p1 / (1 - p1));
}

/* ---- reports ------------------------------------------------------------ */

static struct compare_item *add_item(struct compare_report *r, enum compare_section sec, const char *metric,
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

static int add_note(struct compare_report *r, char *note)
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

/* ---- diff --------------------------------------------------------------- */

void compare_opts_default(struct compare_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold = 0.05;
	o->cpu_threshold = 0.10;
	o->wait_threshold = 0.20;
	o->func_threshold = 0.10;
	o->alpha = 0.001;
	o->min_share = 0.005;
	o->top = 10;
}

const char *const compare_metric_names[] = {"cpu",	   "cpu-time", "functions", "alloc-calls",
					    "alloc-bytes", "peak",     "leaked",    "temp-calls",
					    "memory",	   "wait",     "all",	    NULL};

unsigned compare_metric_parse(const char *name)
{
	static const struct {
		const char *name;
		unsigned bits;
	} tab[] = {
	    {"cpu", COMPARE_M_CPU},
	    {"cpu-time", COMPARE_M_CPU_TIME},
	    {"functions", COMPARE_M_FUNCS},
	    {"cpu-functions", COMPARE_M_FUNCS},
	    {"alloc-calls", COMPARE_M_ALLOC_CALLS},
	    {"alloc-bytes", COMPARE_M_ALLOC_BYTES},
	    {"peak", COMPARE_M_PEAK},
	    {"peak-bytes", COMPARE_M_PEAK},
	    {"leaked", COMPARE_M_LEAKED},
	    {"leaks", COMPARE_M_LEAKED},
	    {"leaked-bytes", COMPARE_M_LEAKED},
	    {"leaked-blocks", COMPARE_M_LEAKED},
	    {"temp-calls", COMPARE_M_TEMP_CALLS},
	    {"memory", COMPARE_M_MEM},
	    {"wait", COMPARE_M_WAIT},
	    {"waiting", COMPARE_M_WAIT},
	    {"all", COMPARE_M_ALL},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(name, tab[i].name))
			return tab[i].bits;
	return 0;
}

static int cmp_key(const struct compare_func *a, const struct compare_func *b)
{
	int c = strcmp(a->name, b->name);
	if (c)
		return c;
	c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
	if (c)
		return c;
	return strcmp(a->module ? a->module : "", b->module ? b->module : "");
}

/* ---- matching functions across recordings ------------------------------- */

/* A function is the same in both recordings when its name, its module's
 * basename and its source path agree, the paths rewritten first: two
 * checkouts of one project differ in the directory they sit in, not in the
 * project's own paths. */
struct matching {
	char **bkey, **nkey; /* per function of base and new: the source path matched on, or NULL */
	char *from, *to;     /* the prefix found automatically, or NULL */
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_basename(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strcmp(base_name(x), base_name(y));
	return c ? c : strcmp(x, y);
}

/* The distinct source files of s, sorted by cmp; NULL when out of memory. */
static const char **distinct_files(const struct compare_summary *s, size_t *n,
				   int (*cmp)(const void *, const void *))
{
	const char **v = malloc((s->nfuncs + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; v && i < s->nfuncs; i++)
		if (s->funcs[i].file)
			v[k++] = s->funcs[i].file;
	if (!v)
		return NULL;
	qsort(v, k, sizeof(*v), cmp);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || strcmp(v[u - 1], v[i]))
			v[u++] = v[i];
	*n = u;
	return v;
}

struct vote {
	char *from, *to;
	size_t n;
};

/* Where the paths f (base) and g (new), which end alike, differ: the
 * directories before their common tail of whole path components. */
static int vote(struct vote **votes, size_t *nvotes, const char *f, const char *g)
{
	size_t lf = strlen(f), i = lf, j = strlen(g);
	while (i && j && f[i - 1] == g[j - 1])
		i--, j--;
	while (i < lf && (i == 0 || f[i - 1] != '/'))
		i++, j++;
	if (i == 0 || j == 0 || i == lf)
		return 0;
	for (size_t k = 0; k < *nvotes; k++)
		if (strlen((*votes)[k].from) == i && strlen((*votes)[k].to) == j &&
		    !strncmp((*votes)[k].from, f, i) && !strncmp((*votes)[k].to, g, j)) {
			(*votes)[k].n++;
			return 0;
		}
	void *nv = realloc(*votes, (*nvotes + 1) * sizeof(**votes));
	if (!nv)
		return -ENOMEM;
	*votes = nv;
	struct vote *v = &(*votes)[(*nvotes)++];
	v->from = strndup(f, i);
	v->to = strndup(g, j);
	v->n = 1;
	return v->from && v->to ? 0 : -ENOMEM;
}

/* The prefix the base's source paths have where the new recording's have
 * another: every base file the new recording lacks votes for how it differs
 * from the new files of the same name, and the most common answer wins. */
static int detect_prefix(const struct compare_summary *base, const struct compare_summary *cur,
			 struct matching *mt)
{
	size_t nb = 0, nn = 0, nvotes = 0;
	const char **bf = distinct_files(base, &nb, by_str);
	const char **nf = distinct_files(cur, &nn, by_str);
	const char **nbase = distinct_files(cur, &nn, by_basename);
	struct vote *votes = NULL;
	int ret = -ENOMEM;
	if (!bf || !nf || !nbase)
		goto out;
	for (size_t i = 0; i < nb; i++) {
		if (bsearch(&bf[i], nf, nn, sizeof(*nf), by_str))
			continue;
		const char *name = base_name(bf[i]);
		size_t lo = 0, hi = nn;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(base_name(nbase[mid]), name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < nn && !strcmp(base_name(nbase[k]), name); k++)
			if (vote(&votes, &nvotes, bf[i], nbase[k]) < 0)
				goto out;
	}
	size_t best = nvotes;
	for (size_t k = 0; k < nvotes; k++)
		if (best == nvotes || votes[k].n > votes[best].n)
			best = k;
	if (best < nvotes) {
		mt->from = votes[best].from;
		mt->to = votes[best].to;
		votes[best].from = votes[best].to = NULL;
	}
	ret = 0;
out:
	for (size_t k = 0; k < nvotes; k++) {
		free(votes[k].from);
		free(votes[k].to);
	}
	free(votes);
	free(bf);
	free(nf);
	free(nbase);
	return ret;
}

/* path with its prefix `from` replaced by `to` when it starts with it; a copy. */
static char *remap(const char *path, const char *from, size_t from_len, const char *to)
{
	char *out;
	if (!path)
		return NULL;
	if (from && !strncmp(path, from, from_len)) {
		if (asprintf(&out, "%s%s", to, path + from_len) < 0)
			return NULL;
		return out;
	}
	return strdup(path);
}

/* path rewritten by the --prefix-map whose OLD is the longest prefix of it. */
static char *remap_explicit(const char *path, const struct compare_opts *o)
{
	const char *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; path && i < o->nprefix_maps; i++) {
		const char *eq = strchr(o->prefix_maps[i], '=');
		size_t len = eq ? (size_t)(eq - o->prefix_maps[i]) : 0;
		if (eq && len >= best_len && !strncmp(path, o->prefix_maps[i], len)) {
			best = o->prefix_maps[i];
			best_len = len;
		}
	}
	return remap(path, best, best_len, best ? best + best_len + 1 : NULL);
}

static void matching_free(struct matching *mt, size_t nb, size_t nn)
{
	for (size_t i = 0; mt->bkey && i < nb; i++)
		free(mt->bkey[i]);
	for (size_t i = 0; mt->nkey && i < nn; i++)
		free(mt->nkey[i]);
	free(mt->bkey);
	free(mt->nkey);
	free(mt->from);
	free(mt->to);
	memset(mt, 0, sizeof(*mt));
}

static int matching_init(struct matching *mt, const struct compare_summary *base,
			 const struct compare_summary *cur, const struct compare_opts *o)
{
	memset(mt, 0, sizeof(*mt));
	mt->bkey = calloc(base->nfuncs + 1, sizeof(*mt->bkey));
	mt->nkey = calloc(cur->nfuncs + 1, sizeof(*mt->nkey));
	if (!mt->bkey || !mt->nkey || (!o->nprefix_maps && detect_prefix(base, cur, mt) < 0))
		goto nomem;
	for (int side = 0; side < 2; side++) {
		const struct compare_summary *s = side ? cur : base;
		char **key = side ? mt->nkey : mt->bkey;
		for (size_t i = 0; i < s->nfuncs; i++) {
			const char *f = s->funcs[i].file;
			if (o->nprefix_maps)
				key[i] = remap_explicit(f, o);
			else
				key[i] =
				    remap(f, side ? NULL : mt->from, mt->from ? strlen(mt->from) : 0, mt->to);
			if (f && !key[i])
				goto nomem;
		}
	}
	return 0;
nomem:
	matching_free(mt, base->nfuncs, cur->nfuncs);
	return -ENOMEM;
}

struct keyed {
	const struct compare_func *f;
	const char *file;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->f->name, y->f->name);
	if (c)
		return c;
	c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	return strcmp(x->f->module ? x->f->module : "", y->f->module ? y->f->module : "");
}

/* A function matched across the two recordings; either side may be missing. */
struct pair {
	const struct compare_func *b, *n;
	double s1, s2, t1, t2; /* self and total shares */
	double zs, zt, es, et; /* z-scores and odds ratios - 1 */
	bool test_self, test_total;
};

static struct pair *match_funcs(const struct compare_summary *base, const struct compare_summary *cur,
				const struct matching *mt, size_t *npairs)
{
	struct keyed *a = malloc((base->nfuncs + 1) * sizeof(*a));
	struct keyed *b = malloc((cur->nfuncs + 1) * sizeof(*b));
	struct pair *out = calloc(base->nfuncs + cur->nfuncs + 1, sizeof(*out));
	if (!a || !b || !out) {
		free(a);
		free(b);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < base->nfuncs; i++)
		a[i] = (struct keyed){&base->funcs[i], mt->bkey[i]};
	for (size_t i = 0; i < cur->nfuncs; i++)
		b[i] = (struct keyed){&cur->funcs[i], mt->nkey[i]};
	qsort(a, base->nfuncs, sizeof(*a), cmp_keyed);
	qsort(b, cur->nfuncs, sizeof(*b), cmp_keyed);
	size_t i = 0, j = 0, n = 0;
	while (i < base->nfuncs || j < cur->nfuncs) {
		int c = i == base->nfuncs ? 1 : j == cur->nfuncs ? -1 : cmp_keyed(&a[i], &b[j]);
		out[n].b = c <= 0 ? a[i++].f : NULL;
		out[n].n = c >= 0 ? b[j++].f : NULL;
		n++;
	}
	free(a);
	free(b);
	*npairs = n;
	return out;
}

/* Whether s lists module `name` among those without names. */
static bool unsym_has(const struct compare_summary *s, const char *name)
{
	for (size_t i = 0; name && i < s->nunsym; i++)
		if (!strcmp(s->unsym[i].name, name))
			return true;
	return false;
}

/* A function of a module that could not be symbolized on either side is an
 * address, or is matched against addresses: no verdict on it either way. */
static bool unjudged(const struct compare_summary *base, const struct compare_summary *cur,
		     const struct pair *p)
{
	const struct compare_func *f = p->n ? p->n : p->b;
	return (p->b && p->b->unsymbolized) || (p->n && p->n->unsymbolized) || unsym_has(base, f->module) ||
	       unsym_has(cur, f->module);
}

static const struct compare_func *pair_func(const struct pair *p)
{
	return p->n ? p->n : p->b;
}

static int by_self_growth(const void *a, const void *b)
{
	const struct pair *x = *(const struct pair *const *)a, *y = *(const struct pair *const *)b;
	double dx = x->s2 - x->s1, dy = y->s2 - y->s1;
	return dx < dy ? 1 : dx > dy ? -1 : cmp_key(pair_func(x), pair_func(y));
}

/* Judges one whole-program figure against a relative threshold. */
static struct compare_item *judge_relative(struct compare_report *r, const char *metric,
					   enum compare_unit unit, double base, double value,
					   double threshold, const char *what)
{
	struct compare_item *it = add_item(r, COMPARE_SEC_PROGRAM, metric, unit, strdup(metric));
	if (!it)
		return NULL;
	it->base = base;
	it->value = value;
	it->limit = threshold;
	it->change = base ? value / base - 1 : value ? INFINITY : 0;
	char b1[32], b2[32];
	if (it->change > threshold) {
		it->status = COMPARE_FAIL;
		it->message = str_fmt("%s grew from %s to %s (%s), more than the %.0f%% allowed", what,
				      compare_value_str(b1, unit, base), compare_value_str(b2, unit, value),
				      isinf(it->change) ? "from nothing"
							: compare_change_str((char[32]){0}, it->change),
				      threshold * 100);
	} else if (it->change < -threshold) {
		it->status = COMPARE_IMPROVED;
	}
	return it;
}

static int diff_cpu_time(const struct compare_summary *base, const struct compare_summary *cur,
			 const struct compare_opts *o, unsigned sel, struct compare_report *r)
{
	bool wall = base->clock != FD_CLOCK_CPU || cur->clock != FD_CLOCK_CPU;
	/* Wall-clock time grows with the load on the machine, not only with the
	 * program's work, so it is shown but judged only on request. */
	if (wall && !(o->metrics_explicit && (sel & COMPARE_M_CPU_TIME))) {
		struct compare_item *it =
		    add_item(r, COMPARE_SEC_PROGRAM, "cpu-time", COMPARE_NS, strdup("cpu-time"));
		if (!it)
			return -ENOMEM;
		it->base = base->cpu_ns / (double)base->runs;
		it->value = cur->cpu_ns / (double)cur->runs;
		it->change = it->base ? it->value / it->base - 1 : NAN;
		it->status = COMPARE_SKIPPED;
		it->message = strdup("wall-clock recordings: sampled time depends on the machine's load; "
				     "name --metric cpu-time to judge it");
		return it->message ? 0 : -ENOMEM;
	}
	struct compare_item *it = judge_relative(r, "cpu-time", COMPARE_NS, base->cpu_ns / (double)base->runs,
						 cur->cpu_ns / (double)cur->runs, o->cpu_threshold,
						 wall ? "Sampled wall time" : "CPU time");
	return it ? 0 : -ENOMEM;
}

/* The waiting time per run: a growth beyond the threshold fails unless it is
 * within two standard deviations of the two estimates' difference (short
 * waits are sampled: wait.h). */
static int diff_wait(const struct compare_summary *base, const struct compare_summary *cur,
		     const struct compare_opts *o, struct compare_report *r)
{
	double rb = (double)base->runs, rn = (double)cur->runs;
	struct compare_item *it = judge_relative(r, "wait-time", COMPARE_NS, base->wait_ns / rb,
						 cur->wait_ns / rn, o->wait_threshold, "Waiting time");
	if (!it)
		return -ENOMEM;
	double noise = 2 * sqrt(base->wait_var / (rb * rb) + cur->wait_var / (rn * rn));
	if (it->status == COMPARE_FAIL && it->value - it->base <= noise) {
		char b1[32];
		it->status = COMPARE_OK;
		free(it->message);
		it->message = str_fmt("grew within the estimate's error (± %s): not judged a regression",
				      compare_value_str(b1, COMPARE_NS, noise));
		if (!it->message)
			return -ENOMEM;
	}
	return 0;
}

static int diff_funcs(const struct compare_summary *base, const struct compare_summary *cur,
		      const struct compare_opts *o, const struct matching *mt, struct compare_report *r)
{
	size_t np, nord = 0;
	struct pair *pairs = match_funcs(base, cur, mt, &np);
	struct pair **order = pairs ? malloc((np + 1) * sizeof(*order)) : NULL;
	int ret = -ENOMEM;
	if (!order)
		goto out;
	double n1 = base->samples, n2 = cur->samples;
	size_t tests = 0;
	for (size_t i = 0; i < np; i++) {
		struct pair *p = &pairs[i];
		p->s1 = p->b ? p->b->self_n / n1 : 0;
		p->t1 = p->b ? p->b->total_n / n1 : 0;
		p->s2 = p->n ? p->n->self_n / n2 : 0;
		p->t2 = p->n ? p->n->total_n / n2 : 0;
		p->zs = compare_two_prop_z(p->s1 * n1, n1, p->s2 * n2, n2);
		p->zt = compare_two_prop_z(p->t1 * n1, n1, p->t2 * n2, n2);
		p->es = odds_ratio(p->s1, n1, p->s2, n2) - 1;
		p->et = odds_ratio(p->t1, n1, p->t2, n2) - 1;
		p->test_self = fmax(p->s1, p->s2) >= o->min_share;
		/* A leaf's total is its self: testing it again would only spend alpha. */
		bool same = fabs(p->t1 - p->s1) < 1e-12 && fabs(p->t2 - p->s2) < 1e-12;
		p->test_total = fmax(p->t1, p->t2) >= o->min_share && !same && fmin(p->t1, p->t2) < 1 - 1e-9;
		if (unjudged(base, cur, p)) {
			p->test_self = p->test_total = false;
			continue;
		}
		tests += p->test_self + p->test_total;
		order[nord++] = p;
	}
	/* Bonferroni: the family-wise chance of any false alarm stays below alpha. */
	double zc = compare_normal_quantile(o->alpha / (double)(tests ? tests : 1));
	r->tests = tests;
	r->z_crit = zc;
	double shrink = -o->func_threshold / (1 + o->func_threshold);
	size_t nslow = 0;
	char b1[32], b2[32], where[512];
	for (size_t i = 0; i < np; i++) {
		struct pair *p = &pairs[i];
		const struct compare_func *f = pair_func(p);
		bool self_bad = p->test_self && p->zs > zc && p->es > o->func_threshold;
		bool total_bad = p->test_total && p->zt > zc && p->et > o->func_threshold;
		if (!self_bad && !total_bad)
			continue;
		/* A function slower in itself is named once, by its self time; its
		 * total shows only when the growth is in what it calls. */
		bool self = self_bad;
		struct compare_item *it =
		    add_item(r, COMPARE_SEC_FUNCTION, self ? "cpu-self" : "cpu-total", COMPARE_SHARE,
			     str_fmt("cpu %s: %s", self ? "self" : "total", f->name));
		if (!it)
			goto out;
		it->func = f->name;
		it->file = f->file;
		it->line = f->line;
		it->base = self ? p->s1 : p->t1;
		it->value = self ? p->s2 : p->t2;
		it->change = self ? p->es : p->et;
		it->z = self ? p->zs : p->zt;
		it->p = compare_normal_tail(it->z);
		it->limit = o->func_threshold;
		it->status = COMPARE_FAIL;
		compare_func_where(where, sizeof(where), f->name, f->file, f->line);
		it->message =
		    str_fmt("%s%s takes %.0f%% longer relative to the rest of the program: %s share %s -> %s "
			    "(z = %.1f, needs > %.1f)",
			    where, p->b ? "" : " (new)", it->change * 100, self ? "self" : "total",
			    compare_value_str(b1, COMPARE_SHARE, it->base),
			    compare_value_str(b2, COMPARE_SHARE, it->value), it->z, zc);
		if (!it->message)
			goto out;
		nslow++;
	}
	if (!nslow) {
		struct compare_item *it =
		    add_item(r, COMPARE_SEC_PROGRAM, "cpu-functions", COMPARE_COUNT, strdup("cpu-functions"));
		if (!it)
			goto out;
		it->value = (double)tests;
		it->limit = o->func_threshold;
		it->message = str_fmt("%zu function shares tested; no function is significantly slower "
				      "(z > %.2f) by more than %.0f%%",
				      tests, zc, o->func_threshold * 100);
		if (!it->message)
			goto out;
	}
	/* What grew and shrank most, by self share, significant or not. */
	qsort(order, nord, sizeof(*order), by_self_growth);
	size_t top = o->top;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0, shown = 0; k < nord && shown < top; k++) {
			struct pair *p = pass == 0 ? order[k] : order[nord - 1 - k];
			double d = p->s2 - p->s1;
			if (pass == 0 ? !(d > 0) : !(d < 0))
				break;
			/* Code named on one side only (its module unsymbolized on
			 * the other) grows from nothing: not listed either. */
			if (unjudged(base, cur, p))
				continue;
			shown++;
			const struct compare_func *f = pair_func(p);
			struct compare_item *it =
			    add_item(r, pass == 0 ? COMPARE_SEC_GREW : COMPARE_SEC_SHRANK, "cpu-self",
				     COMPARE_SHARE, strdup(f->name));
			if (!it)
				goto out;
			it->func = f->name;
			it->file = f->file;
			it->line = f->line;
			it->base = p->s1;
			it->value = p->s2;
			it->change = p->es;
			it->z = p->zs;
			it->p = compare_normal_tail(p->zs);
			bool bad = p->test_self && p->zs > zc && p->es > o->func_threshold;
			bool good = p->test_self && p->zs < -zc && p->es < shrink;
			it->status = bad ? COMPARE_FAIL : good ? COMPARE_IMPROVED : COMPARE_OK;
		}
	}
	ret = 0;
out:
	free(order);
	free(pairs);
	return ret;
}

/* Leak sites of the new recording that leak more blocks than in the base. */
static int diff_leak_sites(const struct compare_summary *base, const struct compare_summary *cur,
			   const struct matching *mt, struct compare_report *r)
{
	size_t np;
	struct pair *pairs = match_funcs(base, cur, mt, &np);
	if (!pairs)
		return -ENOMEM;
	char b1[32], where[512];
	int ret = 0;
	for (size_t i = 0; i < np && !ret; i++) {
		const struct pair *p = &pairs[i];
		double before = p->b ? (double)p->b->leaked_blocks / (double)base->runs : 0;
		double after = p->n ? (double)p->n->leaked_blocks / (double)cur->runs : 0;
		if (!p->n || after <= before || unjudged(base, cur, p))
			continue;
		const struct compare_func *f = p->n;
		struct compare_item *it = add_item(r, COMPARE_SEC_FUNCTION, "leak-site", COMPARE_COUNT,
						   str_fmt("leak: %s", f->name));
		if (!it) {
			ret = -ENOMEM;
			break;
		}
		it->func = f->name;
		it->file = f->file;
		it->line = f->leak_line ? f->leak_line : f->line;
		it->base = before;
		it->value = after;
		it->change = before ? after / before - 1 : INFINITY;
		it->status = COMPARE_FAIL;
		compare_func_where(where, sizeof(where), f->name, f->file, it->line);
		it->message =
		    str_fmt("%s leaks %g block%s (%s) at exit%s; the base leaked %g there", where, after,
			    after == 1 ? "" : "s",
			    fmt_bytes(b1, (int64_t)llround((double)f->leaked_bytes / (double)cur->runs)),
			    cur->runs > 1 || base->runs > 1 ? " per run" : "", before);
		if (!it->message)
			ret = -ENOMEM;
	}
	free(pairs);
	return ret;
}

/* The allocating site whose figure grew most, for a failure message. */
static const struct compare_func *grew_most(const struct compare_summary *base,
					    const struct compare_summary *cur, const struct matching *mt,
					    bool bytes, double *growth)
{
	size_t np;
	struct pair *pairs = match_funcs(base, cur, mt, &np);
	const struct compare_func *best = NULL;
	double bd = 0;
	for (size_t i = 0; pairs && i < np; i++) {
		if (unjudged(base, cur, &pairs[i]))
			continue;
		double a = pairs[i].b ? (double)(bytes ? pairs[i].b->alloc_bytes : pairs[i].b->alloc_calls) /
					    (double)base->runs
				      : 0;
		double b = pairs[i].n ? (double)(bytes ? pairs[i].n->alloc_bytes : pairs[i].n->alloc_calls) /
					    (double)cur->runs
				      : 0;
		if (b - a > bd) {
			bd = b - a;
			best = pairs[i].n;
		}
	}
	free(pairs);
	*growth = bd;
	return best;
}

static int diff_memory(const struct compare_summary *base, const struct compare_summary *cur,
		       const struct compare_opts *o, const struct matching *mt, unsigned sel,
		       struct compare_report *r)
{
	bool exact = !base->alloc_sampled && !cur->alloc_sampled;
	if (!exact &&
	    add_note(r, strdup("a recording used sampled allocation tracking: memory figures are "
			       "estimates, leaks are judged by the threshold and leak sites are not judged")))
		return -ENOMEM;
	static const struct {
		unsigned bit;
		const char *metric, *what;
		enum compare_unit unit;
		size_t off;
	} tab[] = {
	    {COMPARE_M_ALLOC_CALLS, "alloc-calls", "Allocation calls", COMPARE_COUNT,
	     offsetof(struct compare_summary, alloc_calls)},
	    {COMPARE_M_ALLOC_BYTES, "alloc-bytes", "Allocated bytes", COMPARE_BYTES,
	     offsetof(struct compare_summary, alloc_bytes)},
	    {COMPARE_M_PEAK, "peak", "Peak heap", COMPARE_BYTES, offsetof(struct compare_summary, peak)},
	    {COMPARE_M_LEAKED, "leaked-bytes", "Leaked bytes", COMPARE_BYTES,
	     offsetof(struct compare_summary, leaked_bytes)},
	    {COMPARE_M_LEAKED, "leaked-blocks", "Leaked blocks", COMPARE_COUNT,
	     offsetof(struct compare_summary, leaked_blocks)},
	    {COMPARE_M_TEMP_CALLS, "temp-calls", "Temporary allocations", COMPARE_COUNT,
	     offsetof(struct compare_summary, temp_calls)},
	};
	char b1[32], where[512];
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!(sel & tab[i].bit))
			continue;
		double a = (double)*(const int64_t *)((const char *)base + tab[i].off);
		double b = (double)*(const int64_t *)((const char *)cur + tab[i].off);
		/* Totals of merged runs are compared per run; a peak is already the
		 * largest of any process. */
		if (tab[i].bit != COMPARE_M_PEAK) {
			a /= (double)base->runs;
			b /= (double)cur->runs;
		}
		if (tab[i].bit == COMPARE_M_TEMP_CALLS && (base->temp_unknown || cur->temp_unknown)) {
			if (add_note(r,
				     strdup("temp-calls: not compared: a sampled recording cannot estimate "
					    "temporary allocations")))
				return -ENOMEM;
			continue;
		}
		bool leak = tab[i].bit == COMPARE_M_LEAKED;
		/* In an exact recording any new leaked byte is a real leak. */
		struct compare_item *it = judge_relative(r, tab[i].metric, tab[i].unit, a, b,
							 leak && exact ? 0 : o->threshold, tab[i].what);
		if (!it)
			return -ENOMEM;
		bool calls = tab[i].bit == COMPARE_M_ALLOC_CALLS, bytes = tab[i].bit == COMPARE_M_ALLOC_BYTES;
		if (it->status == COMPARE_FAIL && (calls || bytes)) {
			double g;
			const struct compare_func *f = grew_most(base, cur, mt, bytes, &g);
			if (f) {
				compare_func_where(where, sizeof(where), f->name, f->file, f->line);
				char *m = str_fmt("%s; most of the growth is in %s (+%s)", it->message, where,
						  compare_value_str(b1, tab[i].unit, g));
				if (!m)
					return -ENOMEM;
				free(it->message);
				it->message = m;
			}
		}
		if (it->status == COMPARE_FAIL && leak && exact) {
			char *m = str_fmt("%s grew from %s to %s; in an exact recording any new leak fails",
					  tab[i].what, compare_value_str(b1, tab[i].unit, a),
					  compare_value_str((char[32]){0}, tab[i].unit, b));
			free(it->message);
			it->message = m;
		}
		if (it->status == COMPARE_FAIL && !it->message)
			return -ENOMEM;
	}
	if ((sel & COMPARE_M_LEAKED) && exact)
		return diff_leak_sites(base, cur, mt, r);
	return 0;
}

/* One skipped item per module that could not be symbolized, saying why and
 * how much of the recording it holds: its functions get no verdict. */
static int unsym_items(const struct compare_summary *base, const struct compare_summary *cur,
		       double min_share, struct compare_report *r)
{
	const struct compare_summary *sides[2] = {base, cur};
	for (int side = 0; side < 2; side++) {
		const struct compare_summary *s = sides[side];
		for (size_t i = 0; i < s->nunsym; i++) {
			const struct compare_unsym *u = &s->unsym[i];
			struct compare_item *it =
			    add_item(r, COMPARE_SEC_PROGRAM, "cpu-functions", COMPARE_SHARE,
				     str_fmt("unsymbolized %s (%s)", u->name, side ? "new" : "base"));
			if (!it)
				return -ENOMEM;
			it->status = COMPARE_SKIPPED;
			it->base = side ? NAN : (s->samples > 0 ? u->self_n / s->samples : 0);
			it->value = side ? (s->samples > 0 ? u->self_n / s->samples : 0) : NAN;
			it->message = str_fmt(
			    "%s: %s %s, so its code (%.1f%% of the %s recording's CPU samples) is "
			    "shown as addresses; none of its functions is judged, in either recording. "
			    "Record with 'fathom record --symbolize' to keep the names in the dump",
			    side ? "new recording" : "base recording", u->path, u->problem,
			    s->samples > 0 ? 100 * u->self_n / s->samples : 0.0, side ? "new" : "base");
			if (!it->message)
				return -ENOMEM;
			if (s->samples > 0 && u->self_n / s->samples >= min_share &&
			    u->self_n / s->samples > r->unjudged)
				r->unjudged = u->self_n / s->samples;
		}
	}
	return 0;
}

int compare_diff(const struct compare_summary *base, const struct compare_summary *cur,
		 const struct compare_opts *o, struct compare_report *r, char **err)
{
	memset(r, 0, sizeof(*r));
	r->command = "diff";
	r->samples[0] = base->samples;
	r->samples[1] = cur->samples;
	*err = NULL;
	unsigned sel = o->metrics ? o->metrics : COMPARE_M_ALL;
	bool cpu_b = base->samples > 0, cpu_n = cur->samples > 0;
	int ret = 0;
	struct matching mt;
	if (matching_init(&mt, base, cur, o) < 0)
		return -ENOMEM;
	if (mt.from &&
	    add_note(r, str_fmt("source paths under %s in the base are matched to %s in the new recording "
				"(two checkouts; --prefix-map OLD=NEW to say otherwise)",
				mt.from, mt.to)))
		goto nomem;
	if ((ret = unsym_items(base, cur, o->min_share, r)))
		goto fail;
	if (sel & COMPARE_M_CPU) {
		if (!cpu_b || !cpu_n) {
			const char *which = !cpu_b && !cpu_n ? "neither recording has"
					    : !cpu_b	     ? "the base recording has no"
							     : "the new recording has no";
			if (o->metrics_explicit) {
				*err = str_fmt("%s CPU samples to compare", which);
				ret = -EINVAL;
				goto fail;
			}
			/* Only worth a note when one side has them: that is likely a mistake. */
			if ((cpu_b || cpu_n) &&
			    add_note(r, str_fmt("CPU not compared: %s CPU samples", which)))
				goto nomem;
		} else {
			if ((sel & COMPARE_M_CPU_TIME) && (ret = diff_cpu_time(base, cur, o, sel, r)))
				goto fail;
			if ((sel & COMPARE_M_FUNCS) && (ret = diff_funcs(base, cur, o, &mt, r)))
				goto fail;
		}
	}
	if (sel & COMPARE_M_MEM) {
		if (!base->has_alloc || !cur->has_alloc) {
			const char *which = !base->has_alloc && !cur->has_alloc ? "neither recording has"
					    : !base->has_alloc			? "the base recording has no"
										: "the new recording has no";
			if (o->metrics_explicit) {
				*err = str_fmt("%s allocation data; record both with 'fathom record --alloc'",
					       which);
				ret = -EINVAL;
				goto fail;
			}
			/* Only worth a note when one side has it: that is likely a mistake. */
			if ((base->has_alloc || cur->has_alloc) &&
			    add_note(
				r,
				str_fmt("memory not compared: %s allocation data (record both with --alloc)",
					which)))
				goto nomem;
		} else if ((ret = diff_memory(base, cur, o, &mt, sel, r))) {
			goto fail;
		}
	}
	if (sel & COMPARE_M_WAIT) {
		if (!base->has_wait || !cur->has_wait) {
			const char *which = !base->has_wait && !cur->has_wait ? "neither recording has"
					    : !base->has_wait		      ? "the base recording has no"
									      : "the new recording has no";
			/* Named (not as part of "all"): a missing input is an error. */
			if (o->metrics_explicit && o->metrics != COMPARE_M_ALL) {
				*err = str_fmt("%s waits; record both with 'fathom record --wait'", which);
				ret = -EINVAL;
				goto fail;
			}
			if ((base->has_wait || cur->has_wait) &&
			    add_note(r, str_fmt("waiting not compared: %s waits (record both with --wait)",
						which)))
				goto nomem;
		} else if ((ret = diff_wait(base, cur, o, r))) {
			goto fail;
		}
	}
	const struct compare_summary *sides[2] = {base, cur};
	const char *side_name[2] = {"base", "new"};
	if ((base->runs > 1 || cur->runs > 1) &&
	    add_note(
		r, str_fmt(
		       "runs merged: %zu base, %zu new; totals are compared per run, shares over all samples",
		       base->runs, cur->runs)))
		goto nomem;
	for (int i = 0; i < 2; i++) {
		const struct compare_summary *s = sides[i];
		if (s->damaged &&
		    add_note(r, str_fmt("the %s recording is damaged and was read up to its last good chunk",
					side_name[i])))
			goto nomem;
		if (s->lost_samples && add_note(r, str_fmt("the %s recording lost %" PRIu64 " CPU samples",
							   side_name[i], s->lost_samples)))
			goto nomem;
		if (s->lost_alloc &&
		    add_note(r, str_fmt("the %s recording lost %" PRIu64 " allocation events: its "
					"memory figures are not exact",
					side_name[i], s->lost_alloc)))
			goto nomem;
	}
	for (size_t i = 0; i < r->nitems; i++)
		if (r->items[i].status == COMPARE_FAIL && r->items[i].section <= COMPARE_SEC_FUNCTION)
			r->nfail++;
	matching_free(&mt, base->nfuncs, cur->nfuncs);
	return 0;
nomem:
	ret = -ENOMEM;
fail:
	matching_free(&mt, base->nfuncs, cur->nfuncs);
	compare_report_free(r);
	return ret;
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
		    add_item(r, COMPARE_SEC_BUDGET, tab[i].metric, tab[i].unit, strdup(tab[i].name));
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
	    add_note(r, strdup("sampled allocation tracking: memory figures are estimates")))
		goto nomem;
	if (b->max_wait_ns >= 0 && s->wait_var > 0 &&
	    add_note(r, str_fmt("waits shorter than the recording's threshold are sampled: the waiting time "
				"is an estimate (± %s, two standard deviations)",
				compare_value_str(b1, COMPARE_NS, 2 * sqrt(s->wait_var)))))
		goto nomem;
	if ((s->suppressed_blocks || s->suppressed_bytes) &&
	    add_note(r,
		     str_fmt("suppressed: %s in %" PRId64 " block%s, not counted as leaked (glibc's one-time "
			     "allocations and --suppressions; 'fathom mem' lists them)",
			     compare_value_str(b1, COMPARE_BYTES, (double)s->suppressed_bytes),
			     s->suppressed_blocks, s->suppressed_blocks == 1 ? "" : "s")))
		goto nomem;
	if (s->damaged &&
	    add_note(r, strdup("the recording is damaged and was read up to its last good chunk")))
		goto nomem;
	if (s->lost_alloc && add_note(r, str_fmt("the recording lost %" PRIu64
						 " allocation events: memory figures are not exact",
						 s->lost_alloc)))
		goto nomem;
	if (s->lost_samples &&
	    add_note(r, str_fmt("the recording lost %" PRIu64 " CPU samples", s->lost_samples)))
		goto nomem;
	/* The budgets are whole-program figures, which need no names; what is
	 * named in the report (leak sites) would be addresses. */
	for (size_t i = 0; i < s->nunsym; i++)
		if (add_note(
			r, str_fmt("%s %s: its functions are shown as addresses (record with 'fathom record "
				   "--symbolize' to keep the names in the dump)",
				   s->unsym[i].path, s->unsym[i].problem)))
			goto nomem;
	return 0;
nomem:
	compare_report_free(r);
	return -ENOMEM;
}
