/* speedscope export: its documented JSON file format, frames shared by all
 * profiles, one "sampled" profile per metric (and per thread for CPU). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "outputs.h"
#include "util.h"

/* The exact string by which speedscope recognises its own format. */
#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

static const char *metric_unit(int metric)
{
	switch (metric) {
	case FA_CPU:
	case FA_WAIT:
		return "nanoseconds";
	case FA_ALLOC_BYTES:
	case FA_LEAKED_BYTES:
	case FA_PEAK_BYTES:
		return "bytes";
	default:
		return "none";
	}
}

/* speedscope's frames: every function (index = function), then one per
 * line of each Python function that a stack uses (flame_python_label):
 * py[f] is the speedscope frame of the model's frame f, FA_NONE when it is
 * its function's. */
struct py_frames {
	uint32_t *py;
	uint32_t *order; /* the Python frames, sorted by (function, line) */
	size_t n;
};

static int cmp_frame(const void *a, const void *b, void *arg)
{
	const struct profile *p = arg;
	const struct fa_frame *x = &p->frames[*(const uint32_t *)a], *y = &p->frames[*(const uint32_t *)b];
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

static int py_frames_make(struct py_frames *pf, const struct profile *p)
{
	pf->n = 0;
	pf->py = malloc((p->nframes ? p->nframes : 1) * sizeof(*pf->py));
	pf->order = malloc((p->nframes ? p->nframes : 1) * sizeof(*pf->order));
	if (!pf->py || !pf->order)
		return -ENOMEM;
	char buf[1024];
	for (size_t i = 0; i < p->nframes; i++) {
		pf->py[i] = FA_NONE;
		if (flame_python_label(p, &p->frames[i], buf, sizeof(buf)))
			pf->order[pf->n++] = (uint32_t)i;
	}
	qsort_r(pf->order, pf->n, sizeof(*pf->order), cmp_frame, (void *)p);
	uint32_t next = (uint32_t)p->nfuncs;
	for (size_t i = 0; i < pf->n; i++) {
		if (i && cmp_frame(&pf->order[i - 1], &pf->order[i], (void *)p))
			next++;
		pf->py[pf->order[i]] = next;
	}
	return 0;
}

/* Writes one stack's frame indices, root first, inlined functions as frames. */
static void write_stack(struct json *j, const struct profile *p, const struct py_frames *pf,
			const struct fa_stack *s)
{
	json_array_begin(j, NULL);
	for (uint32_t d = s->depth; d-- > 0;) {
		if (s->locs[d] >= p->nlocs)
			continue;
		const struct fa_loc *l = &p->locs[s->locs[d]];
		for (uint32_t k = l->nframes; k-- > 0;) {
			if (l->frame_first + k >= p->nframes)
				continue;
			uint32_t fn = p->frames[l->frame_first + k].func;
			if (pf->py[l->frame_first + k] != FA_NONE)
				json_int(j, NULL, pf->py[l->frame_first + k]);
			else if (fn < p->nfuncs)
				json_int(j, NULL, fn);
		}
	}
	json_array_end(j);
}

static double cpu_scale(const struct profile *p, const struct fa_stack *s)
{
	unsigned hz = s->proc < p->nprocs && p->procs[s->proc].hz ? p->procs[s->proc].hz : 100;
	return 1e9 / hz;
}

/* One stack's weight in the profile's unit: CPU periods become nanoseconds. */
static int64_t scaled(const struct profile *p, int metric, size_t stack, int64_t w)
{
	return metric == FA_CPU ? (int64_t)((double)w * cpu_scale(p, &p->stacks[stack]) + 0.5) : w;
}

/* One sampled profile: the stacks ids[0..n) (ascending) with weights wt[id],
 * or, with ids NULL, every stack with a positive weight of the metric. */
static void write_profile(struct json *j, const struct profile *p, const struct py_frames *pf, int metric,
			  const char *name, const uint32_t *ids, size_t n, const int64_t *wt)
{
	if (!ids)
		n = p->nstacks;
	int64_t end = 0;
	for (size_t i = 0; i < n; i++) {
		size_t s = ids ? ids[i] : i;
		int64_t w = ids ? wt[s] : p->stacks[s].w[metric];
		if (w > 0)
			end += scaled(p, metric, s, w);
	}
	json_object_begin(j, NULL);
	json_string(j, "type", "sampled");
	json_string(j, "name", name);
	json_string(j, "unit", metric_unit(metric));
	json_int(j, "startValue", 0);
	json_int(j, "endValue", end);
	json_array_begin(j, "samples");
	for (size_t i = 0; i < n; i++) {
		size_t s = ids ? ids[i] : i;
		if ((ids ? wt[s] : p->stacks[s].w[metric]) > 0)
			write_stack(j, p, pf, &p->stacks[s]);
	}
	json_array_end(j);
	json_array_begin(j, "weights");
	for (size_t i = 0; i < n; i++) {
		size_t s = ids ? ids[i] : i;
		int64_t w = ids ? wt[s] : p->stacks[s].w[metric];
		if (w > 0)
			json_int(j, NULL, scaled(p, metric, s, w));
	}
	json_array_end(j);
	json_object_end(j);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The per-thread CPU profiles. A thread's stacks come from its own
 * (stack, thread) entries, grouped by thread in one pass: a scan of every
 * entry, or of every stack, for each thread is quadratic (minutes for 100,000
 * threads). wt is all zeros on entry and on return. tid: that thread id only. */
static int write_thread_profiles(struct json *j, const struct profile *p, const struct py_frames *pf, int tid,
				 int64_t *wt)
{
	uint32_t *first, *by;
	uint32_t *ids = malloc((p->ntstacks ? p->ntstacks : 1) * sizeof(*ids));
	if (!ids || profile_tstacks_by_thread(p, &first, &by) < 0) {
		free(ids);
		return -ENOMEM;
	}
	char name[256];
	for (size_t t = 0; t < p->nthreads; t++) {
		if (tid && p->threads[t].tid != tid)
			continue;
		size_t n = 0;
		for (uint32_t i = first[t]; i < first[t + 1]; i++) {
			const struct fa_thread_stack *ts = &p->tstacks[by[i]];
			if (ts->stack >= p->nstacks || ts->cpu <= 0)
				continue;
			if (!wt[ts->stack])
				ids[n++] = ts->stack;
			wt[ts->stack] += ts->cpu;
		}
		if (!n)
			continue;
		/* The stacks in the order of the all-threads profile. */
		qsort(ids, n, sizeof(*ids), cmp_u32);
		snprintf(name, sizeof(name), "cpu: %s (%d)",
			 p->threads[t].name ? p->threads[t].name : "thread", p->threads[t].tid);
		write_profile(j, p, pf, FA_CPU, name, ids, n, wt);
		for (size_t i = 0; i < n; i++)
			wt[ids[i]] = 0;
	}
	free(first);
	free(by);
	free(ids);
	return 0;
}

static bool tid_has_cpu(const struct profile *p, int tid)
{
	for (size_t i = 0; i < p->ntstacks; i++)
		if (p->tstacks[i].thread < p->nthreads && p->threads[p->tstacks[i].thread].tid == tid &&
		    p->tstacks[i].cpu > 0)
			return true;
	return false;
}

int speedscope_write(FILE *f, const struct profile *p, const struct out_opts *o)
{
	static const int order[FA_NMETRICS] = {FA_CPU,	      FA_ALLOC_BYTES,  FA_ALLOC_CALLS,
					       FA_TEMP_CALLS, FA_LEAKED_BYTES, FA_LEAKED_BLOCKS,
					       FA_PEAK_BYTES, FA_WAIT};
	bool want[FA_NMETRICS] = {false};
	size_t nwant = 0;
	for (size_t i = 0; i < FA_NMETRICS; i++) {
		int m = order[i];
		want[m] = o->tid	  ? m == FA_CPU && tid_has_cpu(p, o->tid)
			  : o->metric_set ? m == o->metric && agg_has_metric(p, m)
					  : agg_has_metric(p, m);
		nwant += want[m];
	}
	if (!nwant)
		return -ENODATA;
	int64_t *wt = calloc(p->nstacks ? p->nstacks : 1, sizeof(*wt));
	struct py_frames pf;
	if (!wt || py_frames_make(&pf, p) < 0) {
		free(wt);
		free(pf.py);
		free(pf.order);
		return -ENOMEM;
	}

	const char *exe = p->nprocs && p->procs[0].exe ? p->procs[0].exe : "profile";
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	struct json j;
	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "$schema", SPEEDSCOPE_SCHEMA);
	json_string(&j, "name", base);
	json_string(&j, "exporter", o->version ? o->version : "fathom");
	json_int(&j, "activeProfileIndex", 0);
	json_object_begin(&j, "shared");
	json_array_begin(&j, "frames");
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct fa_func *fn = &p->funcs[i];
		json_object_begin(&j, NULL);
		json_string(&j, "name", fn->name && *fn->name ? fn->name : "[unknown]");
		if (fn->file)
			json_string(&j, "file", fn->file);
		if (fn->decl_line > 0)
			json_int(&j, "line", fn->decl_line);
		json_object_end(&j);
	}
	/* A Python function's lines: its name with the line (as in flame
	 * graphs), its file, and the line. */
	char label[1024];
	for (size_t i = 0; i < pf.n; i++) {
		const struct fa_frame *fr = &p->frames[pf.order[i]];
		if (i && pf.py[pf.order[i]] == pf.py[pf.order[i - 1]])
			continue;
		json_object_begin(&j, NULL);
		json_string(&j, "name", flame_python_label(p, fr, label, sizeof(label)));
		json_string(&j, "file", p->funcs[fr->func].file);
		json_int(&j, "line", fr->line);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_array_begin(&j, "profiles");
	char name[256];
	int rc = 0;
	for (size_t i = 0; i < FA_NMETRICS && !rc; i++) {
		int m = order[i];
		if (!want[m])
			continue;
		if (m == FA_CPU && o->tid) {
			rc = write_thread_profiles(&j, p, &pf, o->tid, wt);
			continue;
		}
		snprintf(name, sizeof(name), "%s%s", fa_metric_names[m],
			 m == FA_CPU && p->nthreads > 1 ? ": all threads" : "");
		write_profile(&j, p, &pf, m, name, NULL, 0, NULL);
		/* Per-thread CPU profiles: speedscope shows one at a time, so a thread's own view is one
		 * click away. */
		if (m == FA_CPU && p->nthreads > 1)
			rc = write_thread_profiles(&j, p, &pf, 0, wt);
	}
	json_array_end(&j);
	json_object_end(&j);
	free(wt);
	free(pf.py);
	free(pf.order);
	if (rc)
		return rc;
	return out_flush(f);
}
