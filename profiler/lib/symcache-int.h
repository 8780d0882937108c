/* What symcache.c (the symbols a dump carries, in memory, and their
 * decoding) and symcache-write.c (their encoding into symbols chunks) share:
 * the layout of the cache and the record kinds of a symbols chunk. */
#ifndef FATHOM_SYMCACHE_INT_H
#define FATHOM_SYMCACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symcache.h"

/* Record kinds inside a symbols chunk (their own namespace, not FD_REC_*).
 * SOURCE is since 1.5 (fathom pack --sources); older readers skip it. */
enum { SYM_STRING = 1, SYM_MODULE = 2, SYM_ADDR = 3, SYM_SOURCE = 4 };

/* A chunk is flushed when its raw payload passes this: well below
 * FD_CHUNK_MAX_RAW, and small enough that a damaged chunk loses little. */
#define CHUNK_TARGET (1u << 20)

/* The largest source file a pack embeds: one SOURCE record must fit in a
 * chunk (FD_CHUNK_MAX_RAW) with room to spare. */
#define SYMCACHE_SOURCE_MAX (8u << 20)

struct cframe {
	uint32_t name, file; /* string indices; 0 = none */
	int line, decl_line;
	uint64_t start;
};

struct centry {
	uint32_t module;
	uint64_t vaddr;
	uint32_t first, n; /* frames [first, first + n) */
};

struct cmodule {
	char *path;
	uint8_t build_id[64];
	size_t build_id_len;
	/* Since 1.5: the module's facts at the time the symbols were saved
	 * (symcache_set_module); `known` when they were given. */
	bool known;
	char *problem;	   /* why the file gave no names, or NULL */
	int64_t built_ns;  /* the file's modification time, 0 unknown */
	bool no_debuginfo; /* names from its symbol table only */
};

struct csource {
	char *path; /* as the recording names it */
	char *text;
	size_t len;
	int64_t mtime_ns;
};

struct symcache {
	char **strs; /* index 0 unused: "none" */
	size_t nstrs, capstrs;
	uint32_t *strmap; /* open addressing: string index, 0 = hole */
	size_t capstrmap;
	struct cmodule *mods;
	size_t nmods, capmods;
	struct cframe *frames;
	size_t nframes, capframes;
	struct centry *entries;
	size_t nentries, capentries;
	uint32_t *entmap; /* open addressing: entry index + 1, 0 = hole */
	size_t capentmap;
	struct csource *srcs;
	size_t nsrcs, capsrcs;
};

#endif
