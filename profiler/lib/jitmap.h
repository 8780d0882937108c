/* JIT code's names (jitmap.c): the perf map a runtime wrote, as a dump's
 * PERFMAP records carry it, parsed into address ranges, later lines winning
 * over earlier ones for the same addresses (as perf reads the file). */
#ifndef FATHOM_JITMAP_H
#define FATHOM_JITMAP_H

#include <stdint.h>

#include "reader.h"

struct jitmap;

struct jitmap *jitmap_new(void);
void jitmap_free(struct jitmap *j);

/* Takes one PERFMAP record of the process `pid`. A FILE record ends the
 * lines before it and gives its warnings (pid reuse, lines that are not
 * "START SIZE NAME", a map recorded only in part) to warn, one line each;
 * TEXT records after it replace them (an exec that failed, then the end).
 * Returns 0 or -ENOMEM. */
int jitmap_record(struct jitmap *j, const struct rd_rec *r, int pid, void (*warn)(void *arg, const char *msg),
		  void *arg);

/* The name of the map's function that covers addr, or NULL. The string
 * lives as long as the map. */
const char *jitmap_lookup(struct jitmap *j, uint64_t addr);

/* How many addresses jitmap_lookup named, and how many ranges it has. */
uint64_t jitmap_named(const struct jitmap *j);
uint64_t jitmap_entries(const struct jitmap *j);

#endif
