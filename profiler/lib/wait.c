/* Where threads waited: the WAIT and HOLD records gathered per thread, per
 * object (a lock and its waiters and holders) and over time (see wait.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fathom-dump.h"
#include "site.h"
#include "wait.h"

const char *const wait_group_names[WAIT_NGROUPS] = {
    [WAIT_G_LOCK] = "lock",   [WAIT_G_CONDITION] = "condition", [WAIT_G_JOIN] = "join",
    [WAIT_G_FILE] = "file",   [WAIT_G_SOCKET] = "socket",	[WAIT_G_PIPE] = "pipe",
    [WAIT_G_TTY] = "tty",     [WAIT_G_IO_OTHER] = "io",		[WAIT_G_POLL] = "poll",
    [WAIT_G_SLEEP] = "sleep", [WAIT_G_CHILD] = "child",		[WAIT_G_OTHER] = "other",
};

enum wait_group wait_group_of(uint64_t reason, uint64_t fd_kind)
{
	switch (reason) {
	case FD_WAIT_MUTEX:
	case FD_WAIT_RWLOCK:
	case FD_WAIT_SPIN:
	case FD_WAIT_FUTEX:
		return WAIT_G_LOCK;
	case FD_WAIT_COND:
	case FD_WAIT_SEM:
	case FD_WAIT_BARRIER:
		return WAIT_G_CONDITION;
	case FD_WAIT_JOIN:
		return WAIT_G_JOIN;
	case FD_WAIT_READ:
	case FD_WAIT_WRITE:
	case FD_WAIT_ACCEPT:
	case FD_WAIT_CONNECT:
	case FD_WAIT_SYNC:
		switch (fd_kind) {
		case FD_FDK_FILE:
			return WAIT_G_FILE;
		case FD_FDK_SOCKET:
			return WAIT_G_SOCKET;
		case FD_FDK_PIPE:
			return WAIT_G_PIPE;
		case FD_FDK_TTY:
			return WAIT_G_TTY;
		default:
			/* fsync without a kind is still a file's. */
			return reason == FD_WAIT_SYNC ? WAIT_G_FILE : WAIT_G_IO_OTHER;
		}
	case FD_WAIT_POLL:
		return WAIT_G_POLL;
	case FD_WAIT_SLEEP:
		return WAIT_G_SLEEP;
	case FD_WAIT_CHILD:
		return WAIT_G_CHILD;
	default:
		return WAIT_G_OTHER;
	}
}

const char *wait_reason_name(uint64_t reason)
{
	static const char *const names[] = {
	    [FD_WAIT_MUTEX] = "mutex", [FD_WAIT_RWLOCK] = "rwlock", [FD_WAIT_SPIN] = "spin",
	    [FD_WAIT_COND] = "cond",   [FD_WAIT_SEM] = "sem",	    [FD_WAIT_BARRIER] = "barrier",
	    [FD_WAIT_JOIN] = "join",   [FD_WAIT_READ] = "read",	    [FD_WAIT_WRITE] = "write",
	    [FD_WAIT_POLL] = "poll",   [FD_WAIT_ACCEPT] = "accept", [FD_WAIT_CONNECT] = "connect",
	    [FD_WAIT_SYNC] = "sync",   [FD_WAIT_SLEEP] = "sleep",   [FD_WAIT_CHILD] = "child",
	    [FD_WAIT_FUTEX] = "futex", [FD_WAIT_OTHER] = "other",
	};
	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "other";
}

/* A wait on an object (a lock or a condition: their address is an
 * identity) or a contended release, kept until wait_finish groups them. */
struct raw_party {
	uint32_t proc, stack, thread, reason;
	uint64_t addr;
	int64_t weight, held_ns;
	double var;
};

struct wait_raw {
	struct raw_party *waits, *holds;
	size_t nwaits, nholds, waits_cap, holds_cap;
};

