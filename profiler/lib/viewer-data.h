/* The interactive viewer's data: one or two profiles as the JSON that
 * viewer/viewer.js reads (the schema is in viewer/README.md). */
#ifndef FATHOM_VIEWER_DATA_H
#define FATHOM_VIEWER_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "profile.h"

struct source_opts;

struct viewer_opts {
	const char *title;     /* the page title; NULL for one made from the program */
	const char *generator; /* "fathom 0.1.0" */
	bool diff;	       /* profiles[0] is the base, profiles[1] the new run */
	bool pretty;	       /* indented JSON (for people reading --data-only) */
	/* Per-line figures always; the source text of their files unless
	 * no_source, up to source_cap bytes in all, found with `sources`
	 * (--source-dir, --prefix-map; NULL: where the recording says). */
	bool no_source;
	size_t source_cap;
	const struct source_opts *sources;
};

/* The default source_cap: 2 MiB of source text in a page. */
#define VIEWER_SOURCE_CAP ((size_t)2 << 20)

struct json;
/* Writes a profile's "lines" (per metric in order[0..norder) present in
 * metrics, [step, line, self, total, ...] by function and line) and, unless
 * o->no_source, its "sources" (viewer-lines.c). Returns 0 or -ENOMEM. */
int viewer_write_lines(struct json *j, const struct profile *p, uint32_t metrics, const int *order,
		       size_t norder, const struct viewer_opts *o);

/* Writes a profile's "waits" (viewer-wait.c) when it recorded waits.
 * Returns 0 or -ENOMEM. */
int viewer_write_waits(struct json *j, const struct profile *p);

/* Writes a profile's "cpu_time" (viewer-time.c): each thread's CPU samples
 * by slice of the run and call-tree node (node_of: each stack's node, as
 * flame_build_by_func makes it); nothing for a profile loaded without
 * keep_times. Returns 0 or -ENOMEM. */
int viewer_write_cpu_time(struct json *j, const struct profile *p, const uint32_t *node_of);

/* Writes "mapped" of a timeline entry: the bytes process proc had mapped
 * (maps.h's counted kinds) at each of its timeline points; nothing when it
 * recorded no mappings. */
void viewer_write_mapped(struct json *j, const struct profile *p, uint32_t proc);

/* Writes the viewer data of n profiles (1, or 2 with o->diff) to f.
 * Returns 0, -ENOMEM, or -EIO when f reports a write error. */
int viewer_data_write(FILE *f, const struct profile *const *profiles, size_t n, const struct viewer_opts *o);

/* The default page title for p: "fathom: app (pid 1234)", into buf. */
const char *viewer_default_title(char *buf, size_t len, const struct profile *p);

#endif
