/* A cache of separate debug files with their sections uncompressed, by build
 * id (debugcache.c): libdwfl's find_debuginfo callback with the cache first. */
#ifndef FATHOM_DEBUGCACHE_H
#define FATHOM_DEBUGCACHE_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

/* dwfl_standard_find_debuginfo, but a module whose build id has an
 * uncompressed copy in the cache gets that copy without a search, and a
 * debug file found with compressed sections is copied there uncompressed
 * (and that copy returned). */
int debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name);

/* The module's symbol-table answers that libdwfl had to search for
 * (dwfl_module_addrinfo scans every symbol: seconds for libLLVM), kept by
 * build id beside the debug copies (BUILD-ID.names, under the same cap) for
 * the next run. Keyed also by the symbol table's size (nsyms): a debug
 * file installed since brings more symbols and starts it afresh.
 * Addresses are the file's own (ELF virtual addresses). NULL when the
 * cache is off or the module has no build id; every call takes NULL. */
struct namecache;
struct namecache *namecache_open(const unsigned char *id, size_t len, long nsyms);
/* 1 with *name (NULL: no symbol) and *start when off is known. */
int namecache_get(const struct namecache *c, uint64_t off, const char **name, uint64_t *start);
void namecache_put(struct namecache *c, uint64_t off, const char *name, uint64_t start);
/* Saves what was put (if anything) and frees. */
void namecache_close(struct namecache *c);

#endif
