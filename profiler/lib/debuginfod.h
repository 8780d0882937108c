/* Fetching debug files and executables by build id from the debuginfod
 * servers named in DEBUGINFOD_URLS, through elfutils' client library
 * (libdebuginfod.so.1, opened at run time: no build dependency). */
#ifndef FATHOM_DEBUGINFOD_H
#define FATHOM_DEBUGINFOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbgd;

/* NULL when DEBUGINFOD_URLS is unset or empty, when `allowed` is false
 * (--no-debuginfod) or when the client library cannot be loaded (*why then
 * says so, once). `progress`: a progress line on stderr while downloading. */
struct dbgd *dbgd_new(bool allowed, bool progress, const char **why);
void dbgd_free(struct dbgd *d);

/* The path (malloc'd, in the client's cache) of the debug file (what: 'd')
 * or the executable ('e') with this build id, or NULL. `name` is the
 * module's name for the progress line and the summary. Queries stop after
 * the first failure that is not "not found" (an unreachable server): the
 * rest of the run goes on without them. */
char *dbgd_fetch(struct dbgd *d, char what, const uint8_t *build_id, size_t len, const char *name);

/* Counts a module that has no debug info after a query, for the summary. */
void dbgd_missed(struct dbgd *d, const char *name);

/* One line on what could not be found or fetched, or NULL when all was; the
 * string belongs to d. */
const char *dbgd_summary(struct dbgd *d);

#endif
