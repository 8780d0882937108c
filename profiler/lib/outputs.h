/* Flame graphs and exports: the frame tree that flame graphs and folded stacks
 * are drawn from, and the writers for SVG, folded stacks, pprof and speedscope. */
#ifndef FATHOM_OUTPUTS_H
#define FATHOM_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"

/* What to draw or export. */
struct out_opts {
	int metric;	     /* enum fa_metric: the weight of flame graphs and folded stacks */
	bool metric_set;     /* pprof/speedscope: the user chose one weight (default: all present) */
	int tid;	     /* 0: all threads; otherwise CPU weight of that thread only */
	bool thread_labels;  /* pprof: CPU samples per thread, labelled with it */
	const char *title;   /* SVG title, or NULL for one made from the program's name */
	double min_width;    /* SVG: omit frames narrower than this fraction (0: 0.001) */
	int width;	     /* SVG width in pixels (0: 1200) */
	const char *version; /* "fathom 0.1.0", written into exports; may be NULL */
};

/* A node of the frame tree: one function name along one path from the root.
 * Functions with the same name on the same path are merged; inlined frames
 * are nodes of their own. */
struct flame_node {
	uint32_t name;	      /* index into flame_tree.names */
	uint32_t parent;      /* node index; the root's is FA_NONE */
	uint32_t child, next; /* first child, next sibling (FA_NONE ends) */
	uint32_t depth;	      /* 0 for the root ("all") */
	uint32_t func;	     /* a function of that name seen here (the heaviest path), FA_NONE for the root */
	uint32_t line;	     /* its line on the heaviest path into this node, 0 if unknown */
	int64_t total, self; /* weight of this profile */
	int64_t base_total, base_self; /* weight of the base profile (differential graphs) */
	int64_t line_w;		       /* weight of the stack that set line */
};

/* The tree points into the profiles' strings: free it before them. */
struct flame_tree {
	struct flame_node *nodes; /* nodes[0] is the root */
	size_t nnodes, cap;
	const char **names; /* interned function names (pointers into the profiles) */
	size_t nnames, names_cap;
	int64_t total, base_total;
	/* (parent, name) -> node, and name -> index: open addressing. */
	uint32_t *child_hash;
	size_t child_mask;
	uint32_t *name_hash;
	size_t name_mask;
	bool sorted;
};

/* Builds the tree of p weighted by o->metric (o->tid: CPU of one thread only).
 * Returns 0 or -ENOMEM; with no weight at all the tree has only its root. */
int flame_build(struct flame_tree *t, const struct profile *p, const struct out_opts *o);
/* Adds base as the comparison profile of a differential graph. Call once,
 * after flame_build. Returns 0 or -ENOMEM. */
int flame_add_base(struct flame_tree *t, const struct profile *base, const struct out_opts *o);
/* Orders every node's children by name (flame graphs and folded stacks are
 * drawn in that order, so that the output does not depend on input order). */
void flame_sort(struct flame_tree *t);
void flame_free(struct flame_tree *t);

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

/* Which metrics p has any weight in. */
bool out_has_metric(const struct profile *p, int metric);

#endif
