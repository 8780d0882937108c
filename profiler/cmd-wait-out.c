/* fathom wait's output: the text tables and the JSON document
 * (docs/json-schema/wait.json) of what cmd-wait.c gathered. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd-wait.h"
#include "cmds.h"
#include "json-profile.h"
#include "util.h"

static double pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

/* The kind an object is shown as: its first reason ("mutex", "cond"). */
static const char *object_kind(const struct wait_object *o)
{
	return wait_reason_name(o->reasons ? (uint64_t)(ffs((int)o->reasons) - 1) : FD_WAIT_MUTEX);
}

/* The site rows by waiting time, heaviest first (*n of them). */
static int cmp_site_row(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->self[FA_WAIT] != y->self[FA_WAIT])
		return x->self[FA_WAIT] > y->self[FA_WAIT] ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct agg_row **site_rows(const struct waitcmd *w, size_t *n)
{
	struct agg_row **r = malloc((w->sites.nrows + 1) * sizeof(*r));
	if (!r)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < w->sites.nrows; i++)
		if (w->sites.rows[i].self[FA_WAIT] > 0)
			r[(*n)++] = &w->sites.rows[i];
	qsort(r, *n, sizeof(*r), cmp_site_row);
	return r;
}

/* The frames of a site row's heaviest stack: fr[0] the innermost (the
 * function it waited in), and *site the index of the row's own frame. */
static size_t row_stack(const struct waitcmd *w, const struct agg_row *r, struct fa_frame *fr, size_t max,
			size_t *site)
{
	const struct profile *p = w->p;
	*site = 0;
	if (r->stack >= p->nstacks)
		return 0;
	size_t n = profile_stack_frames(p, &p->stacks[r->stack], fr, max);
	n = n > max ? max : n;
	while (*site + 1 < n && (fr[*site].func != r->func || fr[*site].line != r->line))
		(*site)++;
	return n;
}

/* ---- text ---- */

static void text_header(const struct waitcmd *w)
{
	const struct profile *p = w->p;
	char a[32], b[32];
	for (size_t i = 0; i < p->nprocs; i++) {
		const struct fa_process *pr = &p->procs[i];
		printf("%s %s: pid %d, %s, ", i ? "         " : "recording", pr->path, pr->pid,
		       fmt_duration(a, pr->duration_ns));
		if (pr->wait_threshold_ns)
			printf("waits of %s or more recorded, shorter ones sampled\n",
			       fmt_duration(b, pr->wait_threshold_ns));
		else
			printf("recorded without --wait (no waits)\n");
	}
}

