/* Portable dumps (`fathom pack`, `fathom record --pack`): a dump that carries
 * the names, lines and inline chains of exactly the addresses it holds,
 * keyed by build id, its modules' facts, and optionally its source files,
 * so that every command gives the same names and lines where none of the
 * binaries are. The symbols are symcache.c's (one mechanism with
 * record --symbolize); this file makes the packed files. */
#ifndef FATHOM_PACK_H
#define FATHOM_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "source.h"
#include "symcache.h"

struct pack_opts {
	bool sources;		      /* embed the source files the symbols name */
	const struct source_opts *so; /* where sources are looked for; may be NULL */
};

/* What one packed file holds. */
struct pack_file {
	char *in, *out;
	uint64_t dump_bytes;   /* the dump's own part: header and record chunks, as they were */
	uint64_t out_bytes;    /* the whole packed file */
	size_t addrs, modules; /* addresses named, modules described */
	size_t sources, source_bytes, sources_missing; /* with sources: embedded, their bytes, not found */
};

struct pack_result {
	struct pack_file *files;
	size_t n;
};

/* Embeds into c the source files that process `proc` of p names (its
 * functions' files, found as fathom lines finds them through so; files
 * over 8 MiB are left out). Counts into f (sources, source_bytes,
 * sources_missing). Returns 0 or -ENOMEM. */
int pack_sources(const struct profile *p, uint32_t proc, struct symcache *c, const struct source_opts *so,
		 struct pack_file *f);

/* fathom pack: writes one packed dump per process of p, which was loaded
 * with profile_opts.keep_symbols (and without python_view, so that every
 * address a stack holds was looked up): the first to `out`, the others to
 * OUT.PID (OUT.PID.GENERATION for an image after exec), as fathom record -o
 * names them. Each is a copy of its dump's chunks (symbols chunks it had
 * are replaced), then its symbols chunks. Returns 0, or -errno with *err a
 * message; res lists what was written. */
int pack_dumps(const struct profile *p, const char *out, const struct pack_opts *o, struct pack_result *res,
	       char **err);
void pack_result_free(struct pack_result *res);

#endif
