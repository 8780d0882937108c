/* Turns profiles into the viewer's JSON: functions, a call tree of all stacks
 * with sparse weights per metric, threads, the heap timeline and the summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cpu-account.h"
#include "fathom-dump.h"
#include "json-profile.h"
#include "util.h"
#include "viewer-data.h"
#include "wait.h"

/* The metrics in the order the viewer offers them. */
static const int metric_order[] = {FA_CPU,	    FA_ALLOC_BYTES,   FA_ALLOC_CALLS, FA_TEMP_CALLS,
				   FA_LEAKED_BYTES, FA_LEAKED_BLOCKS, FA_PEAK_BYTES,  FA_WAIT};

struct tcpu {
	int32_t node;
	uint32_t thread;
	int64_t cpu;
};

static int tcpu_cmp(const void *a, const void *b)
{
	const struct tcpu *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

static bool has_cpu(const struct profile *p)
{
	if (p->total[FA_CPU])
		return true;
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].hz > 0 || p->procs[i].samples)
			return true;
	return false;
}

static bool has_alloc(const struct profile *p)
{
	if (p->mem.alloc_calls || p->total[FA_ALLOC_CALLS])
		return true;
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].alloc_mode != FD_ALLOC_OFF)
			return true;
	return false;
}

/* Whether the recording measured metric m (listed even when its total is 0:
 * "no leaks" is data). */
static bool measured(const struct profile *p, int m)
{
	return m == FA_CPU ? has_cpu(p) : m == FA_WAIT ? wait_recorded(p) : has_alloc(p);
}

static void write_metrics(struct json *j, const struct profile *p)
{
	/* CPU weights are sampling periods; they convert to time when every
	 * process that sampled used the same rate. */
	unsigned hz = 0;
	bool same_hz = true, wall = false, cpu = false;
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		if (!pr->hz)
			continue;
		if (hz && pr->hz != hz)
			same_hz = false;
		hz = pr->hz;
		if (pr->clock == FD_CLOCK_WALL)
			wall = true;
		else
			cpu = true;
	}
	static const char *const labels[FA_NMETRICS] = {
	    [FA_CPU] = "CPU time",
	    [FA_ALLOC_CALLS] = "Allocation calls",
	    [FA_ALLOC_BYTES] = "Allocated bytes",
	    [FA_TEMP_CALLS] = "Temporary allocations",
	    [FA_LEAKED_BYTES] = "Leaked bytes",
	    [FA_LEAKED_BLOCKS] = "Leaked blocks",
	    [FA_PEAK_BYTES] = "Live at heap peak",
	    [FA_WAIT] = "Waiting time",
	};
	json_array_begin(j, "metrics");
	for (size_t k = 0; k < sizeof(metric_order) / sizeof(metric_order[0]); k++) {
		int m = metric_order[k];
		if (!measured(p, m))
			continue;
		json_object_begin(j, NULL);
		json_string(j, "id", fa_metric_names[m]);
		json_string(j, "label",
			    m == FA_CPU && wall ? (cpu ? "CPU and wall samples" : "Wall time") : labels[m]);
		json_string(j, "unit",
			    m == FA_CPU								? "samples"
			    : m == FA_WAIT							? "ns"
			    : m == FA_ALLOC_BYTES || m == FA_LEAKED_BYTES || m == FA_PEAK_BYTES ? "bytes"
												: "count");
		json_int(j, "total", p->total[m]);
		if (m == FA_CPU && hz && same_hz && !(wall && cpu))
			json_double(j, "ns_per_unit", 1e9 / hz);
		json_object_end(j);
	}
	json_array_end(j);
}

/* Module names, each once; mod_index maps a module to its name's index. */
static const char *mod_name(const struct profile *p, size_t i)
{
	return p->modules[i].name ? p->modules[i].name : "?";
}

/* By name, then by index: each name's first module leads its run. */
static int mod_cmp(const void *a, const void *b, void *prof)
{
	const struct profile *p = prof;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(mod_name(p, x), mod_name(p, y));
	return c ? c : (x > y) - (x < y);
}

/* The module names, each once in the order of its first module;
 * mod_index[i] = the name of module i. Names are matched through a sort: a
 * scan of the names so far for each module is quadratic (minutes for
 * 300,000 module records). */
