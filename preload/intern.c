/* The lock-free stack intern table (see intern.h). */
#include "intern.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t hash_frames(const uint64_t *f, unsigned n)
{
	uint64_t h = 0x243f6a8885a308d3ull ^ n;
	for (unsigned i = 0; i < n; i++) {
		h = (h ^ f[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

int intern_init(struct intern *in, size_t nslots, size_t arena_words)
{
	memset(in, 0, sizeof(*in));
	size_t bytes = nslots * sizeof(uint64_t) + arena_words * sizeof(uint64_t);
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	in->slots = m;
	in->nslots = nslots;
	in->arena = (uint64_t *)m + nslots;
	in->arena_words = arena_words;
	in->map_bytes = bytes;
	atomic_store(&in->next_id, 1);
	return 0;
}

void intern_destroy(struct intern *in)
{
	if (in->slots)
		munmap((void *)in->slots, in->map_bytes);
	memset(in, 0, sizeof(*in));
}

static int same(const uint64_t *e, const uint64_t *frames, unsigned n)
{
	if ((unsigned)(e[0] >> 32) != n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (e[1 + i] != frames[i])
			return 0;
	return 1;
}

uint32_t intern_stack(struct intern *in, const uint64_t *frames, unsigned n, int *is_new)
{
	uint64_t h = hash_frames(frames, n);
	uint64_t tag = (h >> 32) | 1; /* never 0, so a used slot is never 0 */
	size_t mask = in->nslots - 1;
	size_t i = (size_t)h & mask;
	size_t mine = 0; /* arena offset of our prepared entry, 0 = none yet */
	*is_new = 0;
	for (size_t probes = 0; probes < in->nslots; probes++, i = (i + 1) & mask) {
		uint64_t s = atomic_load_explicit(&in->slots[i], memory_order_acquire);
		while (s == 0) {
			if (!mine) {
				/* Keep the table at most 3/4 full, so probes stay short. */
				if (atomic_load_explicit(&in->count, memory_order_relaxed) >= in->nslots / 4 * 3)
					return 0;
				size_t off = atomic_fetch_add(&in->arena_used, n + 1);
				if (off + n + 1 > in->arena_words || off + 1 > UINT32_MAX)
					return 0;
				uint32_t id = atomic_fetch_add(&in->next_id, 1);
				in->arena[off] = id | (uint64_t)n << 32;
				memcpy(&in->arena[off + 1], frames, n * sizeof(uint64_t));
				/* Offset 0 is a valid arena offset; store off + 1. */
				mine = off + 1;
			}
			uint64_t want = tag << 32 | mine;
			if (atomic_compare_exchange_strong_explicit(&in->slots[i], &s, want, memory_order_acq_rel,
								    memory_order_acquire)) {
				atomic_fetch_add_explicit(&in->count, 1, memory_order_relaxed);
				*is_new = 1;
				return (uint32_t)in->arena[mine - 1];
			}
			/* Lost the race: s now holds the winner's entry; examine it. */
		}
		if ((s >> 32) == tag) {
			const uint64_t *e = &in->arena[(s & 0xffffffffu) - 1];
			if (same(e, frames, n))
				return (uint32_t)e[0];
		}
	}
	return 0;
}

const uint64_t *intern_frames(struct intern *in, uint32_t id, unsigned *n)
{
	for (size_t i = 0; i < in->nslots; i++) {
		uint64_t s = atomic_load(&in->slots[i]);
		if (!s)
			continue;
		const uint64_t *e = &in->arena[(s & 0xffffffffu) - 1];
		if ((uint32_t)e[0] == id) {
			*n = (unsigned)(e[0] >> 32);
			return e + 1;
		}
	}
	return NULL;
}
