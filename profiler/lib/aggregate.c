/* The one aggregation of a profile (see aggregate.h): what every command
 * means by a stack's weight, a row's self and total, and the call tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "util.h"

/* ---- per-stack weights ---- */

static bool proc_selected(const struct profile *p, const struct agg_filter *f, uint32_t proc)
{
	return !f || !f->pid || (proc < p->nprocs && p->procs[proc].pid == f->pid);
}

/* The weights of a time range: CPU samples in it, under the thread and
 * process filters (the rest 0). */
static int range_weights(const struct profile *p, const struct agg_filter *f, int metric, int64_t *w,
			 double *n)
{
	if (!p->has_times)
		return -EINVAL;
	memset(w, 0, p->nstacks * sizeof(*w));
	if (n)
		memset(n, 0, p->nstacks * sizeof(*n));
	if (metric != FA_CPU)
		return 0;
	for (size_t i = 0; i < p->ntsamples; i++) {
		const struct fa_tsample *ts = &p->tsamples[i];
		if (!agg_in_range(f, ts->time_ns) || ts->tstack >= p->ntstacks)
			continue;
		const struct fa_thread_stack *st = &p->tstacks[ts->tstack];
		if (st->stack >= p->nstacks || !proc_selected(p, f, p->stacks[st->stack].proc) ||
		    (f->tid && (st->thread >= p->nthreads || p->threads[st->thread].tid != f->tid)))
			continue;
		w[st->stack] += ts->weight;
		if (n)
			n[st->stack] += 1;
	}
	return 0;
}

int agg_stack_weights(const struct profile *p, const struct agg_filter *f, int metric, int64_t *w, double *n)
{
	if (f && f->timed)
		return range_weights(p, f, metric, w, n);
	bool tid = f && f->tid;
	for (size_t s = 0; s < p->nstacks; s++) {
		w[s] = !tid && proc_selected(p, f, p->stacks[s].proc) ? p->stacks[s].w[metric] : 0;
		if (n)
			n[s] = 0;
	}
	if (tid && (metric == FA_CPU || metric == FA_WAIT))
		for (size_t i = 0; i < p->ntstacks; i++) {
			const struct fa_thread_stack *ts = &p->tstacks[i];
			if (ts->stack < p->nstacks && ts->thread < p->nthreads &&
			    p->threads[ts->thread].tid == f->tid &&
			    proc_selected(p, f, p->stacks[ts->stack].proc))
				w[ts->stack] += metric == FA_CPU ? ts->cpu : ts->wait;
		}
	if (!n)
		return 0;
	/* Samples are delivered signals, counted per (stack, thread); a model
	 * without that table (built by hand) gets them estimated from the
	 * weights, in proportion to the processes' samples. */
	if (p->ntstacks) {
		for (size_t i = 0; i < p->ntstacks; i++) {
			const struct fa_thread_stack *ts = &p->tstacks[i];
			if (ts->stack < p->nstacks &&
			    (!tid || (ts->thread < p->nthreads && p->threads[ts->thread].tid == f->tid)) &&
			    proc_selected(p, f, p->stacks[ts->stack].proc))
				n[ts->stack] += (double)ts->samples;
		}
	} else if (!tid) {
		double samples = 0;
		for (size_t i = 0; i < p->nprocs; i++)
			samples += (double)p->procs[i].samples;
		double weight = (double)p->total[FA_CPU];
		for (size_t s = 0; s < p->nstacks; s++)
			n[s] = weight > 0 && proc_selected(p, f, p->stacks[s].proc)
				   ? (double)p->stacks[s].w[FA_CPU] * samples / weight
				   : 0;
	}
	return 0;
}

bool agg_has_metric(const struct profile *p, int metric)
{
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].w[metric] > 0)
			return true;
	return false;
}

/* The frames of s into *buf, grown as needed; their number, or -ENOMEM. */
static int stack_frames(const struct profile *p, const struct fa_stack *s, struct fa_frame **buf, size_t *cap,
			size_t *n)
{
	*n = profile_stack_frames(p, s, *buf, *cap);
	if (*n > *cap || !*buf) {
		size_t c = *n > 64 ? *n : 64;
		struct fa_frame *b = realloc(*buf, c * sizeof(*b));
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
		*n = profile_stack_frames(p, s, *buf, *cap);
	}
	return 0;
}

