/* fathom wait: where the threads waited (record --wait): waiting time per
 * thread and by reason, the program's calls that waited, the contended locks
 * with their holders' release sites, and each thread's running and waiting
 * over the run, as text or JSON (wait.h has the model). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aggregate.h"
#include "cmd-wait.h"
#include "cmds.h"
#include "compare.h"
#include "cxxname.h"
#include "json-profile.h"
#include "util.h"
#include "wait.h"

static bool thread_selected(const struct waitcmd *w, uint32_t t)
{
	return !w->has_tid || w->p->threads[t].tid == w->tid;
}

const char *waitcmd_where(const struct waitcmd *w, const struct fa_frame *fr, char *buf, size_t len)
{
	const struct profile *p = w->p;
	if (fr->func >= p->nfuncs) {
		snprintf(buf, len, "[no stack]");
		return buf;
	}
	const struct fa_func *fn = &p->funcs[fr->func];
	char sbuf[512];
	const char *name = w->full_names || w->json ? fn->name : cxxname_short(fn->name, sbuf, sizeof(sbuf));
	compare_func_where(buf, len, name, cmd_base_name(fn->file), (int)fr->line);
	if (!fn->file && fn->module < p->nmodules && strncmp(name, p->modules[fn->module].name, 3))
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", p->modules[fn->module].name);
	return buf;
}

double waitcmd_sigma2(double var)
{
	return 2 * sqrt(var > 0 ? var : 0);
}

/* ---- per object: its waiters' and holders' sites ---- */

int waitcmd_sites(const struct waitcmd *w, const struct wait_party *a, size_t n, struct wait_site_sum **out,
		  size_t *nout)
{
	return wait_sites_of(w->p, a, n, w->has_tid ? w->tid : 0, out, nout);
}

/* An object's waiting under the thread filter: its time and threads. */
void waitcmd_object_figures(const struct waitcmd *w, const struct wait_object *o, int64_t *ns,
			    uint32_t *threads)
{
	if (!w->has_tid) {
		*ns = o->wait_ns;
		*threads = o->nthreads;
		return;
	}
	*ns = 0;
	for (size_t i = 0; i < o->nwaiters; i++)
		if (thread_selected(w, o->waiters[i].thread))
			*ns += o->waiters[i].weight;
	*threads = *ns > 0;
}

/* ---- per thread ---- */

int64_t waitcmd_life(const struct profile *p, uint32_t t)
{
	const struct wait_thread *th = p->waits && t < p->waits->nthreads ? &p->waits->threads[t] : NULL;
	return th && th->tl && th->tl->last_ns > th->tl->first_ns
		   ? (int64_t)(th->tl->last_ns - th->tl->first_ns)
		   : 0;
}

void waitcmd_timeline_text(const struct waitcmd *w, uint32_t t, char *out, size_t ncols)
{
	double run[256], wait[256], alive[256];
	if (ncols > 256)
		ncols = 256;
	if (!wait_timeline_columns(w->p, t, ncols, run, wait, alive)) {
		memset(out, ' ', ncols);
		out[ncols] = 0;
		return;
	}
	/* Each column shows what the thread did most in its time. */
	for (size_t c = 0; c < ncols; c++) {
		double other = alive[c] - run[c] - wait[c];
		if (alive[c] < 0.5 && run[c] + wait[c] < 0.25)
			out[c] = ' ';
		else if (run[c] >= wait[c] && run[c] >= other)
			out[c] = '#';
		else if (wait[c] >= other)
			out[c] = '~';
		else
			out[c] = '.';
	}
	out[ncols] = 0;
}

/* The threads to show: selected, seen in a process that recorded waits,
 * most waiting first. */
