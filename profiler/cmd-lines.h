/* What the two halves of fathom lines share: cmd-lines.c chooses the
 * functions and gathers their lines, cmd-lines-out.c prints them as text or
 * JSON. */
#ifndef FATHOM_CMD_LINES_H
#define FATHOM_CMD_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"
#include "profile.h"
#include "source.h"

/* A source file the output names, read once. */
struct lines_src {
	struct source_file sf;
	int rc;	       /* source_open's result: 0 found, -ENOENT missing */
	char *changed; /* why it looks changed since the build, or NULL */
	uint32_t max_line;
};

/* One function to print. */
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
	const struct profile *p;
	struct source_opts so;
	int top, context;
	int tid; /* --tid: this thread's CPU only; 0: every thread */
	bool json, color, full_names, no_symbols;
	uint32_t metrics; /* AGG_METRIC bits present */
	struct agg_table fn, fr, in;
	struct lines_func *funcs;
	size_t nfuncs, more; /* more: functions matched beyond --top */
	struct lines_src *srcs;
	size_t nsrcs;
	char **warnings;
	size_t nwarnings;
};

/* The figure of row r that a column shows: CPU self and total, memory as
 * the line's total (what it allocated, itself or through its calls). */
bool lines_row_has(const struct lines *l, const struct agg_row *r);

/* The source of `file` (recorded path), opened once; its index into
 * l->srcs, FA_NONE when out of memory. max_line: a line the recording
 * holds in it, for the changed-source check. */
uint32_t lines_source(struct lines *l, const char *file, uint32_t max_line);

void lines_print_text(struct lines *l);
void lines_print_json(struct lines *l);

#endif
