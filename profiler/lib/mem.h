/* fathom mem's figures from a profile: the allocation sites, the stacks
 * heaviest in a metric, each process's peaks and allocation calls, and the
 * whole mem report as JSON (mem-sites.c, json-mem.c). */
#ifndef FATHOM_MEM_H
#define FATHOM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "site.h"
#include "util.h"

/* One allocation site: a frame (function and line), its stacks' memory
 * weights. */
struct mem_site {
	uint32_t func, line;
	int64_t w[FA_NMETRICS];
	uint32_t stack; /* its heaviest stack by the `heavy` metric, shown with it */
	int64_t stack_w;
};

/* The allocation sites of p: the stacks' memory weights by site frame (by
 * `rule`), each with its heaviest stack in metric `heavy`, from the
 * aggregation layer. *sites is malloc'ed (never NULL on success); -ENOMEM
 * when out of memory. */
int mem_sites_build(const struct profile *p, enum site_rule rule, int heavy, struct mem_site **sites,
		    size_t *nsites);

/* Orders the sites by metric, heaviest first (then by bytes, by name, by line). */
void mem_sites_sort(const struct profile *p, struct mem_site *sites, size_t nsites, int metric);

/* The stacks with weight in metric (of process proc, or all with FA_NONE),
 * heaviest first, malloc'ed (their number in *n); NULL when out of memory. */
uint32_t *mem_stacks_by(const struct profile *p, int metric, uint32_t proc, size_t *n);

/* The frames of a stack (malloc'ed, *n of them; fr[0] is a "[no stack]"
 * frame when it has none) and in *at the index of its site, the frame that
 * holds its memory in every table (aggregate.h); NULL when out of memory. */
struct fa_frame *mem_stack_site(const struct profile *p, uint32_t stack, enum site_rule rule, size_t *n,
				size_t *at);

/* The largest RSS of process proc in the timeline; its largest heap in *heap
 * when not NULL (the exact peak for the process that holds the overall one). */
int64_t mem_proc_peaks(const struct profile *p, uint32_t proc, int64_t *heap);

/* The allocation calls of process proc (the sum over its stacks). */
int64_t mem_proc_calls(const struct profile *p, uint32_t proc);

/* Which processes a summary lists: all of them, or in a run with more than
 * `max` (a shell script's hundreds): the first, the one with the peak,
 * damaged ones and the busiest allocators. Returns the flags (NULL when out
 * of memory: then list all), with how many are listed and the allocation
 * calls of the others. */
bool *mem_pick_procs(const struct profile *p, size_t max, size_t *nlisted, int64_t *rest_calls);

/* What `fathom mem --json` writes (docs/json-schema/mem.json). */
struct mem_json {
	const struct profile *p;
	struct mem_site *sites; /* mem_sites_build's; reordered by `sort` */
	size_t nsites;
	enum site_rule rule;
	int sort;	    /* the order of the sites: a metric */
	size_t top;	    /* how many sites and stacks each list holds; 0: all */
	size_t site_frames; /* frames shown under each site */
};

/* The mem report as one JSON object (no newline after it). */
void json_mem(struct json *j, const struct mem_json *o);

#endif
