/* The stack intern table: maps a stack (a list of addresses) to a small id,
 * lock-free, so that an event names its stack with a few bytes.
 *
 * Open addressing over one preallocated (mmap'd) array of 64-bit slots; a
 * slot is published with a single compare-and-swap once the stack it points
 * to is complete in the arena, so a reader never sees a half-made entry.
 */
#ifndef FATHOM_INTERN_H
#define FATHOM_INTERN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct intern {
	_Atomic uint64_t *slots;
	size_t nslots; /* power of two */
	uint64_t *arena;
	size_t arena_words;
	_Atomic size_t arena_used;
	_Atomic uint32_t next_id;
	_Atomic size_t count;
	size_t map_bytes;
};

/* Maps the table; returns 0 or -errno. Not async-signal-safe. */
int intern_init(struct intern *in, size_t nslots, size_t arena_words);
void intern_destroy(struct intern *in);

/* Returns the id (1, 2, ...) of the stack frames[0..n), and sets *is_new when
 * this call created it (its caller must then publish the stack's addresses).
 * Returns 0 when the table is full. Ids are unique; a lost insertion race
 * can leave an id unused.
 * Context: any thread, async-signal-safe, inside malloc; lock-free. */
uint32_t intern_stack(struct intern *in, const uint64_t *frames, unsigned n, int *is_new);

/* The frames of a stack id, for tests; NULL if unknown. Not fast. */
const uint64_t *intern_frames(struct intern *in, uint32_t id, unsigned *n);

#endif
