/* The live set of sampled mode: the addresses of the sampled blocks not
 * freed yet, so that free() records only those; lock-free, with a filter of
 * saturating counters in front that keeps most free() calls to one load.
 *
 * Context: every function may run inside malloc, on any thread, and is
 * async-signal-safe (mmap only); no locks.
 */
#ifndef FATHOM_SSET_H
#define FATHOM_SSET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Saturating counters of the live sampled blocks, by a hash of the address.
 * A counter at 255 has lost count and stays there. */
#define SSET_FILTER_BITS 15
extern _Atomic uint8_t sset_filter[1u << SSET_FILTER_BITS] __attribute__((visibility("hidden")));

static inline unsigned sset_filter_index(uintptr_t p)
{
	return (unsigned)((p * 0x9e3779b97f4a7c15ull) >> (64 - SSET_FILTER_BITS));
}

/* Whether p may be in the set: one load. */
static inline int sset_maybe(uintptr_t p)
{
	return atomic_load_explicit(&sset_filter[sset_filter_index(p)], memory_order_relaxed) != 0;
}

/* A pointer lives in one level of the set, within SSET_PROBES slots of its
 * place there (sset_remove looks no further). */
#define SSET_BITS0 13
#define SSET_LEVELS 8
#define SSET_PROBES 64

/* Maps the first level. Returns 0 or -ENOMEM. */
int sset_setup(void);
/* Adds p; returns 0 when no level has room near its place. */
int sset_insert(uintptr_t p);
/* Removes p; returns 0 when it was not in the set. */
int sset_remove(uintptr_t p);
/* The slot index of p in level k, for tests. */
size_t sset_index(uintptr_t p, unsigned k);

#endif
