/* A cache of separate debug files with their sections uncompressed, by build
 * id (debugcache.c): libdwfl's find_debuginfo callback with the cache first. */
#ifndef FATHOM_DEBUGCACHE_H
#define FATHOM_DEBUGCACHE_H

#include <elfutils/libdwfl.h>

/* dwfl_standard_find_debuginfo, but a module whose build id has an
 * uncompressed copy in the cache gets that copy without a search, and a
 * debug file found with compressed sections is copied there uncompressed
 * (and that copy returned). */
int debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name);

#endif