int agg_stack_site(const struct profile *p, const struct fa_stack *s, enum site_rule rule,
		   struct fa_frame **buf, size_t *cap, size_t *n, size_t *site)
{
	if (stack_frames(p, s, buf, cap, n) < 0)
		return -ENOMEM;
	*site = *n ? site_first(p, *buf, *n, rule) : 0;
	return 0;
}

/* ---- tables ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_frame(uint32_t func, uint32_t line)
{
	uint64_t h = ((uint64_t)func << 32 | line) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t row_hash(enum agg_key key, const struct agg_row *r)
{
	if (key == AGG_FUNCTION)
		return hash_frame(r->func, 0);
	return key == AGG_FRAME ? hash_frame(r->func, r->line) : hash_str(r->key);
}

static int grow_slots(struct agg_table *t, enum agg_key key)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *s = malloc(ns * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s, 0xff, ns * sizeof(*s));
	for (size_t i = 0; i < t->nrows; i++) {
		size_t j = row_hash(key, &t->rows[i]) & (ns - 1);
		while (s[j] != FA_NONE)
			j = (j + 1) & (ns - 1);
		s[j] = (uint32_t)i;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = ns;
	return 0;
}

static const char *module_name(const struct profile *p, uint32_t m)
{
	return m < p->nmodules && p->modules[m].name ? p->modules[m].name : "[unknown]";
}

/* The row of (func, line) for FRAME and FUNCTION keys, or of string key
 * `name` (copied when the row is new) for the others; FA_NONE when out of
 * memory. */
static uint32_t row_get(struct agg_table *t, const struct profile *p, enum agg_key key, uint32_t func,
			uint32_t line, const char *name)
{
	if ((t->nrows + 1) * 2 > t->nslots && grow_slots(t, key) < 0)
		return FA_NONE;
	bool by_frame = key == AGG_FRAME || key == AGG_FUNCTION;
	size_t j = (by_frame ? hash_frame(func, line) : hash_str(name)) & (t->nslots - 1);
	for (; t->slots[j] != FA_NONE; j = (j + 1) & (t->nslots - 1)) {
		const struct agg_row *r = &t->rows[t->slots[j]];
		if (by_frame ? r->func == func && (key == AGG_FUNCTION || r->line == line)
			     : !strcmp(r->key, name))
			return t->slots[j];
	}
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct agg_row *rows = realloc(t->rows, nc * sizeof(*rows));
		if (!rows)
			return FA_NONE;
		t->rows = rows;
		t->cap = nc;
	}
	struct agg_row *r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	r->func = func;
	r->line = line;
	r->stamp = FA_NONE;
	r->caller = FA_NONE;
	r->stack = FA_NONE;
	r->stack_w = -1;
	if (!by_frame && !(r->key = strdup(name ? name : "")))
		return FA_NONE;
	const struct fa_func *fn = func < p->nfuncs ? &p->funcs[func] : NULL;
	r->module = fn ? module_name(p, fn->module) : "[unknown]";
	if (!fn) {
		r->name = "[no stack]";
	} else if (by_frame) {
		r->name = fn->name;
		r->file = fn->file;
		if (key == AGG_FUNCTION)
			r->line = fn->decl_line > 0 ? (uint32_t)fn->decl_line : 0;
	} else {
		r->name = r->key;
	}
	t->slots[j] = (uint32_t)t->nrows;
	return (uint32_t)t->nrows++;
}

/* Whether a key's row depends on more than the frame's function. */
static bool by_line(enum agg_key key)
{
	return key == AGG_LINE || key == AGG_FRAME || key == AGG_INLINED;
}

/* The row of frame fr under key (for AGG_INLINED, fr[1] is the frame it
 * was inlined into). Rows that do not depend on the line are cached per
 * function. */
