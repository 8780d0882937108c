/* Which distribution package or --debug-dir would give debug information to
 * the hot modules of a profile that have none (the report's footer). */
#ifndef FATHOM_DEBUG_HINT_H
#define FATHOM_DEBUG_HINT_H

#include <stddef.h>

#include "profile.h"

/* A module is hot when it holds at least this share of the CPU self weight. */
#define DEBUG_HINT_SHARE 0.02
#define DEBUG_HINT_MAX 5

struct debug_hint {
	uint32_t module;     /* index into p->modules (the first of its path and build id) */
	double share;	     /* of the CPU self weight, 0..1 */
	const char *problem; /* "no debug info", or the module's symbols_problem */
	char build_id[129];  /* hex, "" when the dump has none */
	char *package;	     /* the package that owns the module's file (dpkg), or NULL */
	char *debug_package; /* the package that would hold its debug file, or NULL */
};

/* The hot modules of p without debug information (or without their file),
 * heaviest first, at most DEBUG_HINT_MAX, under the thread filter tid (0:
 * all). The owning packages are asked of dpkg-query once, when it exists.
 * Returns how many were written into *out (malloc'd; free with
 * debug_hints_free), or -ENOMEM. */
int debug_hints(const struct profile *p, int tid, struct debug_hint **out);
void debug_hints_free(struct debug_hint *h, size_t n);

/* What would give the module its names and lines, in words: "install
 * libc6-dbg, or ...", into buf of n bytes; returns buf. */
const char *debug_hint_advice(const struct debug_hint *h, char *buf, size_t n);

#endif
