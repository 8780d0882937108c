/* Flame graphs and exports: the writers for SVG, folded stacks, pprof and
 * speedscope (the frame tree they draw is aggregate.h's). */
#ifndef FATHOM_OUTPUTS_H
#define FATHOM_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aggregate.h"
#include "profile.h"

/* What to draw or export. */
struct out_opts {
	int metric;	 /* enum fa_metric: the weight of flame graphs and folded stacks */
	bool metric_set; /* pprof/speedscope: the user chose one weight (default: all present) */
	int tid;	 /* 0: all threads; otherwise CPU weight of that thread only */
	/* --from/--to (flame graphs and folded stacks): CPU samples of the
	 * range [from_ns, to_ns) only (aggregate.h's agg_filter). */
	bool timed;
	uint64_t from_ns, to_ns;
	bool thread_labels;  /* pprof: CPU samples per thread, labelled with it */
	const char *title;   /* SVG title, or NULL for one made from the program's name */
	double min_width;    /* SVG: omit frames narrower than this fraction (0: 0.001) */
	int width;	     /* SVG width in pixels (0: 1200) */
	const char *version; /* "fathom 0.1.0", written into exports; may be NULL */
};

/* The call tree of folded_write and svg_write: p's stacks by o->metric under
 * o->tid, base's added as the comparison, sorted. 0, -ENOMEM, or -ENODATA
 * when nothing weighs (then t holds nothing). */
int out_flame_tree(struct flame_tree *t, const struct profile *p, const struct profile *base,
		   const struct out_opts *o);

/* Folded stacks, "root;...;leaf COUNT", one line per distinct path, sorted.
 * ';' and line breaks inside names are replaced. With base non-NULL, the
 * two-column form of flamegraph.pl's difffolded.pl, "root;...;leaf BASE NEW",
 * over the paths of both. Returns 0, -ENODATA when there is no weight, or -errno. */
int folded_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o);

/* The interactive SVG flame graph of p; with base non-NULL, a differential one
 * of p coloured by each frame's change in share against base. Returns 0 or
 * -errno; *omitted gets the number of frames left out as too narrow. */
int svg_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o,
	      size_t *omitted);

/* gzip-compressed profile.proto, one sample type per metric present (or only
 * the chosen one); with o->thread_labels, CPU comes one sample per thread and
 * stack, labelled thread=NAME and tid=N. Returns 0, -ENODATA when p has no
 * weight, or -errno. */
int pprof_write(FILE *f, const struct profile *p, const struct out_opts *o);
/* The uncompressed profile.proto, for tests: *buf is malloc'd. */
int pprof_encode(const struct profile *p, const struct out_opts *o, uint8_t **buf, size_t *len);

/* speedscope's JSON file format: one sampled profile per metric present (or
 * only the chosen one), and one per thread for CPU when there are several.
 * Returns 0, -ENODATA when p has no weight, or -errno. */
int speedscope_write(FILE *f, const struct profile *p, const struct out_opts *o);

/* Flushes f and returns 0, or the error of the write that failed (-ENOSPC
 * for a full disk; -EIO when that errno is gone). */
int out_flush(FILE *f);

#endif