static int write_modules(struct json *j, const struct profile *p, int32_t *mod_index)
{
	uint32_t *by = malloc((p->nmodules + 1) * sizeof(*by));
	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < p->nmodules; i++)
		by[i] = (uint32_t)i;
	qsort_r(by, p->nmodules, sizeof(*by), mod_cmp, (void *)p);
	/* First each module's first module of the same name, then, in index
	 * order, that one's position in the list (it comes earlier, so is set). */
	for (size_t i = 0; i < p->nmodules; i++)
		mod_index[by[i]] = i && !strcmp(mod_name(p, by[i - 1]), mod_name(p, by[i]))
				       ? mod_index[by[i - 1]]
				       : (int32_t)by[i];
	int32_t n = 0;
	json_array_begin(j, "modules");
	for (size_t i = 0; i < p->nmodules; i++) {
		if (mod_index[i] == (int32_t)i) {
			json_string(j, NULL, mod_name(p, i));
			mod_index[i] = n++;
		} else {
			mod_index[i] = mod_index[mod_index[i]];
		}
	}
	json_array_end(j);
	free(by);
	return 0;
}

static void write_funcs(struct json *j, const struct profile *p, const int32_t *mod_index)
{
	json_object_begin(j, "funcs");
	json_array_begin(j, "name");
	for (size_t i = 0; i < p->nfuncs; i++)
		json_string(j, NULL, p->funcs[i].name ? p->funcs[i].name : "?");
	json_array_end(j);
	json_array_begin(j, "file");
	for (size_t i = 0; i < p->nfuncs; i++)
		json_string(j, NULL, p->funcs[i].file);
	json_array_end(j);
	json_array_begin(j, "line");
	for (size_t i = 0; i < p->nfuncs; i++)
		json_int(j, NULL, p->funcs[i].decl_line);
	json_array_end(j);
	json_array_begin(j, "module");
	for (size_t i = 0; i < p->nfuncs; i++) {
		uint32_t m = p->funcs[i].module;
		json_int(j, NULL, m < p->nmodules ? mod_index[m] : -1);
	}
	json_array_end(j);
	json_object_end(j);
}

/* The viewer's nodes are the tree's but its root: viewer node i is tree node
 * i + 1, and -1 is the root. */