static int push(struct raw_party **a, size_t *n, size_t *cap, const struct raw_party *e)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct raw_party *b = realloc(*a, c * sizeof(*b));
		if (!b)
			return -ENOMEM;
		*a = b;
		*cap = c;
	}
	(*a)[(*n)++] = *e;
	return 0;
}

static struct fa_waits *waits_of(struct profile *p)
{
	if (!p->waits && (p->waits = calloc(1, sizeof(*p->waits))) &&
	    !(p->waits->raw = calloc(1, sizeof(*p->waits->raw)))) {
		free(p->waits);
		p->waits = NULL;
	}
	return p->waits;
}

static struct wait_thread *thread_of(struct fa_waits *w, uint32_t t)
{
	if (t >= w->nthreads) {
		size_t n = w->nthreads ? w->nthreads : 16;
		while (n <= t)
			n *= 2;
		struct wait_thread *a = realloc(w->threads, n * sizeof(*a));
		if (!a)
			return NULL;
		memset(a + w->nthreads, 0, (n - w->nthreads) * sizeof(*a));
		w->threads = a;
		w->nthreads = n;
	}
	return &w->threads[t];
}

/* ---- timelines ---- */

static struct wait_timeline *timeline_of(struct wait_thread *th)
{
	if (!th->tl && (th->tl = calloc(1, sizeof(*th->tl)))) {
		th->tl->width_ns = 1000000; /* 1 ms: 240 ms before the first widening */
		th->tl->first_ns = UINT64_MAX;
	}
	return th->tl;
}

/* Widens the buckets until `end` falls inside them. */
static void tl_fit(struct wait_timeline *tl, uint64_t end)
{
	while (end >= tl->width_ns * WAIT_TL_BUCKETS) {
		for (size_t i = 0; i < WAIT_TL_BUCKETS / 2; i++) {
			tl->run[i] = tl->run[2 * i] + tl->run[2 * i + 1];
			tl->wait[i] = tl->wait[2 * i] + tl->wait[2 * i + 1];
		}
		memset(tl->run + WAIT_TL_BUCKETS / 2, 0, WAIT_TL_BUCKETS / 2 * sizeof(double));
		memset(tl->wait + WAIT_TL_BUCKETS / 2, 0, WAIT_TL_BUCKETS / 2 * sizeof(double));
		tl->width_ns *= 2;
	}
}

/* Adds `amount` spread evenly over [start, start + len) to the buckets of a. */
static void tl_spread(struct wait_timeline *tl, double *a, uint64_t start, uint64_t len, double amount)
{
	uint64_t end = start + len;
	if (end > WAIT_MAX_NS)
		return;
	tl_fit(tl, end);
	if (start < tl->first_ns)
		tl->first_ns = start;
	if (end > tl->last_ns)
		tl->last_ns = end;
	uint64_t w = tl->width_ns;
	if (!len) {
		a[start / w] += amount;
		return;
	}
	for (uint64_t b = start / w; b * w < end && b < WAIT_TL_BUCKETS; b++) {
		uint64_t lo = b * w > start ? b * w : start, hi = (b + 1) * w < end ? (b + 1) * w : end;
		a[b] += amount * (double)(hi - lo) / (double)len;
	}
}

int wait_sample(struct profile *p, uint32_t thread, uint64_t time, uint64_t ns)
{
	struct fa_waits *w = waits_of(p);
	struct wait_thread *th = w ? thread_of(w, thread) : NULL;
	struct wait_timeline *tl = th ? timeline_of(th) : NULL;
	if (!tl)
		return -ENOMEM;
	/* A sample stands for the CPU time before it. */
	uint64_t start = time > ns ? time - ns : 0;
	tl_spread(tl, tl->run, start, time - start, (double)ns);
	return 0;
}

/* ---- records ---- */