static uint32_t frame_row(struct agg_table *t, const struct profile *p, enum agg_key key,
			  const struct fa_frame *fr)
{
	if (!by_line(key) && t->func_row[fr->func] != FA_NONE)
		return t->func_row[fr->func];
	const struct fa_func *fn = &p->funcs[fr->func];
	const char *mod = module_name(p, fn->module);
	char buf[512], *big = NULL;
	const char *name = NULL;
	uint32_t row;
	switch (key) {
	case AGG_FUNCTION:
		row = row_get(t, p, key, fr->func, 0, NULL);
		break;
	case AGG_FRAME:
		row = row_get(t, p, key, fr->func, fr->line, NULL);
		break;
	case AGG_FILE:
		if (fn->file)
			name = fn->file;
		else if (snprintf(buf, sizeof(buf), "[%s]", mod) < (int)sizeof(buf))
			name = buf;
		else
			name = big = str_fmt("[%s]", mod);
		row = name ? row_get(t, p, key, fr->func, 0, name) : FA_NONE;
		break;
	case AGG_LINE:
		if (!fn->file)
			name = fn->name;
		else if (snprintf(buf, sizeof(buf), "%s:%" PRIu32, fn->file, fr->line) < (int)sizeof(buf))
			name = buf;
		else
			name = big = str_fmt("%s:%" PRIu32, fn->file, fr->line);
		row = name ? row_get(t, p, key, fr->func, 0, name) : FA_NONE;
		break;
	case AGG_INLINED:
		snprintf(buf, sizeof(buf), "%" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu32, fr[0].func,
			 fr[0].line, fr[1].func, fr[1].line);
		row = row_get(t, p, key, fr->func, 0, buf);
		if (row != FA_NONE) {
			struct agg_row *r = &t->rows[row];
			r->name = fn->name;
			r->file = fn->file;
			r->line = fr[0].line;
			r->caller = fr[1].func;
			r->call_line = fr[1].line;
		}
		break;
	default:
		row = row_get(t, p, key, fr->func, 0, mod);
		break;
	}
	free(big);
	if (!by_line(key))
		t->func_row[fr->func] = row;
	return row;
}

/* Adds stack s's self weight in the metrics of mask (vals: its weights) to
 * row r, whose frame is at line. */
static void add_self(struct agg_row *r, const struct agg_opts *o, uint32_t mask, const int64_t *vals,
		     uint32_t line, uint32_t s)
{
	for (int m = 0; m < FA_NMETRICS; m++) {
		if (!(mask & AGG_METRIC(m)))
			continue;
		r->self[m] += vals[m];
		if (line && vals[m] > r->self_line_w[m]) {
			r->self_line_w[m] = vals[m];
			r->self_line[m] = line;
		}
	}
	if (o->heavy >= 0 && (mask & AGG_METRIC(o->heavy)) && vals[o->heavy] > r->stack_w) {
		r->stack_w = vals[o->heavy];
		r->stack = s;
	}
}

static void add_total(struct agg_row *r, uint32_t mask, const int64_t *vals, double n, double ns)
{
	for (int m = 0; m < FA_NMETRICS; m++)
		if (mask & AGG_METRIC(m))
			r->total[m] += vals[m];
	r->total_n += n;
	r->total_ns += ns;
}

/* For AGG_INLINED: inl[i] tells whether frame i of stack s (as
 * profile_stack_frames expands it) was inlined into frame i + 1, that is,
 * is not the last frame of its location. */
static int inlined_frames(const struct profile *p, const struct fa_stack *s, size_t nf, bool **inl,
			  size_t *cap)
{
	if (nf > *cap || !*inl) {
		size_t c = nf > 64 ? nf : 64;
		bool *b = realloc(*inl, c * sizeof(*b));
		if (!b)
			return -ENOMEM;
		*inl = b;
		*cap = c;
	}
	size_t n = 0;
	for (uint32_t i = 0; i < s->depth; i++) {
		const struct fa_loc *l = &p->locs[s->locs[i]];
		for (uint32_t k = 0; k < l->nframes && n < nf; k++)
			(*inl)[n++] = k + 1 < l->nframes;
	}
	return 0;
}