static int write_weights(struct json *j, const struct profile *p, const struct flame_tree *t,
			 const uint32_t *node_of)
{
	/* Slot 0 is the root (stacks without frames), slot i + 1 node i. */
	int64_t *acc = malloc(t->nnodes * sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	json_object_begin(j, "weights");
	for (size_t k = 0; k < sizeof(metric_order) / sizeof(metric_order[0]); k++) {
		int m = metric_order[k];
		if (!measured(p, m))
			continue;
		memset(acc, 0, t->nnodes * sizeof(*acc));
		for (size_t s = 0; s < p->nstacks; s++)
			acc[node_of[s]] += p->stacks[s].w[m];
		/* Nodes ascend, so each is written as the step from the previous
		 * one (starting at -1): small numbers, a smaller page. */
		json_array_begin(j, fa_metric_names[m]);
		int64_t prev = -1;
		for (size_t i = 0; i < t->nnodes; i++)
			if (acc[i]) {
				json_int(j, NULL, (int64_t)i - 1 - prev);
				json_int(j, NULL, acc[i]);
				prev = (int64_t)i - 1;
			}
		json_array_end(j);
	}
	json_object_end(j);
	free(acc);
	return 0;
}

/* The hotspot table of every metric listed: self and total per function as
 * every command counts them (aggregate.h: CPU self at the innermost frame,
 * memory self at the allocation's site, a stack once in a total), as rows
 * [step, self, total, ...] by ascending function, the function coded as a
 * step from the previous row's (from -1). One table holds every metric. */
static int write_hotspots(struct json *j, const struct profile *p, const struct viewer_opts *vo)
{
	struct agg_opts o = {.key = AGG_FUNCTION, .rule = SITE_USER, .heavy = -1};
	for (size_t k = 0; k < sizeof(metric_order) / sizeof(metric_order[0]); k++) {
		int m = metric_order[k];
		if (measured(p, m))
			o.metrics |= AGG_METRIC(m);
	}
	struct agg_table t;
	if (agg_table_build(&t, p, &o) < 0)
		return -ENOMEM;
	/* The row of each function, FA_NONE for those without weight. */
	uint32_t *row = malloc((p->nfuncs + 1) * sizeof(*row));
	if (!row) {
		agg_table_free(&t);
		return -ENOMEM;
	}
	memset(row, 0xff, (p->nfuncs + 1) * sizeof(*row));
	for (size_t i = 0; i < t.nrows; i++)
		if (t.rows[i].func < p->nfuncs)
			row[t.rows[i].func] = (uint32_t)i;
	json_object_begin(j, "hotspots");
	for (size_t k = 0; k < sizeof(metric_order) / sizeof(metric_order[0]); k++) {
		int m = metric_order[k];
		if (!(o.metrics & AGG_METRIC(m)))
			continue;
		json_array_begin(j, fa_metric_names[m]);
		int64_t prev = -1;
		for (size_t f = 0; f < p->nfuncs; f++) {
			if (row[f] == FA_NONE)
				continue;
			const struct agg_row *r = &t.rows[row[f]];
			if (!r->self[m] && !r->total[m])
				continue;
			json_int(j, NULL, (int64_t)f - prev);
			json_int(j, NULL, r->self[m]);
			json_int(j, NULL, r->total[m]);
			prev = (int64_t)f;
		}
		json_array_end(j);
	}
	json_object_end(j);
	free(row);
	agg_table_free(&t);
	return viewer_write_lines(j, p, o.metrics, metric_order,
				  sizeof(metric_order) / sizeof(metric_order[0]), vo);
}

static int write_thread_cpu(struct json *j, const struct profile *p, const uint32_t *node_of)
{
	struct tcpu *v = malloc((p->ntstacks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < p->ntstacks; i++) {
		const struct fa_thread_stack *ts = &p->tstacks[i];
		if (ts->stack >= p->nstacks || ts->thread >= p->nthreads || !ts->cpu)
			continue;
		v[n++] = (struct tcpu){(int32_t)node_of[ts->stack] - 1, ts->thread, ts->cpu};
	}
	qsort(v, n, sizeof(*v), tcpu_cmp);
	json_array_begin(j, "thread_cpu");
	int64_t prev = -1;
	for (size_t i = 0; i < n;) {
		size_t k = i + 1;
		int64_t cpu = v[i].cpu;
		while (k < n && v[k].node == v[i].node && v[k].thread == v[i].thread)
			cpu += v[k++].cpu;
		json_int(j, NULL, v[i].node - prev);
		prev = v[i].node;
		json_uint(j, NULL, v[i].thread);
		json_int(j, NULL, cpu);
		i = k;
	}
	json_array_end(j);
	free(v);
	return 0;
}

static void write_timeline(struct json *j, const struct profile *p)
{
	json_array_begin(j, "timeline");
	for (size_t pr = 0; pr < p->nprocs; pr++) {
		size_t n = 0;
		for (size_t i = 0; i < p->ntimeline; i++)
			n += p->timeline[i].proc == pr;
		if (!n)
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "proc", pr);
		json_array_begin(j, "t");
		for (size_t i = 0; i < p->ntimeline; i++)
			if (p->timeline[i].proc == pr)
				json_uint(j, NULL, p->timeline[i].time_ns);
		json_array_end(j);
		json_array_begin(j, "heap");
		for (size_t i = 0; i < p->ntimeline; i++)
			if (p->timeline[i].proc == pr)
				json_int(j, NULL, p->timeline[i].heap);
		json_array_end(j);
		json_array_begin(j, "rss");
		for (size_t i = 0; i < p->ntimeline; i++)
			if (p->timeline[i].proc == pr)
				json_int(j, NULL, p->timeline[i].rss);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_mem(struct json *j, const struct profile *p)
{
	const struct fa_mem *m = &p->mem;
	json_object_begin(j, "mem");
	json_uint(j, "alloc_calls", m->alloc_calls);
	json_uint(j, "alloc_bytes", m->alloc_bytes);
	json_uint(j, "frees", m->frees);
	json_uint(j, "temp_calls", m->temp_calls);
	json_int(j, "peak_bytes", m->peak_bytes);
	json_uint(j, "peak_time_ns", m->peak_time_ns);
	json_int(j, "peak_proc", m->peak_bytes > 0 && m->peak_proc < p->nprocs ? (int64_t)m->peak_proc : -1);
	json_int(j, "leaked_bytes", m->leaked_bytes);
	json_int(j, "leaked_blocks", m->leaked_blocks);
	json_bool(j, "sampled", m->sampled);
	json_double(j, "scale", m->scale);
	json_object_end(j);
}

static int write_profile(struct json *j, const struct profile *p, const char *label,
			 const struct viewer_opts *vo)
{
	int ret = 0;
	struct flame_tree t = {0};
	uint32_t *node_of = malloc((p->nstacks + 1) * sizeof(*node_of));
	int32_t *mod_index = malloc((p->nmodules + 1) * sizeof(*mod_index));
	if (!node_of || !mod_index) {
		ret = -ENOMEM;
		goto out;
	}
	ret = flame_build_by_func(&t, p, node_of);
	if (ret < 0)
		goto out;

	json_object_begin(j, NULL);
	json_string(j, "label", label);
	json_array_begin(j, "files");
	for (size_t i = 0; i < p->nprocs; i++)
		json_string(j, NULL, p->procs[i].path);
	json_array_end(j);
	json_processes(j, "procs", p);
	write_metrics(j, p);
	json_array_begin(j, "threads");
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct fa_thread *th = &p->threads[i];
		json_object_begin(j, NULL);
		json_uint(j, "proc", th->proc);
		json_int(j, "pid", th->proc < p->nprocs ? p->procs[th->proc].pid : 0);
		json_int(j, "tid", th->tid);
		json_string(j, "name", th->name);
		json_int(j, "cpu", th->cpu);
		json_uint(j, "samples", th->samples);
		json_object_end(j);
	}
	json_array_end(j);
	ret = write_modules(j, p, mod_index);
	if (ret < 0)
		goto out;
	write_funcs(j, p, mod_index);
	json_object_begin(j, "nodes");
	/* Each node's distance back to its parent: mostly small numbers, so
	 * the page is smaller and the browser reads it sooner. */
	json_array_begin(j, "up");
	for (size_t i = 1; i < t.nnodes; i++)
		json_int(j, NULL, (int64_t)i - t.nodes[i].parent);
	json_array_end(j);
	json_array_begin(j, "func");
	for (size_t i = 1; i < t.nnodes; i++)
		json_uint(j, NULL, t.nodes[i].func);
	json_array_end(j);
	json_object_end(j);
	ret = write_weights(j, p, &t, node_of);
	if (ret < 0)
		goto out;
	ret = write_hotspots(j, p, vo);
	if (ret < 0)
		goto out;
	ret = write_thread_cpu(j, p, node_of);
	if (ret < 0)
		goto out;
	write_timeline(j, p);
	write_mem(j, p);
	if ((ret = viewer_write_waits(j, p)) < 0)
		goto out;
	struct cpu_account acct;
	if ((ret = cpu_account(p, &acct)) < 0)
		goto out;
	if (acct.procs) {
		json_object_begin(j, "cpu_account");
		json_uint(j, "measured_ns", acct.measured_ns);
		json_uint(j, "profile_ns", acct.profile_ns);
		json_bool(j, "warning", acct.warn);
		json_object_end(j);
	}
	json_array_begin(j, "warnings");
	json_profile_warnings(j, p);
	char note[512];
	for (size_t i = 0; cpu_account_note(p, &acct, i, note, sizeof(note)); i++)
		json_string(j, NULL, note);
	cpu_account_free(&acct);
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].damage) {
			/* The model's warnings may already say it; a damaged file must be visible. */
			bool said = false;
			for (size_t k = 0; k < p->nwarnings && !said; k++)
				said = strstr(p->warnings[k], p->procs[i].damage) != NULL;
			if (!said) {
				char msg[512];
				snprintf(msg, sizeof(msg), "%s: %s",
					 p->procs[i].path ? p->procs[i].path : "?", p->procs[i].damage);
				json_string(j, NULL, msg);
			}
		}
	json_array_end(j);
	json_object_end(j);
out:
	flame_free(&t);
	free(node_of);
	free(mod_index);
	return ret;
}

