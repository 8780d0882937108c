/* `fathom mem --json`: the heap report as one JSON object (see mem.h and
 * docs/json-schema/mem.json). */
#include <stdlib.h>

#include "fathom-dump.h"
#include "json-profile.h"
#include "mem.h"

static size_t limit(const struct mem_json *o, size_t n)
{
	return o->top && o->top < n ? o->top : n;
}

/* The stacks heaviest in metric (peak or leaked bytes), of process proc or
 * all (FA_NONE). */
static void json_stacks(struct json *j, const struct mem_json *o, const char *key, int metric, uint32_t proc)
{
	const struct profile *p = o->p;
	size_t n;
	uint32_t *v = mem_stacks_by(p, metric, proc, &n);
	json_array_begin(j, key);
	for (size_t i = 0; v && i < limit(o, n); i++) {
		const struct fa_stack *s = &p->stacks[v[i]];
		json_object_begin(j, NULL);
		json_int(j, "pid", p->procs[s->proc].pid);
		if (metric == FA_PEAK_BYTES) {
			json_int(j, "bytes", s->w[FA_PEAK_BYTES]);
			json_double(
			    j, "share",
			    p->mem.peak_bytes ? (double)s->w[FA_PEAK_BYTES] / (double)p->mem.peak_bytes : 0);
		} else {
			json_int(j, "bytes", s->w[FA_LEAKED_BYTES]);
			json_int(j, "blocks", s->w[FA_LEAKED_BLOCKS]);
		}
		json_stack_frames(j, "frames", p, v[i], 0, FD_MAX_FRAMES * 2);
		json_object_end(j);
	}
	json_array_end(j);
	free(v);
}

static void json_totals(struct json *j, const struct fa_mem *mm)
{
	json_object_begin(j, "totals");
	json_uint(j, "alloc_calls", mm->alloc_calls);
	json_uint(j, "alloc_bytes", mm->alloc_bytes);
	json_uint(j, "frees", mm->frees);
	if (mm->temp_unknown)
		json_null(j, "temp_calls"); /* not estimated (sampled) */
	else
		json_uint(j, "temp_calls", mm->temp_calls);
	json_object_end(j);
}

static void json_peak(struct json *j, const struct mem_json *o)
{
	const struct profile *p = o->p;
	const struct fa_mem *mm = &p->mem;
	json_object_begin(j, "peak");
	json_int(j, "bytes", mm->peak_bytes);
	json_uint(j, "time_ns", mm->peak_time_ns);
	json_int(j, "pid", mm->peak_proc < p->nprocs ? p->procs[mm->peak_proc].pid : 0);
	json_int(j, "rss_bytes", mem_proc_peaks(p, mm->peak_proc, NULL)); /* that process's RSS peak */
	json_stacks(j, o, "stacks", FA_PEAK_BYTES, p->nprocs > 1 ? mm->peak_proc : FA_NONE);
	json_object_end(j);
}

static void json_leaks(struct json *j, const struct mem_json *o)
{
	const struct profile *p = o->p;
	const struct fa_mem *mm = &p->mem;
	json_object_begin(j, "leaks");
	json_int(j, "bytes", mm->leaked_bytes);
	json_int(j, "blocks", mm->leaked_blocks);
	json_stacks(j, o, "stacks", FA_LEAKED_BYTES, FA_NONE);
	json_object_end(j);

	json_object_begin(j, "suppressed");
	json_int(j, "bytes", mm->suppressed_bytes);
	json_int(j, "blocks", mm->suppressed_blocks);
	json_array_begin(j, "patterns");
	for (size_t i = 0; i < p->nsuppressions; i++) {
		json_object_begin(j, NULL);
		json_string(j, "pattern", p->suppressions[i].pattern);
		json_string(j, "source", p->suppressions[i].source);
		json_int(j, "bytes", p->suppressions[i].bytes);
		json_int(j, "blocks", p->suppressions[i].blocks);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void json_sites(struct json *j, const struct mem_json *o)
{
	const struct profile *p = o->p;
	mem_sites_sort(p, o->sites, o->nsites, o->sort);
	json_array_begin(j, "sites");
	for (size_t i = 0; i < limit(o, o->nsites); i++) {
		const struct mem_site *s = &o->sites[i];
		const struct fa_func *fn = s->func != FA_NONE ? &p->funcs[s->func] : NULL;
		json_object_begin(j, NULL);
		json_string(j, "function", fn ? fn->name : "[no stack]");
		json_string(j, "file", fn ? fn->file : NULL);
		json_uint(j, "line", s->line);
		json_string(j, "module", fn && fn->module != FA_NONE ? p->modules[fn->module].name : NULL);
		json_int(j, "calls", s->w[FA_ALLOC_CALLS]);
		json_int(j, "bytes", s->w[FA_ALLOC_BYTES]);
		if (p->mem.temp_unknown)
			json_null(j, "temp_calls");
		else
			json_int(j, "temp_calls", s->w[FA_TEMP_CALLS]);
		json_int(j, "peak_bytes", s->w[FA_PEAK_BYTES]);
		json_int(j, "leaked_bytes", s->w[FA_LEAKED_BYTES]);
		json_int(j, "leaked_blocks", s->w[FA_LEAKED_BLOCKS]);
		size_t nf, at = 0;
		free(mem_stack_site(p, s->stack, o->rule, &nf, &at));
		json_stack_frames(j, "frames", p, s->stack, at, o->site_frames);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_histogram(struct json *j, const struct fa_mem *mm)
{
	json_array_begin(j, "histogram");
	for (int i = 0; i < FA_HIST_BUCKETS; i++) {
		if (!mm->hist_calls[i])
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "min", i ? (uint64_t)1 << (i - 1) : 0);
		if (i < FA_HIST_BUCKETS - 1)
			json_uint(j, "max", i ? ((uint64_t)1 << i) - 1 : 0);
		else
			json_null(j, "max");
		json_uint(j, "calls", mm->hist_calls[i]);
		json_uint(j, "bytes", mm->hist_bytes[i]);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_timeline(struct json *j, const struct profile *p)
{
	json_array_begin(j, "timeline");
	for (size_t i = 0; i < p->ntimeline; i++) {
		const struct fa_point *pt = &p->timeline[i];
		json_object_begin(j, NULL);
		json_int(j, "pid", p->procs[pt->proc].pid);
		json_uint(j, "time_ns", pt->time_ns);
		json_int(j, "heap", pt->heap);
		json_int(j, "rss", pt->rss);
		json_object_end(j);
	}
	json_array_end(j);
}

void json_mem(struct json *j, const struct mem_json *o)
{
	const struct profile *p = o->p;
	const struct fa_mem *mm = &p->mem;
	json_object_begin(j, NULL);
	json_processes(j, "processes", p);
	json_bool(j, "sampled", mm->sampled);
	json_double(j, "scale", mm->scale);
	json_totals(j, mm);
	json_peak(j, o);
	json_leaks(j, o);
	json_sites(j, o);
	json_histogram(j, mm);
	json_timeline(j, p);
	json_array_begin(j, "warnings");
	json_profile_warnings(j, p);
	json_array_end(j);
	json_object_end(j);
}
