/* `fathom diff`: two summaries compared, figure by figure and function by
 * function, into a report of verdicts. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare-int.h"
#include "fathom-dump.h"
#include "util.h"

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
		     const struct compare_pair *p)
{
	const struct compare_func *f = p->n ? p->n : p->b;
	return (p->b && p->b->unsymbolized) || (p->n && p->n->unsymbolized) || unsym_has(base, f->module) ||
	       unsym_has(cur, f->module);
}

static const struct compare_func *pair_func(const struct compare_pair *p)
{
	return p->n ? p->n : p->b;
}

static int by_self_growth(const void *a, const void *b)
{
	const struct compare_pair *x = *(const struct compare_pair *const *)a,
				  *y = *(const struct compare_pair *const *)b;
	double dx = x->s2 - x->s1, dy = y->s2 - y->s1;
	return dx < dy ? 1 : dx > dy ? -1 : compare_func_cmp(pair_func(x), pair_func(y));
}

/* Judges one whole-program figure against a relative threshold. */
static struct compare_item *judge_relative(struct compare_report *r, const char *metric,
					   enum compare_unit unit, double base, double value,
					   double threshold, const char *what)
{
	struct compare_item *it = compare_item_add(r, COMPARE_SEC_PROGRAM, metric, unit, strdup(metric));
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
		    compare_item_add(r, COMPARE_SEC_PROGRAM, "cpu-time", COMPARE_NS, strdup("cpu-time"));
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
		      const struct compare_opts *o, const struct compare_match *mt, struct compare_report *r)
{
	size_t np, nord = 0;
	struct compare_pair *pairs = compare_match_funcs(base, cur, mt, &np);
	struct compare_pair **order = pairs ? malloc((np + 1) * sizeof(*order)) : NULL;
	int ret = -ENOMEM;
	if (!order)
		goto out;
	double n1 = base->samples, n2 = cur->samples;
	size_t tests = 0;
	for (size_t i = 0; i < np; i++) {
		struct compare_pair *p = &pairs[i];
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
		struct compare_pair *p = &pairs[i];
		const struct compare_func *f = pair_func(p);
		bool self_bad = p->test_self && p->zs > zc && p->es > o->func_threshold;
		bool total_bad = p->test_total && p->zt > zc && p->et > o->func_threshold;
		if (!self_bad && !total_bad)
			continue;
		/* A function slower in itself is named once, by its self time; its
		 * total shows only when the growth is in what it calls. */
		bool self = self_bad;
		struct compare_item *it =
		    compare_item_add(r, COMPARE_SEC_FUNCTION, self ? "cpu-self" : "cpu-total", COMPARE_SHARE,
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
		struct compare_item *it = compare_item_add(r, COMPARE_SEC_PROGRAM, "cpu-functions",
							   COMPARE_COUNT, strdup("cpu-functions"));
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
			struct compare_pair *p = pass == 0 ? order[k] : order[nord - 1 - k];
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
			    compare_item_add(r, pass == 0 ? COMPARE_SEC_GREW : COMPARE_SEC_SHRANK, "cpu-self",
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
			   const struct compare_match *mt, struct compare_report *r)
{
	size_t np;
	struct compare_pair *pairs = compare_match_funcs(base, cur, mt, &np);
	if (!pairs)
		return -ENOMEM;
	char b1[32], where[512];
	int ret = 0;
	for (size_t i = 0; i < np && !ret; i++) {
		const struct compare_pair *p = &pairs[i];
		double before = p->b ? (double)p->b->leaked_blocks / (double)base->runs : 0;
		double after = p->n ? (double)p->n->leaked_blocks / (double)cur->runs : 0;
		if (!p->n || after <= before || unjudged(base, cur, p))
			continue;
		const struct compare_func *f = p->n;
		struct compare_item *it = compare_item_add(r, COMPARE_SEC_FUNCTION, "leak-site",
							   COMPARE_COUNT, str_fmt("leak: %s", f->name));
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
					    const struct compare_summary *cur, const struct compare_match *mt,
					    bool bytes, double *growth)
{
	size_t np;
	struct compare_pair *pairs = compare_match_funcs(base, cur, mt, &np);
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
		       const struct compare_opts *o, const struct compare_match *mt, unsigned sel,
		       struct compare_report *r)
{
	bool exact = !base->alloc_sampled && !cur->alloc_sampled;
	if (!exact &&
	    compare_note_add(
		r, strdup("a recording used sampled allocation tracking: memory figures are "
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
			if (compare_note_add(
				r, strdup("temp-calls: not compared: a sampled recording cannot estimate "
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
			    compare_item_add(r, COMPARE_SEC_PROGRAM, "cpu-functions", COMPARE_SHARE,
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
	struct compare_match mt;
	if (compare_match_init(&mt, base, cur, o) < 0)
		return -ENOMEM;
	if (mt.from &&
	    compare_note_add(
		r, str_fmt("source paths under %s in the base are matched to %s in the new recording "
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
			    compare_note_add(r, str_fmt("CPU not compared: %s CPU samples", which)))
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
			    compare_note_add(
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
			    compare_note_add(
				r,
				str_fmt("waiting not compared: %s waits (record both with --wait)", which)))
				goto nomem;
		} else if ((ret = diff_wait(base, cur, o, r))) {
			goto fail;
		}
	}
	const struct compare_summary *sides[2] = {base, cur};
	const char *side_name[2] = {"base", "new"};
	if ((base->runs > 1 || cur->runs > 1) &&
	    compare_note_add(
		r, str_fmt(
		       "runs merged: %zu base, %zu new; totals are compared per run, shares over all samples",
		       base->runs, cur->runs)))
		goto nomem;
	for (int i = 0; i < 2; i++) {
		const struct compare_summary *s = sides[i];
		if (s->damaged &&
		    compare_note_add(
			r, str_fmt("the %s recording is damaged and was read up to its last good chunk",
				   side_name[i])))
			goto nomem;
		if (s->lost_samples &&
		    compare_note_add(r, str_fmt("the %s recording lost %" PRIu64 " CPU samples", side_name[i],
						s->lost_samples)))
			goto nomem;
		if (s->lost_alloc &&
		    compare_note_add(r, str_fmt("the %s recording lost %" PRIu64 " allocation events: its "
						"memory figures are not exact",
						side_name[i], s->lost_alloc)))
			goto nomem;
	}
	for (size_t i = 0; i < r->nitems; i++)
		if (r->items[i].status == COMPARE_FAIL && r->items[i].section <= COMPARE_SEC_FUNCTION)
			r->nfail++;
	compare_match_free(&mt, base->nfuncs, cur->nfuncs);
	return 0;
nomem:
	ret = -ENOMEM;
fail:
	compare_match_free(&mt, base->nfuncs, cur->nfuncs);
	compare_report_free(r);
	return ret;
}