int wait_record(struct profile *p, uint32_t proc, uint32_t thread, uint32_t stack, const struct rd_rec *r)
{
	struct fa_waits *w = waits_of(p);
	struct wait_thread *th = w ? thread_of(w, thread) : NULL;
	if (!th)
		return -ENOMEM;
	struct wait_raw *raw = w->raw;
	if (r->kind == FD_REC_HOLD) {
		if (r->weight > (1u << 30) || r->ns > WAIT_MAX_NS) {
			w->bad++;
			return 0;
		}
		w->holds += r->weight;
		struct raw_party e = {proc,
				      stack,
				      thread,
				      FD_WAIT_MUTEX,
				      r->object,
				      (int64_t)r->weight,
				      (int64_t)(r->ns * r->weight),
				      0};
		return push(&raw->holds, &raw->nholds, &raw->holds_cap, &e);
	}
	if (r->weight > WAIT_MAX_NS || r->ns > WAIT_MAX_NS || r->time > WAIT_MAX_NS) { /* as model.c */
		w->bad++;
		return 0;
	}
	enum wait_group g = wait_group_of(r->reason, r->fd_kind);
	int64_t weight = (int64_t)r->weight;
	/* A short wait stands for weight / ns like it (sampled with
	 * probability ns / weight): its share of the estimate's variance. */
	double var = r->weight > r->ns ? (double)r->weight * (double)(r->weight - r->ns) : 0;
	if (r->ns > th->longest_ns || !th->events) {
		th->longest_ns = r->ns;
		th->longest_stack = stack;
	}
	th->by_group[g] += weight;
	th->total += weight;
	th->var += var;
	th->events++;
	w->by_group[g] += weight;
	w->total += weight;
	w->var += var;
	w->events++;
	w->sampled += r->weight > r->ns;
	struct wait_timeline *tl = timeline_of(th);
	if (!tl)
		return -ENOMEM;
	tl_spread(tl, tl->wait, r->time, r->ns, (double)weight);
	if ((g != WAIT_G_LOCK && g != WAIT_G_CONDITION) || !r->object)
		return 0;
	struct raw_party e = {
	    proc,      stack,  thread, (uint32_t)(r->reason < 32 ? r->reason : FD_WAIT_OTHER),
	    r->object, weight, 0,      var};
	return push(&raw->waits, &raw->nwaits, &raw->waits_cap, &e);
}

/* ---- grouping ---- */

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_party *x = a, *y = b;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return (x->thread > y->thread) - (x->thread < y->thread);
}

static int cmp_party(const void *a, const void *b)
{
	const struct wait_party *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return (x->thread > y->thread) - (x->thread < y->thread);
}