static void text_reasons(const struct waitcmd *w, const int64_t *by, double var, int64_t total)
{
	char a[32], b[32], c[32];
	const struct fa_waits *ws = w->p->waits;
	printf("waiting: %s", fmt_duration(a, (uint64_t)total));
	if (var > 0)
		printf(" (± %s: %s of %s records stand for sampled short waits)",
		       fmt_duration(b, (uint64_t)waitcmd_sigma2(var)), fmt_count(a, (int64_t)ws->sampled),
		       fmt_count(c, (int64_t)ws->events));
	printf("%s\n", w->has_tid ? " (this thread)" : "");
	if (!total) {
		printf("\nNo thread waited long enough to be recorded.\n");
		return;
	}
	printf("\nBy reason\n  %10s %7s  %s\n", "waited", "share", "reason");
	int order[WAIT_NGROUPS];
	for (int g = 0; g < WAIT_NGROUPS; g++)
		order[g] = g;
	for (int i = 0; i < WAIT_NGROUPS; i++) /* a few groups: insertion sort, heaviest first */
		for (int k = i; k > 0 && by[order[k]] > by[order[k - 1]]; k--) {
			int t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	for (int i = 0; i < WAIT_NGROUPS && by[order[i]] > 0; i++)
		printf("  %10s %6.1f%%  %s\n", fmt_duration(a, (uint64_t)by[order[i]]),
		       pct(by[order[i]], total), wait_group_names[order[i]]);
}

static void text_threads(const struct waitcmd *w, const uint32_t *order, size_t n)
{
	const struct profile *p = w->p;
	char a[32], b[32], c[32];
	printf("\nThreads (wait%%: of the time the thread was seen)\n  %-8s %-7s %-16s %10s %7s %10s  %s\n",
	       "tid", "pid", "name", "waited", "wait%", "cpu", "mostly");
	for (size_t i = 0; i < n && i < (size_t)w->top; i++) {
		const struct fa_thread *th = &p->threads[order[i]];
		const struct wait_thread *wt = &p->waits->threads[order[i]];
		unsigned hz = p->procs[th->proc].hz;
		int64_t life = waitcmd_life(p, order[i]);
		printf("  %-8d %-7d %-16s %10s ", th->tid, p->procs[th->proc].pid,
		       th->name && *th->name ? th->name : "-", fmt_duration(a, (uint64_t)wt->total));
		if (life)
			printf("%6.1f%% ", pct(wt->total > life ? life : wt->total, life));
		else
			printf("%7s ", "-");
		printf("%10s ", hz ? fmt_duration(b, (uint64_t)((double)th->cpu * 1e9 / hz)) : "-");
		int shown = 0;
		for (int k = 0; k < 2; k++) {
			int best = -1;
			for (int g = 0; g < WAIT_NGROUPS; g++)
				if (wt->by_group[g] > 0 && (k == 0 || g != shown - 1) &&
				    (k == 0 || wt->by_group[g] * 200 >= wt->total) &&
				    (best < 0 || wt->by_group[g] > wt->by_group[best]))
					best = g;
			if (best < 0)
				break;
			printf("%s%s %.0f%%", k ? ", " : " ", wait_group_names[best],
			       pct(wt->by_group[best], wt->total));
			shown = best + 1;
		}
		if (wt->var > 0)
			printf("  (± %s)", fmt_duration(c, (uint64_t)waitcmd_sigma2(wt->var)));
		printf("\n");
	}
}

static void text_sites(const struct waitcmd *w)
{
	char a[32], loc[1024], in[1024];
	size_t n;
	struct agg_row **rows = site_rows(w, &n);
	if (!rows || !n) {
		free(rows);
		return;
	}
	printf("\nWhere the program waited (its call past the C library; in: the function that blocked)\n"
	       "  %10s %7s  %s\n",
	       "waited", "share", "site");
	struct fa_frame fr[64];
	for (size_t i = 0; i < n && i < (size_t)w->top; i++) {
		const struct agg_row *r = rows[i];
		struct fa_frame me = {r->func, r->line};
		size_t site, nf = row_stack(w, r, fr, 64, &site);
		printf("  %10s %6.1f%%  %s", fmt_duration(a, (uint64_t)r->self[FA_WAIT]),
		       pct(r->self[FA_WAIT], w->sites.total[FA_WAIT]),
		       waitcmd_where(w, &me, loc, sizeof(loc)));
		if (nf && site > 0)
			printf("  in %s", w->p->funcs[fr[0].func].name);
		printf("\n");
		/* Its callers, on the heaviest stack. */
		for (size_t k = site + 1, shown = 0; k < nf && shown < 3; k++, shown++)
			printf("  %10s %7s    %s %s\n", "", "", shown ? "<-" : "called from",
			       waitcmd_where(w, &fr[k], in, sizeof(in)));
	}
	free(rows);
}

/* "at f (x.c:3) 78%, g (x.c:9) 22%" for the first three sites. */
static void text_site_list(const struct waitcmd *w, const struct wait_site_sum *s, size_t n, int64_t whole)
{
	char loc[1024];
	for (size_t i = 0; i < n && i < 3; i++)
		printf("%s%s %.0f%%", i ? ", " : "", waitcmd_where(w, &s[i].fr, loc, sizeof(loc)),
		       pct(s[i].weight, whole));
	if (n > 3)
		printf(", %zu more", n - 3);
}

static int text_objects(const struct waitcmd *w, enum wait_group group, const char *title)
{
	const struct fa_waits *ws = w->p->waits;
	char a[32], b[32];
	size_t shown = 0;
	for (size_t i = 0; i < ws->nobjects && shown < (size_t)w->top; i++) {
		const struct wait_object *o = &ws->objects[i];
		int64_t ns;
		uint32_t nthreads;
		waitcmd_object_figures(w, o, &ns, &nthreads);
		if (o->group != group || (!ns && (w->has_tid || !o->releases)))
			continue;
		if (!shown++)
			printf("\n%s\n", title);
		printf("  %s 0x%" PRIx64, object_kind(o), o->addr);
		if (w->p->nprocs > 1)
			printf(" (pid %d)", w->p->procs[o->proc].pid);
		if (!ns) {
			/* Released with waiters queued, but every wait for it was
			 * short and none was sampled. */
			printf(": no wait recorded (its waits were shorter than the threshold and sampled "
			       "out)\n");
		} else {
			printf(": %s", fmt_duration(a, (uint64_t)ns));
			if (o->var > 0 && !w->has_tid)
				printf(" (± %s)", fmt_duration(b, (uint64_t)waitcmd_sigma2(o->var)));
			printf(" waited by %u thread%s", nthreads, nthreads == 1 ? "" : "s");
		}
		struct wait_site_sum *s = NULL;
		size_t n = 0;
		if (waitcmd_sites(w, o->waiters, o->nwaiters, &s, &n) < 0)
			return -ENOMEM;
		if (n && ns) {
			printf(", at ");
			text_site_list(w, s, n, ns);
		}
		free(s);
		if (ns)
			printf("\n");
		if (group != WAIT_G_LOCK)
			continue;
		struct wait_site_sum *h = NULL;
		size_t nh = 0;
		struct waitcmd w_all = *w;
		w_all.has_tid = false; /* its holders, whatever thread waited */
		if (waitcmd_sites(&w_all, o->holders, o->nholders, &h, &nh) < 0)
			return -ENOMEM;
		if (nh) {
			printf("      held mostly at ");
			text_site_list(w, h, nh, o->releases);
			printf(" of %s contended releases", fmt_count(a, o->releases));
			if (o->held_releases)
				printf("; held %s on average",
				       fmt_duration(b, (uint64_t)(o->held_ns / o->held_releases)));
			printf("\n");
		} else {
			printf("      no contended release recorded (its holders are sampled)\n");
		}
		free(h);
	}
	return 0;
}

static void text_timeline(const struct waitcmd *w, const uint32_t *order, size_t n)
{
	const struct profile *p = w->p;
	char a[32], line[260];
	uint64_t span = 0;
	for (size_t i = 0; i < p->nprocs; i++)
		span = p->procs[i].duration_ns > span ? p->procs[i].duration_ns : span;
	printf("\nTimeline over %s%s (# running, ~ waiting, . neither: runnable, unrecorded short waits; "
	       "blank: not seen)\n",
	       fmt_duration(a, span), p->nprocs > 1 ? " of each process" : "");
	for (size_t i = 0; i < n && i < (size_t)w->top; i++) {
		const struct fa_thread *th = &p->threads[order[i]];
		waitcmd_timeline_text(w, order[i], line, (size_t)w->width);
		printf("  %-8d %-16.16s |%s|\n", th->tid, th->name && *th->name ? th->name : "-", line);
	}
}

int waitcmd_text(const struct waitcmd *w)
{
	const struct profile *p = w->p;
	int64_t by[WAIT_NGROUPS], total;
	double var;
	uint32_t *order = malloc((p->nthreads ? p->nthreads : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	size_t n = waitcmd_threads(w, order);
	waitcmd_groups(w, by, &var, &total);
	text_header(w);
	text_reasons(w, by, var, total);
	int rc = 0;
	if (total) {
		text_threads(w, order, n);
		text_sites(w);
		if ((rc = text_objects(w, WAIT_G_LOCK, "Contended locks")) == 0)
			rc = text_objects(w, WAIT_G_CONDITION,
					  "Conditions, semaphores and barriers waited on");
	}
	if (n)
		text_timeline(w, order, n);
	free(order);
	return rc;
}

/* ---- JSON ---- */

static void json_frame(const struct waitcmd *w, struct json *j, const struct fa_frame *fr)
{
	const struct profile *p = w->p;
	const struct fa_func *fn = fr->func < p->nfuncs ? &p->funcs[fr->func] : NULL;
	json_string(j, "function", fn ? fn->name : "[no stack]");
	json_string(j, "file", fn ? fn->file : NULL);
	json_uint(j, "line", fr->line);
}

static int json_sites(const struct waitcmd *w, struct json *j, const char *key, const struct wait_party *a,
		      size_t n, int64_t whole, bool holders)
{
	struct wait_site_sum *s = NULL;
	size_t ns = 0;
	if (waitcmd_sites(w, a, n, &s, &ns) < 0)
		return -ENOMEM;
	json_array_begin(j, key);
	for (size_t i = 0; i < ns; i++) {
		json_object_begin(j, NULL);
		json_frame(w, j, &s[i].fr);
		json_int(j, holders ? "releases" : "wait_ns", s[i].weight);
		json_double(j, "share", whole > 0 ? (double)s[i].weight / (double)whole : 0);
		if (holders)
			json_int(j, "held_ns", s[i].held_ns);
		json_uint(j, "records", s[i].records);
		json_object_end(j);
	}
	json_array_end(j);
	free(s);
	return 0;
}

static void json_groups(struct json *j, const char *key, const int64_t *by)
{
	json_object_begin(j, key);
	for (int g = 0; g < WAIT_NGROUPS; g++)
		json_int(j, wait_group_names[g], by[g]);
	json_object_end(j);
}

static void json_threads(const struct waitcmd *w, struct json *j, const uint32_t *order, size_t n)
{
	const struct profile *p = w->p;
	double run[256], wait[256], alive[256];
	char line[260];
	json_array_begin(j, "threads");
	for (size_t i = 0; i < n; i++) {
		const struct fa_thread *th = &p->threads[order[i]];
		const struct wait_thread *wt = &p->waits->threads[order[i]];
		unsigned hz = p->procs[th->proc].hz;
		int64_t life = waitcmd_life(p, order[i]);
		json_object_begin(j, NULL);
		json_int(j, "pid", p->procs[th->proc].pid);
		json_int(j, "tid", th->tid);
		json_string(j, "name", th->name);
		json_int(j, "wait_ns", wt->total);
		json_double(j, "sigma2_ns", waitcmd_sigma2(wt->var));
		json_uint(j, "records", wt->events);
		json_int(j, "seen_ns", life);
		json_double(j, "wait_share",
			    life ? (double)(wt->total > life ? life : wt->total) / (double)life : 0);
		json_double(j, "cpu_ns", hz ? (double)th->cpu * 1e9 / hz : 0);
		json_groups(j, "by_reason", wt->by_group);
		json_object_begin(j, "timeline");
		bool has = wait_timeline_columns(p, order[i], (size_t)w->width, run, wait, alive);
		const double *cols[3] = {run, wait, alive};
		const char *names[3] = {"run", "wait", "seen"};
		for (int k = 0; k < 3; k++) {
			json_array_begin(j, names[k]);
			for (int c = 0; has && c < w->width; c++)
				json_double(j, NULL, (double)(int)(cols[k][c] * 1000 + 0.5) / 1000);
			json_array_end(j);
		}
		waitcmd_timeline_text(w, order[i], line, (size_t)w->width);
		json_string(j, "text", line);
		json_object_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

int waitcmd_json(const struct waitcmd *w)
{
	const struct profile *p = w->p;
	const struct fa_waits *ws = p->waits;
	int64_t by[WAIT_NGROUPS], total;
	double var;
	uint32_t *order = malloc((p->nthreads ? p->nthreads : 1) * sizeof(*order));
	size_t nrows;
	struct agg_row **rows = site_rows(w, &nrows);
	int rc = -ENOMEM;
	if (!order || !rows)
		goto out;
	size_t n = waitcmd_threads(w, order);
	waitcmd_groups(w, by, &var, &total);
	struct json j;
	json_init(&j, stdout, false);
	json_object_begin(&j, NULL);
	json_processes(&j, "processes", p);
	if (w->has_tid)
		json_int(&j, "tid", w->tid);
	json_int(&j, "wait_ns", total);
	json_double(&j, "sigma2_ns", waitcmd_sigma2(var));
	json_uint(&j, "records", ws ? ws->events : 0);
	json_uint(&j, "sampled_records", ws ? ws->sampled : 0);
	json_uint(&j, "hold_records", ws ? ws->holds : 0);
	json_groups(&j, "by_reason", by);
	json_threads(w, &j, order, n);
	json_array_begin(&j, "sites");
	struct fa_frame fr[64];
	for (size_t i = 0; i < nrows && i < (size_t)w->top; i++) {
		const struct agg_row *r = rows[i];
		struct fa_frame me = {r->func, r->line};
		size_t site, nf = row_stack(w, r, fr, 64, &site);
		json_object_begin(&j, NULL);
		json_frame(w, &j, &me);
		json_string(&j, "module", r->module);
		json_int(&j, "wait_ns", r->self[FA_WAIT]);
		json_double(&j, "share", pct(r->self[FA_WAIT], w->sites.total[FA_WAIT]) / 100);
		json_array_begin(&j, "stack");
		for (size_t k = 0; k < nf; k++) {
			json_object_begin(&j, NULL);
			json_frame(w, &j, &fr[k]);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "objects");
	size_t shown = 0;
	for (size_t i = 0; ws && i < ws->nobjects && shown < (size_t)w->top; i++) {
		const struct wait_object *o = &ws->objects[i];
		int64_t ns;
		uint32_t nthreads;
		waitcmd_object_figures(w, o, &ns, &nthreads);
		if (!ns && (w->has_tid || !o->releases))
			continue;
		shown++;
		char addr[32];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, o->addr);
		json_object_begin(&j, NULL);
		json_int(&j, "pid", p->procs[o->proc].pid);
		json_string(&j, "address", addr);
		json_string(&j, "kind", object_kind(o));
		json_string(&j, "group", wait_group_names[o->group]);
		json_int(&j, "wait_ns", ns);
		json_double(&j, "sigma2_ns", w->has_tid ? 0 : waitcmd_sigma2(o->var));
		json_uint(&j, "threads", nthreads);
		if (json_sites(w, &j, "waiters", o->waiters, o->nwaiters, ns, false) < 0)
			goto out;
		json_int(&j, "releases", o->releases);
		json_int(&j, "held_ns", o->held_ns);
		json_int(&j, "held_releases", o->held_releases);
		struct waitcmd w_all = *w;
		w_all.has_tid = false;
		if (json_sites(&w_all, &j, "holders", o->holders, o->nholders, o->releases, true) < 0)
			goto out;
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "warnings");
	json_profile_warnings(&j, p);
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', stdout);
	rc = 0;
out:
	free(order);
	free(rows);
	return rc;
}
