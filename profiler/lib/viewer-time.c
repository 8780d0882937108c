/* The viewer's CPU over time ("cpu_time", viewer/README.md): each thread's
 * samples in at most VIEWER_SLICES slices of the run, by call-tree node, for
 * the timeline's lanes and for the flame graph and tables of a selected
 * range; and the mapped bytes at each point of the memory timeline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "util.h"
#include "viewer-data.h"

/* Slices of the run at most, and cells (thread, slice, node) in all: a big
 * dump gets fewer, wider slices, so the page stays bounded. */
#define VIEWER_SLICES 240
#define VIEWER_CELLS 300000

struct cell {
	uint32_t thread, slice;
	int32_t node;
	int64_t w;
};

static int cell_cmp(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->slice != y->slice)
		return x->slice < y->slice ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

/* The samples in slices of slice_ns into v (one per sample), sorted and
 * merged; returns how many cells remain. */
static size_t bucket(const struct profile *p, const uint32_t *node_of, uint64_t slice_ns, uint32_t nslices,
		     struct cell *v)
{
	size_t n = 0;
	for (size_t i = 0; i < p->ntsamples; i++) {
		const struct fa_tsample *s = &p->tsamples[i];
		if (s->tstack >= p->ntstacks)
			continue;
		const struct fa_thread_stack *ts = &p->tstacks[s->tstack];
		if (ts->stack >= p->nstacks || ts->thread >= p->nthreads)
			continue;
		uint64_t k = s->time_ns / slice_ns;
		v[n++] = (struct cell){ts->thread, (uint32_t)(k < nslices ? k : nslices - 1),
				       (int32_t)node_of[ts->stack] - 1, s->weight};
	}
	qsort(v, n, sizeof(*v), cell_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && !cell_cmp(&v[m - 1], &v[i]))
			v[m - 1].w += v[i].w;
		else
			v[m++] = v[i];
	}
	return m;
}

int viewer_write_cpu_time(struct json *j, const struct profile *p, const uint32_t *node_of)
{
	if (!p->has_times || !p->ntsamples)
		return 0;
	uint64_t end = 0;
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].duration_ns > end)
			end = p->procs[i].duration_ns;
	for (size_t i = 0; i < p->ntsamples; i++)
		if (p->tsamples[i].time_ns > end)
			end = p->tsamples[i].time_ns;
	struct cell *v = malloc(p->ntsamples * sizeof(*v));
	if (!v)
		return -ENOMEM;
	uint32_t nslices = VIEWER_SLICES;
	uint64_t slice_ns;
	size_t n;
	for (;;) {
		slice_ns = end / nslices + 1;
		n = bucket(p, node_of, slice_ns, nslices, v);
		if (n <= VIEWER_CELLS || nslices <= 8)
			break;
		nslices /= 2;
	}
	json_object_begin(j, "cpu_time");
	json_uint(j, "slice_ns", slice_ns);
	json_uint(j, "slices", nslices);
	json_array_begin(j, "lanes");
	for (size_t i = 0; i < n;) {
		uint32_t t = v[i].thread;
		json_object_begin(j, NULL);
		json_uint(j, "thread", t);
		/* [slice step, count, (node step, weight) x count, ...]: slices
		 * from -1, nodes from -1 within each slice. */
		json_array_begin(j, "cells");
		int64_t prev_slice = -1;
		while (i < n && v[i].thread == t) {
			size_t k = i;
			while (k < n && v[k].thread == t && v[k].slice == v[i].slice)
				k++;
			json_int(j, NULL, (int64_t)v[i].slice - prev_slice);
			prev_slice = v[i].slice;
			json_uint(j, NULL, k - i);
			int64_t prev = -1;
			for (; i < k; i++) {
				json_int(j, NULL, (int64_t)v[i].node - prev);
				prev = v[i].node;
				json_int(j, NULL, v[i].w);
			}
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	free(v);
	return 0;
}

void viewer_write_mapped(struct json *j, const struct profile *p, uint32_t proc)
{
	if (!p->maps || !p->maps->recorded || !p->maps->recorded[proc])
		return;
	json_array_begin(j, "mapped");
	for (size_t i = 0; i < p->ntimeline; i++)
		if (p->timeline[i].proc == proc) {
			int64_t live[FD_MAP_NKINDS];
			maps_at(p->maps, proc, p->timeline[i].time_ns, live);
			json_int(j, NULL, maps_counted(live));
		}
	json_array_end(j);
}
