/* Symbols saved in a dump by `fathom record --symbolize`: the names, files and
 * lines of every address a recording's stacks use, looked up at the end of
 * the run while the recorded binaries still exist, written into the dump as
 * a symbols chunk, and read back instead of the binaries. */
#ifndef FATHOM_SYMCACHE_H
#define FATHOM_SYMCACHE_H

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

/* The index of the module (path, build id) in c, or -1 when c holds no
 * symbols for it. */
int symcache_module(const struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len);

/* The frames kept for vaddr of module `mi`, as symbols_lookup() gave them
 * (strings owned by c); returns how many, 0 when none were kept. */
int symcache_lookup(const struct symcache *c, int mi, uint64_t vaddr, struct sym_frame *out, int max);

/* How many addresses c holds. */
size_t symcache_size(const struct symcache *c);

/* Adds the symbols of one decoded symbols chunk (FD_CHUNK_SYMBOLS). Returns
 * 0, -ENOMEM, or -EINVAL when the payload is malformed (what came before the
 * damage is kept). */
int symcache_decode(struct symcache *c, const uint8_t *p, size_t len);

/* Appends c to the dump at `path` as symbols chunks numbered after its last
 * chunk. The dump must be complete (its process ended). Returns 0, or -errno
 * with *err set to a message naming the file. */
int symcache_append(const struct symcache *c, const char *path, char **err);

/* `fathom record --symbolize`: loads the dumps of one run, looks up every
 * address their stacks use in the module files (which the run just used),
 * and appends the symbols to each dump whose process has ended. *saved
 * counts the dumps written. Returns 0, or -errno with *err set. */
int symcache_save(char *const *paths, size_t npaths, size_t *saved, char **err);

#endif