int agg_table_build(struct agg_table *t, const struct profile *p, const struct agg_opts *o)
{
	memset(t, 0, sizeof(*t));
	const uint32_t cpu_bit = AGG_METRIC(FA_CPU), mem_bits = o->metrics & AGG_MEMORY;
	const uint32_t wait_bit = o->metrics & AGG_METRIC(FA_WAIT);
	const struct agg_filter *f = &o->filter;
	int64_t *cpu = NULL, *waitw = NULL;
	double *samples = NULL;
	struct fa_frame *fr = NULL;
	size_t cap = 0, inl_cap = 0;
	bool *inl = NULL;
	t->leaf = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*t->leaf));
	t->func_row = malloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*t->func_row));
	if ((o->metrics & cpu_bit) && (!(cpu = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*cpu))) ||
				       !(samples = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*samples)))))
		goto nomem;
	if (wait_bit && (!(waitw = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*waitw))) ||
			 agg_stack_weights(p, f, FA_WAIT, waitw, NULL) < 0))
		goto nomem;
	if (!t->leaf || !t->func_row || (cpu && agg_stack_weights(p, f, FA_CPU, cpu, samples) < 0))
		goto nomem;
	memset(t->leaf, 0xff, (p->nstacks ? p->nstacks : 1) * sizeof(*t->leaf));
	memset(t->func_row, 0xff, (p->nfuncs ? p->nfuncs : 1) * sizeof(*t->func_row));
	for (size_t s = 0; s < p->nstacks; s++) {
		const struct fa_stack *st = &p->stacks[s];
		int64_t vals[FA_NMETRICS] = {0};
		double n = 0, ns = 0;
		bool any = false, any_mem = false, any_wait = false;
		if (cpu) {
			vals[FA_CPU] = cpu[s];
			n = samples[s];
			unsigned hz = st->proc < p->nprocs ? p->procs[st->proc].hz : 0;
			ns = (double)cpu[s] * (hz ? 1e9 / hz : 0);
			any = cpu[s] || n;
		}
		if (mem_bits && !f->tid && !f->timed && proc_selected(p, f, st->proc))
			for (int m = 0; m < FA_NMETRICS; m++)
				if ((mem_bits & AGG_METRIC(m)) && (vals[m] = st->w[m]))
					any = any_mem = true;
		if (waitw && (vals[FA_WAIT] = waitw[s]))
			any = any_wait = true;
		if (!any)
			continue;
		for (int m = 0; m < FA_NMETRICS; m++)
			t->total[m] += vals[m];
		t->total_n += n;
		t->total_ns += ns;
		size_t nf, site = 0, wsite = 0;
		if (stack_frames(p, st, &fr, &cap, &nf) < 0 ||
		    (o->key == AGG_INLINED && inlined_frames(p, st, nf, &inl, &inl_cap) < 0))
			goto nomem;
		if (any_mem && nf)
			site = site_first(p, fr, nf, o->rule);
		if (any_wait && nf)
			wsite = site_first(p, fr, nf, SITE_WAIT);
		bool leaf = true;
		for (size_t i = 0; i < nf; i++) {
			if (fr[i].func >= p->nfuncs)
				continue;
			if (o->key == AGG_INLINED &&
			    (!inl[i] || i + 1 >= nf || fr[i + 1].func >= p->nfuncs)) {
				leaf = false; /* its self weight is a frame's that makes no row */
				continue;
			}
			bool site_here = (i == site && any_mem) || (i == wsite && any_wait);
			if (o->self_only && !leaf && !site_here)
				continue;
			if (o->self_only && leaf && !(o->metrics & cpu_bit) && !site_here) {
				leaf = false;
				continue;
			}
			uint32_t ri = frame_row(t, p, o->key, &fr[i]);
			if (ri == FA_NONE)
				goto nomem;
			struct agg_row *r = &t->rows[ri];
			if (leaf) {
				/* CPU time is spent where the stack ends. */
				leaf = false;
				t->leaf[s] = ri;
				add_self(r, o, o->metrics & cpu_bit, vals, fr[i].line, (uint32_t)s);
				r->self_n += n;
				r->self_ns += ns;
			}
			/* Memory is asked for by the allocation's site. */
			if (i == site && any_mem)
				add_self(r, o, mem_bits, vals, fr[i].line, (uint32_t)s);
			/* Waiting, by the program's call that waited. */
			if (i == wsite && any_wait)
				add_self(r, o, wait_bit, vals, fr[i].line, (uint32_t)s);
			/* Recursion and inlining repeat a row in one stack: count it once. */
			if (!o->self_only && r->stamp != (uint32_t)s) {
				r->stamp = (uint32_t)s;
				add_total(r, o->metrics, vals, n, ns);
			}
		}
		if (leaf && o->no_stack_row) {
			uint32_t ri = row_get(t, p, o->key, FA_NONE, 0, "[no stack]");
			if (ri == FA_NONE)
				goto nomem;
			struct agg_row *r = &t->rows[ri];
			add_self(r, o, o->metrics, vals, 0, (uint32_t)s);
			r->self_n += n;
			r->self_ns += ns;
			if (!o->self_only)
				add_total(r, o->metrics, vals, n, ns);
		}
	}
	free(cpu);
	free(waitw);
	free(samples);
	free(fr);
	free(inl);
	return 0;
