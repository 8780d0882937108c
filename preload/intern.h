/* The stack intern table: maps a stack (a list of addresses) to a small id,
 * lock-free, so that an event names its stack with a few bytes.
 *
 * A chain of open-addressing tables ("levels"), each one mmap'd with its
 * arena of stacks when the one before fills, and twice its size: a program
 * with few stacks pays for a small table, one with many gets room as it
 * goes, with no lock and no copying (a signal handler may be inserting).
 * A slot is published with a single compare-and-swap once the stack it
 * points to is complete in the arena, so a reader never sees a half-made
 * entry.
 *
 * A lookup tries the newest level first. A stack found in an older level
 * gets a second slot in the newest one (a forward: the same tag, pointing
 * at the entry in the older level's arena), so that a stack in use is
 * found at the first level it tries, whichever level it was made in: on
 * cc1 -O2 the lookups tried 2.8 levels and 5.8 slots on average before
 * (oldest first, most stacks in the third level), each slot a likely
 * cache miss.
 */
#ifndef FATHOM_INTERN_H
#define FATHOM_INTERN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define INTERN_MAX_LEVELS 12

struct intern_level {
	_Atomic uint64_t *slots;
	size_t nslots; /* power of two */
	uint64_t *arena;
	size_t arena_words;
	_Atomic size_t arena_used;
	_Atomic size_t count; /* stacks made here */
	_Atomic size_t used;  /* slots taken: those stacks and the forwards */
	_Atomic int full;     /* no more insertions here (half its slots, or its arena, used) */
	size_t map_bytes;
};

struct intern {
	struct intern_level *_Atomic level[INTERN_MAX_LEVELS];
	size_t nslots, arena_words; /* level 0's; level k has 2^k times as many */
	unsigned max_levels;
	_Atomic uint32_t next_id;
};

/* Maps the first level (nslots slots, arena_words words of stacks); up to
 * `levels` levels (at most INTERN_MAX_LEVELS) are added as they fill.
 * Returns 0 or -errno. Not async-signal-safe. */
int intern_init(struct intern *in, size_t nslots, size_t arena_words, unsigned levels);
void intern_destroy(struct intern *in);

/* Returns the id (1, 2, ...) of the stack frames[0..n), and sets *is_new when
 * this call created it (its caller must then publish the stack's addresses).
 * Returns 0 when every level is full or a new one cannot be mapped. Each id
 * names one stack; a lost insertion race can leave an id unused, and a race
 * with a new level can give one stack two ids.
 * Context: any thread, async-signal-safe (mmap only), inside malloc;
 * lock-free. */
uint32_t intern_stack(struct intern *in, const uint64_t *frames, unsigned n, int *is_new);

/* intern_stack in two parts, for a caller with other work to do while the
 * slot the lookup starts at comes from memory (on cc1 the slot load was 70%
 * of the lookup's time, a cache miss): the stack's hash, a prefetch of that
 * slot in the newest level, then the lookup with that hash. Same context. */
uint64_t intern_hash(const uint64_t *frames, unsigned n);
void intern_prefetch(struct intern *in, uint64_t h);
uint32_t intern_stack_hashed(struct intern *in, const uint64_t *frames, unsigned n, uint64_t h, int *is_new);

/* Not less than the number of stacks anyone can find in the table: equal
 * when no insertion is under way. Context: any thread, lock-free. */
size_t intern_count(struct intern *in);

/* Calls fn for each stack in the table (each id once) until fn returns
 * nonzero, which it returns. Visits every slot: not fast.
 * Context: any thread, lock-free (insertions may go on meanwhile). */
int intern_each(struct intern *in, int (*fn)(void *arg, uint32_t id, const uint64_t *frames, unsigned n),
		void *arg);

/* The frames of a stack id, for tests; NULL if unknown. Not fast. */
const uint64_t *intern_frames(struct intern *in, uint32_t id, unsigned *n);

/* Bytes mapped by the table now. */
size_t intern_mapped(struct intern *in);

#endif
