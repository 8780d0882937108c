/* Symbols saved in a dump by `fathom record --symbolize`/`--pack` and `fathom
 * pack`: the names, files and lines (inline chains) of every address a
 * recording's stacks use, looked up while the recorded binaries still exist,
 * keyed by build id, with each module's facts and optionally the source
 * files; written into the dump as symbols chunks, and read back instead of
 * the binaries. */
#ifndef FATHOM_SYMCACHE_H
#define FATHOM_SYMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols.h"

struct symcache;

struct symcache *symcache_new(void);
void symcache_free(struct symcache *c);

/* Keeps the n frames symbols_lookup() gave for `vaddr` (an ELF virtual
 * address) of the module file (path, build id); the strings are copied.
 * Returns 0 or -ENOMEM. */
int symcache_add(struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len,
		 uint64_t vaddr, const struct sym_frame *f, int n);

/* The index of the module in c (by build id; by path when it has none), or
 * -1 when c holds no symbols for it. */
int symcache_module(const struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len);

/* Since 1.5: the facts of a module whose file was opened: why it gave no
 * names (problem, NULL when it did), its modification time (built_ns, 0
 * unknown) and whether it had no debug information (names from its symbol
 * table only), so that an analysis without the file says the same. Adds
 * the module when new; the first facts given stay. Returns 0 or -ENOMEM. */
int symcache_set_module(struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len,
			const char *problem, int64_t built_ns, bool no_debuginfo);
/* The facts of module `mi` (strings owned by c); false when c has none
 * (an older dump, or symbols saved before 1.5). */
bool symcache_module_facts(const struct symcache *c, int mi, const char **problem, int64_t *built_ns,
			   bool *no_debuginfo);

/* Since 1.5: embeds a source file (text of len bytes, at most 8 MiB;
 * larger ones are not kept) under the path the recording names. A path
 * already held keeps its first text. Returns 0 or -ENOMEM. */
int symcache_add_source(struct symcache *c, const char *path, const char *text, size_t len, int64_t mtime_ns);
/* The source embedded for `path` (text NUL-terminated, owned by c). */
bool symcache_source(const struct symcache *c, const char *path, const char **text, size_t *len,
		     int64_t *mtime_ns);
size_t symcache_nsources(const struct symcache *c);

/* The frames kept for vaddr of module `mi`, as symbols_lookup() gave them
 * (strings owned by c); returns how many, 0 when none were kept. */
int symcache_lookup(const struct symcache *c, int mi, uint64_t vaddr, struct sym_frame *out, int max);

/* How many addresses c holds; how many modules. */
size_t symcache_size(const struct symcache *c);
size_t symcache_nmodules(const struct symcache *c);

/* Adds the symbols of one decoded symbols chunk (FD_CHUNK_SYMBOLS). Returns
 * 0, -ENOMEM, or -EINVAL when the payload is malformed (what came before the
 * damage is kept). */
int symcache_decode(struct symcache *c, const uint8_t *p, size_t len);

/* Appends c to the dump at `path` as symbols chunks numbered after its last
 * chunk. The dump must be complete (its process ended). Returns 0, or -errno
 * with *err set to a message naming the file. */
int symcache_append(const struct symcache *c, const char *path, char **err);

/* Writes c as symbols chunks at the end of fd, numbered from *seq (which is
 * moved on). Returns 0 or -errno. */
int symcache_write(const struct symcache *c, int fd, uint32_t *seq);

/* `fathom record --symbolize`/`--pack`: loads the dumps of one run, looks
 * up every address their stacks use in the module files (which the run
 * just used), and appends the symbols (and with `sources` the source files
 * they name, pack.h) to each dump whose process has ended. *saved counts
 * the dumps written. Returns 0, or -errno with *err set. */
int symcache_save(char *const *paths, size_t npaths, bool sources, size_t *saved, char **err);

#endif