static int cmp_thread_wait(const void *a, const void *b, void *arg)
{
	const struct profile *p = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int64_t wx = p->waits->threads[x].total, wy = p->waits->threads[y].total;
	if (wx != wy)
		return wx > wy ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t waitcmd_threads(const struct waitcmd *w, uint32_t *order)
{
	const struct profile *p = w->p;
	size_t n = 0;
	for (uint32_t t = 0; p->waits && t < p->nthreads && t < p->waits->nthreads; t++)
		if (thread_selected(w, t) && (p->waits->threads[t].tl || p->waits->threads[t].events))
			order[n++] = t;
	if (n)
		qsort_r(order, n, sizeof(*order), cmp_thread_wait, (void *)p);
	return n;
}

/* The group totals under the thread filter. */
void waitcmd_groups(const struct waitcmd *w, int64_t *by, double *var, int64_t *total)
{
	const struct profile *p = w->p;
	memset(by, 0, WAIT_NGROUPS * sizeof(*by));
	*var = 0;
	*total = 0;
	for (uint32_t t = 0; p->waits && t < p->waits->nthreads && t < p->nthreads; t++) {
		if (!thread_selected(w, t))
			continue;
		const struct wait_thread *th = &p->waits->threads[t];
		for (int g = 0; g < WAIT_NGROUPS; g++)
			by[g] += th->by_group[g];
		*var += th->var;
		*total += th->total;
	}
}

/* ---- the command ---- */

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom wait [OPTIONS] FILE...\n"
		   "Shows where the threads waited, from a recording made with 'fathom record --wait':\n"
		   "waiting time per thread and by reason (lock, condition, join, I/O by descriptor kind,\n"
		   "poll, sleep, child), the program's calls that waited, the contended locks with\n"
		   "the sites where their holders released them, and each thread's running and\n"
		   "waiting over the run. Waits shorter than the recording's threshold are sampled:\n"
		   "their sums are estimates, shown with their error (± two standard deviations).\n\n"
		   "  --tid TID       only this thread\n"
		   "  --top N         rows per table (default 10; 0: all)\n"
		   "  --width N       columns of the timeline (default 60)\n"
		   "  --json          machine-readable output (docs/JSON.md)\n"
		   "  --full-names    keep C++ template arguments in the text\n");
}

int cmd_wait(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"tid", required_argument, NULL, 't'},   {"top", required_argument, NULL, 'n'},
	    {"width", required_argument, NULL, 'W'}, {"json", no_argument, NULL, 'j'},
	    {"full-names", no_argument, NULL, 'F'},  CMD_COMMON_OPTIONS,
	};
	struct waitcmd w = {.top = 10, .width = 60};
	struct cmd_common cc = {.name = "wait", .usage = usage};
	int c, ret;
	char *end;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		long v;
		switch (c) {
		case 't':
			w.tid = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || w.tid <= 0) {
				fprintf(stderr, "fathom wait: --tid takes a thread id, not '%s'\n", optarg);
				return 2;
			}
			w.has_tid = true;
			break;
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0) {
				fprintf(stderr, "fathom wait: --top takes a count (0 for all), not '%s'\n",
					optarg);
				return 2;
			}
			w.top = v == 0 || v > INT_MAX ? INT_MAX : (int)v;
			break;
		case 'W':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 10 || v > 256) {
				fprintf(stderr, "fathom wait: --width takes 10 to 256 columns, not '%s'\n",
					optarg);
				return 2;
			}
			w.width = (int)v;
			break;
		case 'j':
			w.json = true;
			break;
		case 'F':
			w.full_names = true;
			break;
		default:
			if ((ret = cmd_common_option(&cc, c, argv, longopts)) >= 0)
				return ret;
		}
	}
	struct profile p;
	if ((ret = cmd_load_files(&cc, &p, &argc, &argv)))
		return ret;
	w.p = &p;
	ret = 1;
	if (!wait_recorded(&p)) {
		fprintf(
		    stderr,
		    "fathom wait: %s%s recorded without --wait: no waits to show; run fathom record --wait "
		    "-- PROGRAM\n",
		    p.procs[0].path, p.nprocs > 1 ? " (and the other dumps) were" : " was");
		goto out;
	}
	if (w.has_tid) {
		bool found = false;
		for (size_t t = 0; t < p.nthreads; t++)
			found |= p.threads[t].tid == w.tid;
		if (!found) {
			fprintf(stderr, "fathom wait: no thread %d in the recording\n", w.tid);
			ret = 2;
			goto out;
		}
	}
	struct agg_opts o = {.key = AGG_FRAME,
			     .metrics = AGG_METRIC(FA_WAIT),
			     .heavy = FA_WAIT,
			     .self_only = true,
			     .filter = {.tid = w.has_tid ? w.tid : 0}};
	if (agg_table_build(&w.sites, &p, &o) < 0) {
		fprintf(stderr, "fathom wait: out of memory\n");
		goto out;
	}
	ret = (w.json ? waitcmd_json(&w) : waitcmd_text(&w)) < 0 ? 1 : 0;
	if (ret)
		fprintf(stderr, "fathom wait: out of memory\n");
	agg_table_free(&w.sites);
out:
	profile_free(&p);
	return ret;
}