static int cmp_object(const void *a, const void *b)
{
	const struct wait_object *x = a, *y = b;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	if (x->releases != y->releases)
		return x->releases > y->releases ? -1 : 1;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The parties raw[i..j) (one object, sorted by stack and thread) merged
 * per (stack, thread) into a new array. */
static struct wait_party *merge_parties(const struct raw_party *raw, size_t i, size_t j, size_t *n)
{
	struct wait_party *a = malloc((j - i) * sizeof(*a));
	if (!a)
		return NULL;
	size_t k = 0;
	for (size_t x = i; x < j; x++) {
		if (!k || a[k - 1].stack != raw[x].stack || a[k - 1].thread != raw[x].thread)
			a[k++] = (struct wait_party){raw[x].stack, raw[x].thread, 0, 0, 0};
		a[k - 1].weight += raw[x].weight;
		a[k - 1].held_ns += raw[x].held_ns;
		a[k - 1].records++;
	}
	if (k > 1)
		qsort(a, k, sizeof(*a), cmp_party);
	*n = k;
	return a;
}

/* The object of (proc, addr) among w->objects[0..n), sorted by both; NULL if none. */
static struct wait_object *find_object(struct fa_waits *w, size_t n, uint32_t proc, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct wait_object *o = &w->objects[mid];
		if (o->proc < proc || (o->proc == proc && o->addr < addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && w->objects[lo].proc == proc && w->objects[lo].addr == addr ? &w->objects[lo] : NULL;
}

static int group_objects(struct fa_waits *w)
{
	struct wait_raw *r = w->raw;
	if (r->nwaits > 1) /* (qsort of a NULL array is undefined, even empty) */
		qsort(r->waits, r->nwaits, sizeof(*r->waits), cmp_raw);
	if (r->nholds > 1)
		qsort(r->holds, r->nholds, sizeof(*r->holds), cmp_raw);
	size_t cap = 0;
	for (size_t i = 0; i < r->nwaits; i++)
		cap += !i || r->waits[i].proc != r->waits[i - 1].proc ||
		       r->waits[i].addr != r->waits[i - 1].addr;
	for (size_t i = 0; i < r->nholds; i++)
		cap += !i || r->holds[i].proc != r->holds[i - 1].proc ||
		       r->holds[i].addr != r->holds[i - 1].addr;
	uint32_t *tids = malloc((r->nwaits ? r->nwaits : 1) * sizeof(*tids));
	if (!tids || !(w->objects = calloc(cap ? cap : 1, sizeof(*w->objects)))) {
		free(tids);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0, j; i < r->nwaits; i = j) {
		struct wait_object *o = &w->objects[n++];
		o->proc = r->waits[i].proc;
		o->addr = r->waits[i].addr;
		size_t nt = 0;
		enum wait_group g = WAIT_G_CONDITION;
		for (j = i; j < r->nwaits && r->waits[j].proc == o->proc && r->waits[j].addr == o->addr;
		     j++) {
			o->reasons |= 1u << r->waits[j].reason;
			o->wait_ns += r->waits[j].weight;
			o->var += r->waits[j].var;
			o->events++;
			tids[nt++] = r->waits[j].thread;
			if (wait_group_of(r->waits[j].reason, FD_FDK_NONE) == WAIT_G_LOCK)
				g = WAIT_G_LOCK;
		}
		o->group = g;
		qsort(tids, nt, sizeof(*tids), cmp_u32);
		for (size_t k = 0; k < nt; k++)
			o->nthreads += !k || tids[k] != tids[k - 1];
		if (!(o->waiters = merge_parties(r->waits, i, j, &o->nwaiters))) {
			free(tids);
			return -ENOMEM;
		}
	}
	free(tids);
	/* Holders join their object; a mutex only released with waiters
	 * queued (its waits all shorter than sampled, say) is one of its own. */
	size_t nwaited = n;
	for (size_t i = 0, j; i < r->nholds; i = j) {
		struct wait_object *o = find_object(w, nwaited, r->holds[i].proc, r->holds[i].addr);
		if (!o) {
			o = &w->objects[n++];
			o->proc = r->holds[i].proc;
			o->addr = r->holds[i].addr;
			o->group = WAIT_G_LOCK;
			o->reasons = 1u << FD_WAIT_MUTEX;
		}
		for (j = i; j < r->nholds && r->holds[j].proc == o->proc && r->holds[j].addr == o->addr;
		     j++) {
			o->releases += r->holds[j].weight;
			if (r->holds[j].held_ns) {
				o->held_ns += r->holds[j].held_ns;
				o->held_releases += r->holds[j].weight;
			}
		}
		if (!(o->holders = merge_parties(r->holds, i, j, &o->nholders)))
			return -ENOMEM;
	}
	if (n > 1)
		qsort(w->objects, n, sizeof(*w->objects), cmp_object);
	w->nobjects = n;
	return 0;
}

int wait_finish(struct profile *p)
{
	struct fa_waits *w = p->waits;
	if (!w)
		return 0;
	/* Every thread of the profile has its entry (zero when it never waited). */
	if (p->nthreads && !thread_of(w, (uint32_t)p->nthreads - 1))
		return -ENOMEM;
	int rc = group_objects(w);
	free(w->raw->waits);
	free(w->raw->holds);
	free(w->raw);
	w->raw = NULL;
	return rc;
}

void wait_free(struct fa_waits *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nthreads; i++)
		free(w->threads[i].tl);
	for (size_t i = 0; i < w->nobjects; i++) {
		free(w->objects[i].waiters);
		free(w->objects[i].holders);
	}
	if (w->raw) {
		free(w->raw->waits);
		free(w->raw->holds);
		free(w->raw);
	}
	free(w->threads);
	free(w->objects);
	free(w);
}

/* ---- reading ---- */

bool wait_recorded(const struct profile *p)
{
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].wait_threshold_ns)
			return true;
	return p->waits && (p->waits->events || p->waits->holds);
}