nomem:
	free(waitw);
	free(cpu);
	free(samples);
	free(fr);
	free(inl);
	agg_table_free(t);
	return -ENOMEM;
}

void agg_table_free(struct agg_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].key);
	free(t->rows);
	free(t->leaf);
	free(t->func_row);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

int agg_row_cmp_line(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int agg_row_cmp_call_site(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->caller != y->caller)
		return x->caller < y->caller ? -1 : 1;
	if (x->call_line != y->call_line)
		return x->call_line < y->call_line ? -1 : 1;
	return agg_row_cmp_line(a, b);
}

/* ---- per thread ---- */

/* Busiest first; in thread order among equals. */
static int busiest_cmp(const void *a, const void *b, void *profile)
{
	const struct profile *p = profile;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int64_t cx = p->threads[x].cpu, cy = p->threads[y].cpu;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The hottest rows of thread th->thread: its weight per row in acc (rows
 * it touched listed in touched, and acc left at 0 again). bythread lists
 * the (stack, thread) entries of each thread t at [first[t], first[t + 1]). */
static void thread_top(const struct agg_table *t, const struct profile *p, const uint32_t *first,
		       const uint32_t *bythread, int64_t *acc, uint32_t *touched, struct agg_thread *th)
{
	size_t ntouched = 0;
	for (uint32_t i = first[th->thread]; i < first[th->thread + 1]; i++) {
		const struct fa_thread_stack *ts = &p->tstacks[bythread[i]];
		if (t->leaf[ts->stack] == FA_NONE)
			continue;
		uint32_t key = t->leaf[ts->stack];
		if (!acc[key])
			touched[ntouched++] = key;
		acc[key] += ts->cpu ? ts->cpu : 1;
	}
	for (int b = 0; b < AGG_THREAD_TOP; b++)
		th->top[b] = FA_NONE;
	for (size_t k = 0; k < ntouched; k++) {
		uint32_t key = touched[k];
		for (int b = 0; b < AGG_THREAD_TOP; b++)
			if (th->top[b] == FA_NONE || acc[key] > acc[th->top[b]]) {
				memmove(&th->top[b + 1], &th->top[b],
					(size_t)(AGG_THREAD_TOP - 1 - b) * sizeof(th->top[0]));
				th->top[b] = key;
				break;
			}
	}
	for (int b = 0; b < AGG_THREAD_TOP; b++)
		th->top_w[b] = th->top[b] != FA_NONE ? acc[th->top[b]] : 0;
	for (size_t k = 0; k < ntouched; k++)
		acc[touched[k]] = 0;
}

int agg_threads(const struct agg_table *t, const struct profile *p, int tid, struct agg_thread **out,
		size_t *n)
{
	int64_t *acc = calloc(t->nrows ? t->nrows : 1, sizeof(*acc));
	uint32_t *touched = malloc((t->nrows ? t->nrows : 1) * sizeof(*touched));
	uint32_t *order = malloc((p->nthreads ? p->nthreads : 1) * sizeof(*order));
	struct agg_thread *v = malloc((p->nthreads ? p->nthreads : 1) * sizeof(*v));
	uint32_t *first = NULL, *bythread = NULL;
	int rc = -ENOMEM;
	if (!acc || !touched || !order || !v || profile_tstacks_by_thread(p, &first, &bythread) < 0)
		goto out;
	size_t nt = 0;
	for (uint32_t th = 0; th < p->nthreads; th++)
		if ((!tid || p->threads[th].tid == tid) && p->threads[th].samples)
			order[nt++] = th;
	qsort_r(order, nt, sizeof(*order), busiest_cmp, (void *)p);
	for (size_t i = 0; i < nt; i++) {
		v[i].thread = order[i];
		thread_top(t, p, first, bythread, acc, touched, &v[i]);
	}
	*out = v;
	*n = nt;
	v = NULL;
	rc = 0;
out:
	free(acc);
	free(touched);
	free(order);
	free(first);
	free(bythread);
	free(v);
	return rc;
}

/* ---- the call tree ---- */

static int grow_names(struct flame_tree *t)
{
	size_t cap = (t->name_mask + 1) * 2;
	uint32_t *h = malloc(cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, cap * sizeof(*h));
	for (size_t i = 0; i < t->nnames; i++) {
		size_t k = hash_str(t->names[i]) & (cap - 1);
		while (h[k] != FA_NONE)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(t->name_hash);
	t->name_hash = h;
	t->name_mask = cap - 1;
	return 0;
}

/* Interns a function name; names from the base profile and this one
 * compare by content. A name in a buffer of the caller's (copy) is copied
 * when it is new. */
static int intern_name_copy(struct flame_tree *t, const char *s, bool copy, uint32_t *out)
{
	if ((t->nnames + 1) * 2 > t->name_mask + 1 && grow_names(t))
		return -ENOMEM;
	size_t k = hash_str(s) & t->name_mask;
	for (; t->name_hash[k] != FA_NONE; k = (k + 1) & t->name_mask)
		if (!strcmp(t->names[t->name_hash[k]], s)) {
			*out = t->name_hash[k];
			return 0;
		}
	if (t->nnames == t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap * 2 : 256;
		const char **n = realloc(t->names, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->names = n;
		t->names_cap = cap;
	}
	if (copy) {
		char **l = realloc(t->labels, (t->nlabels + 1) * sizeof(*l));
		if (!l)
			return -ENOMEM;
		t->labels = l;
		if (!(s = l[t->nlabels] = strdup(s)))
			return -ENOMEM;
		t->nlabels++;
	}
	t->names[t->nnames] = s;
	t->name_hash[k] = (uint32_t)t->nnames;
	*out = (uint32_t)t->nnames++;
	return 0;
}

static int intern_name(struct flame_tree *t, const char *s, uint32_t *out)
{
	return intern_name_copy(t, s, false, out);
}

const char *flame_python_label(const struct profile *p, const struct fa_frame *fr, char *buf, size_t len)
{
	const struct fa_func *fn = fr->func < p->nfuncs ? &p->funcs[fr->func] : NULL;
	if (!p->python_view || !fn || !fr->line || !fn->file || fn->module >= p->nmodules ||
	    !p->modules[fn->module].python)
		return NULL;
	const char *base = strrchr(fn->file, '/');
	snprintf(buf, len, "%s (%s:%u)", fn->name, base ? base + 1 : fn->file, fr->line);
	return buf;
}

/* What tells a node from its siblings. */
static uint32_t node_key(const struct flame_tree *t, const struct flame_node *n)
{
	return t->by_func ? n->func : n->name;
}

static int grow_children(struct flame_tree *t)
{
	size_t cap = (t->child_mask + 1) * 2;
	uint32_t *h = malloc(cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, cap * sizeof(*h));
	for (size_t i = 1; i < t->nnodes; i++) {
		size_t k = hash_frame(t->nodes[i].parent, node_key(t, &t->nodes[i])) & (cap - 1);
		while (h[k] != FA_NONE)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(t->child_hash);
	t->child_hash = h;
	t->child_mask = cap - 1;
	return 0;
}

/* The child of parent with key `key` (a name, or a function in a tree by
 * function), created when missing with that name and function. */
static int child_of(struct flame_tree *t, uint32_t parent, uint32_t key, uint32_t name, uint32_t func,
		    uint32_t *out)
{
	if ((t->nnodes + 1) * 2 > t->child_mask + 1 && grow_children(t))
		return -ENOMEM;
	size_t k = hash_frame(parent, key) & t->child_mask;
	for (; t->child_hash[k] != FA_NONE; k = (k + 1) & t->child_mask) {
		struct flame_node *n = &t->nodes[t->child_hash[k]];
		if (n->parent == parent && node_key(t, n) == key) {
			*out = t->child_hash[k];
			return 0;
		}
	}
	if (t->nnodes == t->cap) {
		size_t cap = t->cap * 2;
		struct flame_node *n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->nodes = n;
		t->cap = cap;
	}
	uint32_t id = (uint32_t)t->nnodes++;
	struct flame_node *n = &t->nodes[id];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->parent = parent;
	n->next = t->nodes[parent].child;
	t->nodes[parent].child = id;
	n->child = FA_NONE;
	n->depth = t->nodes[parent].depth + 1;
	n->func = func;
	t->child_hash[k] = id;
	t->sorted = false;
	*out = id;
	return 0;
}

static int tree_init(struct flame_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1024;
	t->nodes = malloc(t->cap * sizeof(*t->nodes));
	t->child_mask = 2047;
	t->child_hash = malloc((t->child_mask + 1) * sizeof(uint32_t));
	t->name_mask = 255;
	t->name_hash = malloc((t->name_mask + 1) * sizeof(uint32_t));
	if (!t->nodes || !t->child_hash || !t->name_hash)
		return -ENOMEM;
	memset(t->child_hash, 0xff, (t->child_mask + 1) * sizeof(uint32_t));
	memset(t->name_hash, 0xff, (t->name_mask + 1) * sizeof(uint32_t));
	uint32_t root_name;
	if (intern_name(t, "all", &root_name))
		return -ENOMEM;
	struct flame_node *r = &t->nodes[0];
	memset(r, 0, sizeof(*r));
	r->name = root_name;
	r->parent = r->child = r->next = r->func = FA_NONE;
	t->nnodes = 1;
	return 0;
}

static const char *func_name(const struct profile *p, uint32_t f)
{
	const char *s = f < p->nfuncs ? p->funcs[f].name : NULL;
	return s && *s ? s : "[unknown]";
}

/* The tree's name of frame fr of p (its function's, interned once per
 * function in fname; a Python frame's label, once per frame in flabel). */
static int name_of(struct flame_tree *t, const struct profile *p, uint32_t *fname, uint32_t *flabel,
		   const struct fa_frame *fr, uint32_t *out)
{
	uint32_t f = fr->func;
	size_t fi = (size_t)(fr - p->frames);
	if (flabel[fi] != FA_NONE) {
		*out = flabel[fi];
		return 0;
	}
	char buf[1024];
	const char *label = flame_python_label(p, fr, buf, sizeof(buf));
	if (label) {
		if (intern_name_copy(t, label, true, out))
			return -ENOMEM;
		flabel[fi] = *out;
		return 0;
	}
	if (f < p->nfuncs && fname[f] != FA_NONE) {
		*out = fname[f];
		return 0;
	}
	if (intern_name(t, func_name(p, f), out))
		return -ENOMEM;
	if (f < p->nfuncs)
		fname[f] = *out;
	return 0;
}

/* Adds one stack of p with weight w to the tree (base: to the base
 * weights); *end gets the node where it ends. */
static int add_stack(struct flame_tree *t, const struct profile *p, uint32_t *fname, uint32_t *flabel,
		     const struct fa_stack *s, int64_t w, bool base, uint32_t *end)
{
	uint32_t node = 0;
	for (uint32_t d = s->depth; d-- > 0;) {
		uint32_t li = s->locs[d];
		if (li >= p->nlocs)
			continue;
		const struct fa_loc *l = &p->locs[li];
		/* The real function (last) is the caller of the inlined ones before it. */
		for (uint32_t k = l->nframes; k-- > 0;) {
			if (l->frame_first + k >= p->nframes)
				continue;
			const struct fa_frame *fr = &p->frames[l->frame_first + k];
			/* A tree by function has no node for a function it does not know. */
			if (t->by_func && fr->func >= p->nfuncs)
				continue;
			/* A tree by function needs no names (the viewer names its nodes). */
			uint32_t name = FA_NONE;
			if ((!t->by_func && name_of(t, p, fname, flabel, fr, &name)) ||
			    child_of(t, node, t->by_func ? fr->func : name, name,
				     t->by_func ? fr->func : FA_NONE, &node))
				return -ENOMEM;
			struct flame_node *n = &t->nodes[node];
			if (base) {
				n->base_total += w;
			} else {
				n->total += w;
				if (!t->by_func && (n->func == FA_NONE || w > n->line_w)) {
					n->func = fr->func;
					n->line = fr->line;
					n->line_w = w;
				}
			}
		}
	}
	if (base) {
		t->nodes[node].base_self += w;
		t->nodes[0].base_total += w;
		t->base_total += w;
	} else {
		t->nodes[node].self += w;
		t->nodes[0].total += w;
		t->total += w;
	}
	*end = node;
	return 0;
}

/* Adds the stacks of p with positive weight in metric under f, or with
 * node_of every stack (weights 0), noting where each ends. */
static int add_profile(struct flame_tree *t, const struct profile *p, int metric, const struct agg_filter *f,
		       bool base, uint32_t *node_of)
{
	uint32_t *fname = malloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*fname));
	uint32_t *flabel = malloc((p->nframes ? p->nframes : 1) * sizeof(*flabel));
	int64_t *w = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*w));
	int rc = -ENOMEM;
	if (!fname || !flabel || !w)
		goto out;
	memset(fname, 0xff, (p->nfuncs ? p->nfuncs : 1) * sizeof(*fname));
	memset(flabel, 0xff, (p->nframes ? p->nframes : 1) * sizeof(*flabel));
	if (node_of)
		memset(w, 0, (p->nstacks ? p->nstacks : 1) * sizeof(*w));
	else if (agg_stack_weights(p, f, metric, w, NULL) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < p->nstacks && !rc; i++) {
		uint32_t end;
		if (node_of)
			rc = add_stack(t, p, fname, flabel, &p->stacks[i], 0, base, &node_of[i]);
		else if (w[i] > 0)
			rc = add_stack(t, p, fname, flabel, &p->stacks[i], w[i], base, &end);
	}
out:
	free(fname);
	free(flabel);
	free(w);
	return rc;
}

