/* The live set of sampled mode (see sset.h). */
#include "sset.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

_Atomic uint8_t sset_filter[1u << SSET_FILTER_BITS];

/* Open-addressing sets with tombstones. The set starts at 8192 slots
 * (64 KB); when a pointer finds no free slot near its place in any level,
 * a level twice as large is mapped after the last (up to 1M slots), so that
 * the set costs what the program's live sampled blocks need. A slot goes
 * from empty to a pointer, from a pointer to a tombstone and from a
 * tombstone to a pointer, never back to empty: a pointer's place is always
 * before the first empty slot after it. */
#define SSET_TOMB ((uintptr_t)1)
/* A unit test that includes this file defines it to take the slot about to
 * be claimed, as another thread would (offset: the slot's distance from the
 * pointer's place). */
#ifndef SSET_RACE_HOOK
#define SSET_RACE_HOOK(slot, offset) ((void)0)
#endif
static _Atomic uintptr_t *_Atomic sset[SSET_LEVELS];

size_t sset_index(uintptr_t p, unsigned k)
{
	return (size_t)(((p >> 4) * 0xbf58476d1ce4e5b9ull) >> (64 - (SSET_BITS0 + k)));
}

static size_t sset_bytes(unsigned k)
{
	return sizeof(uintptr_t) << (SSET_BITS0 + k);
}

/* Level k, mapped on first use. Context: malloc, async-signal-safe. */
static _Atomic uintptr_t *sset_level(unsigned k)
{
	_Atomic uintptr_t *l = atomic_load_explicit(&sset[k], memory_order_acquire);
	if (l)
		return l;
	void *m = mmap(NULL, sset_bytes(k), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	_Atomic uintptr_t *expect = NULL;
	if (atomic_compare_exchange_strong(&sset[k], &expect, (_Atomic uintptr_t *)m))
		return m;
	munmap(m, sset_bytes(k)); /* another thread mapped it first */
	return expect;
}

int sset_setup(void)
{
	return sset_level(0) ? 0 : -ENOMEM;
}

int sset_insert(uintptr_t p)
{
	for (unsigned k = 0; k < SSET_LEVELS; k++) {
		_Atomic uintptr_t *set = sset_level(k);
		if (!set)
			return 0;
		size_t mask = ((size_t)1 << (SSET_BITS0 + k)) - 1, i = sset_index(p, k);
		for (int probe = 0; probe < SSET_PROBES; probe++, i = (i + 1) & mask) {
			uintptr_t s = atomic_load_explicit(&set[i], memory_order_relaxed);
			/* A slot taken by another thread under us is looked at
			 * again (it may be a tombstone once more), never
			 * skipped: a pointer must stay within SSET_PROBES
			 * slots of its place, where sset_remove looks. */
			while (s == 0 || s == SSET_TOMB) {
				SSET_RACE_HOOK(&set[i], (i - sset_index(p, k)) & mask);
				if (atomic_compare_exchange_strong(&set[i], &s, p)) {
					_Atomic uint8_t *f = &sset_filter[sset_filter_index(p)];
					uint8_t v = atomic_load_explicit(f, memory_order_relaxed);
					while (v != 255 &&
					       !atomic_compare_exchange_weak(f, &v, (uint8_t)(v + 1)))
						;
					return 1;
				}
			}
		}
	}
	return 0;
}

int sset_remove(uintptr_t p)
{
	for (unsigned k = 0; k < SSET_LEVELS; k++) {
		_Atomic uintptr_t *set = atomic_load_explicit(&sset[k], memory_order_acquire);
		if (!set)
			return 0;
		size_t mask = ((size_t)1 << (SSET_BITS0 + k)) - 1, i = sset_index(p, k);
		for (int probe = 0; probe < SSET_PROBES; probe++, i = (i + 1) & mask) {
			uintptr_t s = atomic_load_explicit(&set[i], memory_order_relaxed);
			if (s == 0)
				break; /* not in this level */
			if (s != p)
				continue;
			if (!atomic_compare_exchange_strong(&set[i], &s, SSET_TOMB))
				return 0;
			_Atomic uint8_t *f = &sset_filter[sset_filter_index(p)];
			uint8_t v = atomic_load_explicit(f, memory_order_relaxed);
			/* A saturated counter stays saturated: it lost count. */
			while (v != 255 && v != 0 && !atomic_compare_exchange_weak(f, &v, (uint8_t)(v - 1)))
				;
			return 1;
		}
	}
	return 0;
}