bool wait_timeline_columns(const struct profile *p, uint32_t t, size_t ncols, double *run, double *wait,
			   double *alive)
{
	const struct wait_thread *th = p->waits && t < p->waits->nthreads ? &p->waits->threads[t] : NULL;
	const struct wait_timeline *tl = th ? th->tl : NULL;
	uint64_t span = t < p->nthreads ? p->procs[p->threads[t].proc].duration_ns : 0;
	if (!tl || !ncols || tl->first_ns > tl->last_ns)
		return false;
	if (span < tl->last_ns)
		span = tl->last_ns;
	if (!span)
		return false;
	double cw = (double)span / (double)ncols, w = (double)tl->width_ns;
	for (size_t c = 0; c < ncols; c++)
		run[c] = wait[c] = alive[c] = 0;
	for (size_t b = 0; b < WAIT_TL_BUCKETS; b++) {
		if (!tl->run[b] && !tl->wait[b])
			continue;
		double lo = (double)b * w, hi = lo + w;
		for (size_t c = (size_t)(lo / cw); c < ncols && (double)c * cw < hi; c++) {
			double a = (double)c * cw > lo ? (double)c * cw : lo;
			double e = (double)(c + 1) * cw < hi ? (double)(c + 1) * cw : hi;
			if (e <= a)
				continue;
			run[c] += tl->run[b] * (e - a) / w;
			wait[c] += tl->wait[b] * (e - a) / w;
		}
	}
	for (size_t c = 0; c < ncols; c++) {
		double a = (double)c * cw, e = a + cw;
		double lo = (double)tl->first_ns > a ? (double)tl->first_ns : a;
		double hi = (double)tl->last_ns < e ? (double)tl->last_ns : e;
		alive[c] = hi > lo ? (hi - lo) / cw : 0;
		run[c] = run[c] / cw > 1 ? 1 : run[c] / cw;
		wait[c] = wait[c] / cw > 1 ? 1 : wait[c] / cw;
	}
	return true;
}

static int cmp_sum(const void *a, const void *b)
{
	const struct wait_site_sum *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->fr.func != y->fr.func)
		return x->fr.func < y->fr.func ? -1 : 1;
	return (x->fr.line > y->fr.line) - (x->fr.line < y->fr.line);
}

int wait_sites_of(const struct profile *p, const struct wait_party *a, size_t n, int tid,
		  struct wait_site_sum **out, size_t *nout)
{
	struct wait_site_sum *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (a[i].thread >= p->nthreads || (tid && p->threads[a[i].thread].tid != tid))
			continue;
		struct fa_frame fr = {FA_NONE, 0};
		wait_site(p, a[i].stack, &fr);
		size_t j = 0;
		while (j < k && (s[j].fr.func != fr.func || s[j].fr.line != fr.line))
			j++;
		if (j == k)
			s[k++] = (struct wait_site_sum){fr, 0, 0, 0};
		s[j].weight += a[i].weight;
		s[j].held_ns += a[i].held_ns;
		s[j].records += a[i].records;
	}
	qsort(s, k, sizeof(*s), cmp_sum);
	*out = s;
	*nout = k;
	return 0;
}

bool wait_site(const struct profile *p, uint32_t s, struct fa_frame *out)
{
	if (s >= p->nstacks)
		return false;
	struct fa_frame fr[FD_MAX_FRAMES * 2];
	size_t n = profile_stack_frames(p, &p->stacks[s], fr, sizeof(fr) / sizeof(fr[0]));
	if (n > sizeof(fr) / sizeof(fr[0]))
		n = sizeof(fr) / sizeof(fr[0]);
	if (!n)
		return false;
	*out = fr[site_first(p, fr, n, SITE_WAIT)];
	return out->func < p->nfuncs;
}