int flame_build(struct flame_tree *t, const struct profile *p, int metric, const struct agg_filter *f)
{
	int rc = tree_init(t);
	if (!rc)
		rc = add_profile(t, p, metric, f, false, NULL);
	if (rc)
		flame_free(t);
	return rc;
}

int flame_add_base(struct flame_tree *t, const struct profile *base, int metric, const struct agg_filter *f)
{
	return add_profile(t, base, metric, f, true, NULL);
}

int flame_build_by_func(struct flame_tree *t, const struct profile *p, uint32_t *node_of)
{
	int rc = tree_init(t);
	if (!rc) {
		t->by_func = true;
		rc = add_profile(t, p, FA_CPU, NULL, false, node_of);
	}
	if (rc)
		flame_free(t);
	return rc;
}

static const struct flame_tree *sort_tree;

static int by_name(const void *a, const void *b)
{
	const struct flame_node *na = &sort_tree->nodes[*(const uint32_t *)a];
	const struct flame_node *nb = &sort_tree->nodes[*(const uint32_t *)b];
	return strcmp(sort_tree->names[na->name], sort_tree->names[nb->name]);
}

void flame_sort(struct flame_tree *t)
{
	if (t->sorted)
		return;
	uint32_t *kids = NULL;
	size_t cap = 0;
	sort_tree = t;
	for (size_t i = 0; i < t->nnodes; i++) {
		size_t n = 0;
		for (uint32_t c = t->nodes[i].child; c != FA_NONE; c = t->nodes[c].next) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				uint32_t *k = realloc(kids, cap * sizeof(*k));
				if (!k) {
					free(kids);
					return; /* unsorted output is still correct output */
				}
				kids = k;
			}
			kids[n++] = c;
		}
		if (n < 2)
			continue;
		qsort(kids, n, sizeof(*kids), by_name);
		t->nodes[i].child = kids[0];
		for (size_t j = 0; j + 1 < n; j++)
			t->nodes[kids[j]].next = kids[j + 1];
		t->nodes[kids[n - 1]].next = FA_NONE;
	}
	free(kids);
	t->sorted = true;
}

void flame_free(struct flame_tree *t)
{
	free(t->nodes);
	free(t->names);
	free(t->child_hash);
	free(t->name_hash);
	for (size_t i = 0; i < t->nlabels; i++)
		free(t->labels[i]);
	free(t->labels);
	memset(t, 0, sizeof(*t));
}
