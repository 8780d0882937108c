/* The program's mappings in the model: MAP, UNMAP and REMAP records are
 * collected while the dumps are read, then replayed per process in
 * sequence order (the order the agent's one counter gave them with the
 * allocation events) over a sorted list of mapped ranges, which yields the
 * bytes mapped by kind over time, the peak, and what each stack and file
 * held. Lengths are rounded up to pages as the kernel maps them (the
 * break, which moves by bytes, is not). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "profile.h"
#include "util.h"

#define PAGE 4096ull

/* One record as read. */
struct mrec {
	uint32_t proc, stack;
	int kind;	/* FD_REC_MAP, _UNMAP, _REMAP */
	unsigned mkind; /* FD_MAP_* */
	int32_t file;	/* index in files, -1 */
	uint64_t seq, time, addr, len, old_addr, old_len;
	size_t order; /* in the file: ties of seq (damage) keep it */
};

struct maps_loader {
	struct mrec *recs;
	size_t nrecs, recs_cap;
	struct fa_map_file *files;
	size_t nfiles, files_cap;
	struct fa_rss_point *rss;
	size_t nrss, rss_cap;
	bool *recorded;
	size_t recorded_cap;
};

struct maps_loader *maps_loader_new(void)
{
	return calloc(1, sizeof(struct maps_loader));
}

static int set_recorded(struct maps_loader *ml, uint32_t proc)
{
	if (proc >= ml->recorded_cap) {
		size_t old = ml->recorded_cap;
		if (GROW(ml->recorded, ml->recorded_cap, (size_t)proc + 1) < 0)
			return -ENOMEM;
		memset(ml->recorded + old, 0, ml->recorded_cap - old);
	}
	ml->recorded[proc] = true;
	return 0;
}

/* The file of a path in process proc, made on first use. */
static int32_t file_of(struct maps_loader *ml, uint32_t proc, struct rd_bytes path)
{
	for (size_t i = ml->nfiles; i-- > 0;)
		if (ml->files[i].proc == proc && strlen(ml->files[i].path) == path.len &&
		    !memcmp(ml->files[i].path, path.p, path.len))
			return (int32_t)i;
	if (GROW(ml->files, ml->files_cap, ml->nfiles + 1) < 0)
		return -2;
	char *s = strndup((const char *)path.p, path.len);
	if (!s)
		return -2;
	ml->files[ml->nfiles] = (struct fa_map_file){.path = s, .proc = proc};
	return (int32_t)ml->nfiles++;
}

int maps_record(struct maps_loader *ml, uint32_t proc, const struct rd_rec *r, uint32_t stack)
{
	if (set_recorded(ml, proc) < 0 || GROW(ml->recs, ml->recs_cap, ml->nrecs + 1) < 0)
		return -ENOMEM;
	struct mrec m = {.proc = proc,
			 .stack = stack,
			 .kind = r->kind,
			 .mkind = r->map_kind < FD_MAP_NKINDS ? (unsigned)r->map_kind : FD_MAP_ANON,
			 .file = -1,
			 .seq = r->seq,
			 .time = r->time,
			 .addr = r->ptr,
			 .len = r->size,
			 .old_addr = r->old_ptr,
			 .old_len = r->old_size,
			 .order = ml->nrecs};
	if (r->kind == FD_REC_MAP && m.mkind == FD_MAP_FILE && r->path.len &&
	    (m.file = file_of(ml, proc, r->path)) == -2)
		return -ENOMEM;
	ml->recs[ml->nrecs++] = m;
	return 0;
}

int maps_tick(struct maps_loader *ml, uint32_t proc, const struct rd_rec *r)
{
	if (r->rss_file == UINT64_MAX)
		return 0;
	if (set_recorded(ml, proc) < 0 || GROW(ml->rss, ml->rss_cap, ml->nrss + 1) < 0)
		return -ENOMEM;
	ml->rss[ml->nrss++] = (struct fa_rss_point){proc, r->time, (int64_t)r->rss, (int64_t)r->rss_file};
	return 0;
}

void maps_loader_free(struct maps_loader *ml)
{
	if (!ml)
		return;
	for (size_t i = 0; i < ml->nfiles; i++)
		free(ml->files[i].path);
	free(ml->files);
	free(ml->recs);
	free(ml->rss);
	free(ml->recorded);
	free(ml);
}

/* ------------------------------------------------------------- the replay */

/* A mapped range of the process being replayed. */
struct range {
	uint64_t lo, hi;
	unsigned kind;
	uint32_t site; /* index in the stacks table */
	int32_t file;
};

struct replay {
	struct fa_maps *m;
	uint32_t proc;
	struct range *v;
	size_t n, cap;
	int64_t live[FD_MAP_NKINDS], peak;
	size_t site_first;		 /* this process's sites start here in m->stacks */
	size_t *stacks_cap, *points_cap; /* of m's arrays, across processes */
};

