/* The line view of a profile (fathom lines): the functions to show (the
 * heaviest, or those a pattern or a source file names), the figures of
 * their lines, the code inlined into them and where they are inlined, and
 * their sources. The command prints it (cmd-lines-out.c). */
#ifndef FATHOM_LINES_H
#define FATHOM_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"
#include "profile.h"
#include "source.h"

/* A source file the view names, read once. */
struct lines_src {
	struct source_file sf;
	int rc;	       /* source_open's result: 0 found, -ENOENT missing */
	char *changed; /* why it looks changed since the build, or NULL */
	uint32_t max_line;
};

/* One function to show. */
struct lines_func {
	const struct agg_row *row; /* its row by function */
	uint32_t func;
	uint32_t src;		      /* index into lines.srcs, FA_NONE without a file */
	uint32_t first, last;	      /* the lines shown: the function's extent and every line with figures */
	uint32_t target;	      /* FILE:LINE: that line, else 0 */
	const struct agg_row **lines; /* its rows by frame, by line (line 0 first) */
	size_t nlines;
	const struct agg_row **inl; /* rows of code inlined into it, by call line, callee, line */
	size_t ninl;
	const struct agg_row **sites; /* rows of its own code inlined elsewhere (it is inlined) */
	size_t nsites;
};

struct lines {
	/* Set by the caller. */
	const struct profile *p;
	struct source_opts so; /* where sources are looked for; lines_free frees it */
	int top;	       /* functions shown at most; 0: every match */
	int tid;	       /* this thread's CPU only; 0: every thread */
	/* Built. */
	uint32_t metrics;	      /* AGG_METRIC bits present */
	struct agg_table fn, fr, in;  /* by function, by frame (function and line), inlined frames */
	const struct agg_row **heavy; /* the candidates, heaviest first */
	size_t nheavy;
	struct lines_func *funcs;
	size_t nfuncs, more; /* more: functions matched beyond top */
	struct lines_src *srcs;
	size_t nsrcs;
	char **warnings; /* changed sources, in words */
	size_t nwarnings;
	char **dirs; /* the dumps' directories: bases of relative recorded paths */
	size_t ndirs;
};

/* Builds the tables of l->p (every memory metric the recording has, with
 * CPU; CPU alone for one thread) and the candidates: with a pattern, every
 * function with figures; without, those with self CPU time (self bytes in
 * a recording without CPU samples). Relative recorded paths are tried
 * beside the dumps too. Returns 0, -ENOMEM, or -ENODATA when no function
 * has figures. */
int lines_build(struct lines *l, const char *pattern);

/* Chooses the functions to show: with pattern SOURCE[:LINE] the functions
 * of that file (the one around LINE), else those whose names match pattern
 * (an extended regular expression, or a plain string when it is none),
 * else the heaviest; at most l->top of them. Returns 0, -ENOMEM, or
 * -ENOENT when the pattern matches no function with figures. */
int lines_choose(struct lines *l, const char *pattern);

/* Gathers the lines of each chosen function, its inlined code, its sources
 * and the lines to show, and checks each source found against its build
 * (l->warnings). Returns 0 or -ENOMEM. */
int lines_gather(struct lines *l);

void lines_free(struct lines *l);

/* Whether row r has a figure in the view's metrics (or CPU samples). */
bool lines_row_has(const struct lines *l, const struct agg_row *r);

/* The source of `file` (recorded path), opened once; its index into
 * l->srcs, FA_NONE when out of memory. max_line: a line the recording
 * holds in it, for the changed-source check. */
uint32_t lines_source(struct lines *l, const char *file, uint32_t max_line);

#endif
