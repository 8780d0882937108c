/* The viewer's Waiting tab data (record --wait): waiting by reason, per
 * thread with its run/wait timeline, and the locks and conditions waited on
 * with their waiters' and holders' sites, from wait.h's model. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "viewer-data.h"
#include "wait.h"

#define TIMELINE_COLS 100

static void groups(struct json *j, const char *key, const int64_t *by)
{
	json_object_begin(j, key);
	for (int g = 0; g < WAIT_NGROUPS; g++)
		if (by[g])
			json_int(j, wait_group_names[g], by[g]);
	json_object_end(j);
}

/* A waiter's or holder's site: [func, line, weight] triples, merged by site. */
static int parties(struct json *j, const struct profile *p, const char *key, const struct wait_party *a,
		   size_t n)
{
	struct wait_site_sum *s;
	size_t k;
	if (wait_sites_of(p, a, n, 0, &s, &k) < 0)
		return -ENOMEM;
	json_array_begin(j, key);
	for (size_t i = 0; i < k; i++) {
		json_int(j, NULL, s[i].fr.func < p->nfuncs ? (int64_t)s[i].fr.func : -1);
		json_uint(j, NULL, s[i].fr.line);
		json_int(j, NULL, s[i].weight);
	}
	json_array_end(j);
	free(s);
	return 0;
}

int viewer_write_waits(struct json *j, const struct profile *p)
{
	const struct fa_waits *w = p->waits;
	if (!wait_recorded(p))
		return 0;
	json_object_begin(j, "waits");
	json_int(j, "total_ns", w ? w->total : 0);
	json_double(j, "sigma2_ns", w ? 2 * sqrt(w->var) : 0);
	int64_t none[WAIT_NGROUPS] = {0};
	groups(j, "by_reason", w ? w->by_group : none);
	json_array_begin(j, "threads");
	double run[TIMELINE_COLS], wait[TIMELINE_COLS], seen[TIMELINE_COLS];
	for (uint32_t t = 0; w && t < p->nthreads && t < w->nthreads; t++) {
		const struct wait_thread *th = &w->threads[t];
		if (!th->tl && !th->events)
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "thread", t);
		json_int(j, "wait_ns", th->total);
		json_int(j, "seen_ns",
			 th->tl && th->tl->last_ns > th->tl->first_ns
			     ? (int64_t)(th->tl->last_ns - th->tl->first_ns)
			     : 0);
		groups(j, "by_reason", th->by_group);
		/* Fractions in thousandths: small integers, a smaller page. */
		bool has = wait_timeline_columns(p, t, TIMELINE_COLS, run, wait, seen);
		const double *cols[3] = {run, wait, seen};
		const char *names[3] = {"run", "wait", "seen"};
		for (int k = 0; k < 3; k++) {
			json_array_begin(j, names[k]);
			for (int c = 0; has && c < TIMELINE_COLS; c++)
				json_int(j, NULL, (int64_t)(cols[k][c] * 1000 + 0.5));
			json_array_end(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "objects");
	for (size_t i = 0; w && i < w->nobjects && i < 50; i++) {
		const struct wait_object *o = &w->objects[i];
		char addr[32];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, o->addr);
		json_object_begin(j, NULL);
		json_uint(j, "proc", o->proc);
		json_string(j, "address", addr);
		json_string(j, "kind",
			    wait_reason_name(o->reasons ? (uint64_t)__builtin_ctz(o->reasons) : 0));
		json_string(j, "group", wait_group_names[o->group]);
		json_int(j, "wait_ns", o->wait_ns);
		json_uint(j, "threads", o->nthreads);
		json_int(j, "releases", o->releases);
		if (parties(j, p, "waiters", o->waiters, o->nwaiters) < 0 ||
		    parties(j, p, "holders", o->holders, o->nholders) < 0)
			return -ENOMEM;
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	return 0;
}