const char *viewer_default_title(char *buf, size_t len, const struct profile *p)
{
	const char *exe = p->nprocs && p->procs[0].exe ? p->procs[0].exe : "program";
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (p->nprocs == 1)
		snprintf(buf, len, "fathom: %s (pid %d)", base, p->procs[0].pid);
	else
		snprintf(buf, len, "fathom: %s (%zu processes)", base, p->nprocs);
	return buf;
}

int viewer_data_write(FILE *f, const struct profile *const *profiles, size_t n, const struct viewer_opts *o)
{
	char title[512];
	struct json j;
	json_init(&j, f, o->pretty);
	json_object_begin(&j, NULL);
	json_string(&j, "format", "fathom-viewer");
	json_int(&j, "version", 2); /* 2: hotspots */
	json_string(&j, "title",
		    o->title ? o->title : viewer_default_title(title, sizeof(title), profiles[n - 1]));
	json_string(&j, "generator", o->generator);
	json_bool(&j, "diff", o->diff && n == 2);
	json_array_begin(&j, "profiles");
	for (size_t i = 0; i < n; i++) {
		int ret = write_profile(&j, profiles[i], o->diff && n == 2 ? (i ? "new" : "base") : "", o);
		if (ret < 0)
			return ret;
	}
	json_array_end(&j);
	json_object_end(&j);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