static int cmp_rec(const void *a, const void *b)
{
	const struct mrec *x = a, *y = b;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static uint64_t pages(uint64_t len, unsigned kind)
{
	if (kind == FD_MAP_BRK)
		return len;
	return len > UINT64_MAX - PAGE ? UINT64_MAX & ~(PAGE - 1) : (len + PAGE - 1) & ~(PAGE - 1);
}

/* Adds d bytes of a range's kind, site and file. */
static void account(struct replay *rp, const struct range *g, int64_t d)
{
	struct fa_maps *m = rp->m;
	rp->live[g->kind] += d;
	struct fa_map_stack *s = &m->stacks[g->site];
	s->live_end += d;
	if (s->live_end > s->max_live)
		s->max_live = s->live_end;
	if (g->file >= 0) {
		struct fa_map_file *f = &m->files[g->file];
		f->live_end += d;
		if (f->live_end > f->max_live)
			f->max_live = f->live_end;
	}
}

/* The first range that ends after lo. */
static size_t first_after(const struct replay *rp, uint64_t lo)
{
	size_t a = 0, b = rp->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (rp->v[mid].hi <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* Unmaps [lo, hi): whatever was there, split where it straddles. Returns
 * the kind and file of the first range met in *kind and *file (when not
 * NULL), and whether any was. */
static int unmap(struct replay *rp, uint64_t lo, uint64_t hi, unsigned *kind, int32_t *file)
{
	int any = 0;
	size_t i = first_after(rp, lo);
	while (i < rp->n && rp->v[i].lo < hi) {
		struct range *g = &rp->v[i];
		if (!any) {
			any = 1;
			if (kind)
				*kind = g->kind;
			if (file)
				*file = g->file;
		}
		uint64_t a = g->lo > lo ? g->lo : lo, b = g->hi < hi ? g->hi : hi;
		account(rp, g, -(int64_t)(b - a));
		if (g->lo < lo && g->hi > hi) { /* split in two */
			if (GROW(rp->v, rp->cap, rp->n + 1) < 0)
				return -ENOMEM;
			g = &rp->v[i];
			memmove(g + 1, g, (rp->n - i) * sizeof(*g));
			rp->n++;
			g->hi = lo;
			g[1].lo = hi;
			return 1;
		}
		if (g->lo < lo) {
			g->hi = lo;
			i++;
		} else if (g->hi > hi) {
			g->lo = hi;
			i++;
		} else {
			memmove(g, g + 1, (rp->n - i - 1) * sizeof(*g));
			rp->n--;
		}
	}
	return any;
}

/* The site of (stack, kind) in this process, made on first use. */
static long site_of(struct replay *rp, uint32_t stack, unsigned kind, int32_t file)
{
	struct fa_maps *m = rp->m;
	for (size_t i = rp->site_first; i < m->nstacks; i++)
		if (m->stacks[i].stack == stack && m->stacks[i].kind == kind && m->stacks[i].file == file)
			return (long)i;
	if (GROW(m->stacks, *rp->stacks_cap, m->nstacks + 1) < 0)
		return -ENOMEM;
	m->stacks[m->nstacks] =
	    (struct fa_map_stack){.stack = stack, .proc = rp->proc, .kind = kind, .file = file};
	return (long)m->nstacks++;
}

static int map(struct replay *rp, uint64_t lo, uint64_t hi, unsigned kind, uint32_t stack, int32_t file)
{
	if (hi <= lo)
		return 0;
	if (unmap(rp, lo, hi, NULL, NULL) < 0)
		return -ENOMEM;
	long site = site_of(rp, stack, kind, file);
	if (site < 0 || GROW(rp->v, rp->cap, rp->n + 1) < 0)
		return -ENOMEM;
	size_t i = first_after(rp, lo);
	memmove(rp->v + i + 1, rp->v + i, (rp->n - i) * sizeof(*rp->v));
	rp->v[i] = (struct range){lo, hi, kind, (uint32_t)site, file};
	rp->n++;
	struct fa_map_stack *s = &rp->m->stacks[site];
	s->calls++;
	s->bytes += (int64_t)(hi - lo);
	if (file >= 0) {
		rp->m->files[file].calls++;
		rp->m->files[file].bytes += (int64_t)(hi - lo);
	}
	account(rp, &rp->v[i], (int64_t)(hi - lo));
	return 0;
}

/* After an event: the point, the peaks. */
static void after(struct replay *rp, uint64_t time)
{
	struct fa_maps *m = rp->m;
	int64_t counted = maps_counted(rp->live);
	for (unsigned k = 0; k < FD_MAP_NKINDS; k++)
		if (rp->live[k] > m->kind_max[k])
			m->kind_max[k] = rp->live[k];
	if (counted > m->peak_bytes) {
		m->peak_bytes = counted;
		m->peak_time_ns = time;
		m->peak_proc = rp->proc;
		memcpy(m->peak_kind, rp->live, sizeof(rp->live));
		/* The sites' share of it: the peak moved to this process. */
		for (size_t i = 0; i < m->nstacks; i++)
			m->stacks[i].live_peak = m->stacks[i].proc == rp->proc ? m->stacks[i].live_end : 0;
	}
}

static int replay(struct fa_maps *m, const struct mrec *r, size_t n, size_t caps[2])
{
	struct replay rp = {.m = m,
			    .proc = r[0].proc,
			    .site_first = m->nstacks,
			    .stacks_cap = &caps[0],
			    .points_cap = &caps[1]};
	int rc = 0;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const struct mrec *e = &r[i];
		if (e->kind == FD_REC_MAP) {
			if (e->addr > UINT64_MAX - pages(e->len, e->mkind)) {
				m->bad++;
				continue;
			}
			m->calls[e->mkind]++;
			rc =
			    map(&rp, e->addr, e->addr + pages(e->len, e->mkind), e->mkind, e->stack, e->file);
		} else if (e->kind == FD_REC_UNMAP) {
			m->unmaps++;
			uint64_t len = pages(e->len, e->mkind);
			rc = unmap(&rp, e->addr, e->addr > UINT64_MAX - len ? UINT64_MAX : e->addr + len,
				   NULL, NULL);
		} else {
			m->remaps++;
			unsigned kind = FD_MAP_ANON;
			int32_t file = -1;
			uint64_t ol = pages(e->old_len, FD_MAP_ANON), nl = pages(e->len, FD_MAP_ANON);
			if (e->old_addr > UINT64_MAX - ol || e->addr > UINT64_MAX - nl) {
				m->bad++;
				continue;
			}
			rc = unmap(&rp, e->old_addr, e->old_addr + ol, &kind, &file);
			if (rc >= 0)
				rc = map(&rp, e->addr, e->addr + nl, kind, e->stack, file);
		}
		if (rc < 0)
			break;
		if (GROW(m->points, *rp.points_cap, m->npoints + 1) < 0) {
			rc = -ENOMEM;
			break;
		}
		struct fa_map_point *pt = &m->points[m->npoints++];
		pt->proc = rp.proc;
		pt->time_ns = e->time;
		memcpy(pt->live, rp.live, sizeof(rp.live));
		after(&rp, e->time);
	}
	for (unsigned k = 0; k < FD_MAP_NKINDS; k++)
		m->end_kind[k] += rp.live[k];
	free(rp.v);
	return rc < 0 ? rc : 0;
}

int maps_finish(struct maps_loader *ml, struct profile *p)
{
	int rc = 0;
	if (!ml || (!ml->nrecs && !ml->nrss && !ml->recorded_cap)) {
		maps_loader_free(ml);
		return 0;
	}
	struct fa_maps *m = calloc(1, sizeof(*m));
	if (!m || !(m->recorded = calloc(p->nprocs + 1, sizeof(bool)))) {
		free(m);
		maps_loader_free(ml);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ml->recorded_cap && i < p->nprocs; i++)
		m->recorded[i] = ml->recorded[i];
	m->files = ml->files;
	m->nfiles = ml->nfiles;
	ml->files = NULL;
	ml->nfiles = 0;
	m->rss = ml->rss;
	m->nrss = ml->nrss;
	ml->rss = NULL;
	if (ml->nrecs)
		qsort(ml->recs, ml->nrecs, sizeof(*ml->recs), cmp_rec);
	size_t caps[2] = {0, 0};
	for (size_t i = 0; i < ml->nrecs && rc >= 0;) {
		size_t j = i;
		while (j < ml->nrecs && ml->recs[j].proc == ml->recs[i].proc)
			j++;
		rc = replay(m, ml->recs + i, j - i, caps);
		i = j;
	}
	maps_loader_free(ml);
	if (rc < 0) {
		maps_free(m);
		return rc;
	}
	p->maps = m;
	return 0;
}

void maps_free(struct fa_maps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->stacks);
	free(m->points);
	free(m->rss);
	free(m->recorded);
	free(m);
}

/* ------------------------------------------------------------ the figures */

void maps_at(const struct fa_maps *m, uint32_t proc, uint64_t t, int64_t live[FD_MAP_NKINDS])
{
	memset(live, 0, FD_MAP_NKINDS * sizeof(*live));
	if (!m)
		return;
	for (size_t i = 0; i < m->npoints; i++) {
		const struct fa_map_point *pt = &m->points[i];
		if (pt->proc == proc && pt->time_ns <= t)
			memcpy(live, pt->live, FD_MAP_NKINDS * sizeof(*live));
	}
}

int64_t maps_counted(const int64_t live[FD_MAP_NKINDS])
{
	int64_t s = 0;
	for (unsigned k = 0; k < FD_MAP_NKINDS; k++)
		if (MAPS_COUNTED(k))
			s += live[k];
	return s;
}

const char *maps_kind_name(unsigned kind)
{
	static const char *const names[FD_MAP_NKINDS] = {"anonymous", "file", "stack",
							 "guard",     "heap", "break"};
	return kind < FD_MAP_NKINDS ? names[kind] : "unknown";
}
