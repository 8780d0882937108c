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

/* Maps level k: its header, slots and arena in one mapping.
 * Context: async-signal-safe. */
static struct intern_level *level_map(struct intern *in, unsigned k)
{
	size_t nslots = in->nslots << k, words = in->arena_words << k;
	size_t head = (sizeof(struct intern_level) + 63) & ~(size_t)63;
	size_t bytes = head + nslots * sizeof(uint64_t) + words * sizeof(uint64_t);
	/* MAP_NORESERVE: the arena is touched only as stacks arrive. */
	void *m =
	    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct intern_level *l = m;
	l->slots = (_Atomic uint64_t *)((char *)m + head);
	l->nslots = nslots;
	l->arena = (uint64_t *)(l->slots + nslots);
	l->arena_words = words;
	l->map_bytes = bytes;
	return l;
}

int intern_init(struct intern *in, size_t nslots, size_t arena_words, unsigned levels)
{
	memset(in, 0, sizeof(*in));
	in->nslots = nslots;
	in->arena_words = arena_words;
	in->max_levels = levels < 1 ? 1 : levels > INTERN_MAX_LEVELS ? INTERN_MAX_LEVELS : levels;
	struct intern_level *l = level_map(in, 0);
	if (!l)
		return -errno;
	atomic_store(&in->level[0], l);
	atomic_store(&in->next_id, 1);
	return 0;
}

void intern_destroy(struct intern *in)
{
	for (unsigned k = 0; k < INTERN_MAX_LEVELS; k++) {
		struct intern_level *l = atomic_load(&in->level[k]);
		if (l)
			munmap(l, l->map_bytes);
	}
	memset(in, 0, sizeof(*in));
}

size_t intern_mapped(struct intern *in)
{
	size_t n = 0;
	for (unsigned k = 0; k < INTERN_MAX_LEVELS; k++) {
		struct intern_level *l = atomic_load(&in->level[k]);
		if (l)
			n += l->map_bytes;
	}
	return n;
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

/* Looks the stack up in level l; with insert, claims a slot for it when it
 * is not there. Returns its id, 0 when absent (or, with insert, when the
 * level is full: the caller tries the next one). */
static uint32_t level_find(struct intern *in, struct intern_level *l, uint64_t h, const uint64_t *frames,
			   unsigned n, int insert, int *is_new)
{
	uint64_t tag = (h >> 32) | 1; /* never 0, so a used slot is never 0 */
	size_t mask = l->nslots - 1;
	size_t i = (size_t)h & mask;
	size_t mine = 0; /* arena offset of our prepared entry, 0 = none yet */
	for (size_t probes = 0; probes < l->nslots; probes++, i = (i + 1) & mask) {
		uint64_t s = atomic_load_explicit(&l->slots[i], memory_order_acquire);
		while (s == 0) {
			if (!insert)
				return 0;
			if (!mine) {
				/* Half full at most, so that probes stay short: a
				 * lookup misses in every older level first. */
				if (atomic_load_explicit(&l->count, memory_order_relaxed) >= l->nslots / 2) {
					atomic_store_explicit(&l->full, 1, memory_order_relaxed);
					return 0;
				}
				size_t off = atomic_fetch_add(&l->arena_used, n + 1);
				if (off + n + 1 > l->arena_words || off + 1 > UINT32_MAX) {
					atomic_store_explicit(&l->full, 1, memory_order_relaxed);
					return 0;
				}
				uint32_t id = atomic_fetch_add(&in->next_id, 1);
				l->arena[off] = id | (uint64_t)n << 32;
				memcpy(&l->arena[off + 1], frames, n * sizeof(uint64_t));
				/* Offset 0 is a valid arena offset; store off + 1. */
				mine = off + 1;
			}
			uint64_t want = tag << 32 | mine;
			/* Counted before it is published, so that the count is
			 * never below the entries anyone can find (intern_count). */
			atomic_fetch_add_explicit(&l->count, 1, memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(
				&l->slots[i], &s, want, memory_order_acq_rel, memory_order_acquire)) {
				*is_new = 1;
				return (uint32_t)l->arena[mine - 1];
			}
			atomic_fetch_sub_explicit(&l->count, 1, memory_order_relaxed);
			/* Lost the race: s now holds the winner's entry; examine it. */
		}
		if ((s >> 32) == tag) {
			const uint64_t *e = &l->arena[(s & 0xffffffffu) - 1];
			if (same(e, frames, n))
				return (uint32_t)e[0];
		}
	}
	if (insert)
		atomic_store_explicit(&l->full, 1, memory_order_relaxed);
	return 0;
}

uint32_t intern_stack(struct intern *in, const uint64_t *frames, unsigned n, int *is_new)
{
	uint64_t h = hash_frames(frames, n);
	*is_new = 0;
	unsigned k = 0;
	struct intern_level *l;
	/* Older levels first: the stacks seen first are often the hottest. */
	for (; k < in->max_levels && (l = atomic_load_explicit(&in->level[k], memory_order_acquire)); k++) {
		int last =
		    k + 1 == in->max_levels || !atomic_load_explicit(&in->level[k + 1], memory_order_acquire);
		uint32_t id = level_find(in, l, h, frames, n, last && !atomic_load(&l->full), is_new);
		if (id)
			return id;
		if (!last)
			continue;
		/* Not found anywhere, and the newest level is full: add one. */
		if (k + 1 >= in->max_levels)
			return 0;
		struct intern_level *nl = level_map(in, k + 1), *expect = NULL;
		if (!nl)
			return 0;
		if (!atomic_compare_exchange_strong(&in->level[k + 1], &expect, nl))
			munmap(nl, nl->map_bytes); /* another thread added it */
	}
	return 0;
}

size_t intern_count(struct intern *in)
{
	size_t n = 0;
	for (unsigned k = 0; k < INTERN_MAX_LEVELS; k++) {
		struct intern_level *l = atomic_load_explicit(&in->level[k], memory_order_acquire);
		if (l)
			n += atomic_load_explicit(&l->count, memory_order_relaxed);
	}
	return n;
}

int intern_each(struct intern *in, int (*fn)(void *arg, uint32_t id, const uint64_t *frames, unsigned n),
		void *arg)
{
	for (unsigned k = 0; k < INTERN_MAX_LEVELS; k++) {
		struct intern_level *l = atomic_load_explicit(&in->level[k], memory_order_acquire);
		for (size_t i = 0; l && i < l->nslots; i++) {
			uint64_t s = atomic_load_explicit(&l->slots[i], memory_order_acquire);
			if (!s)
				continue;
			const uint64_t *e = &l->arena[(s & 0xffffffffu) - 1];
			int r = fn(arg, (uint32_t)e[0], e + 1, (unsigned)(e[0] >> 32));
			if (r)
				return r;
		}
	}
	return 0;
}

struct find_id {
	uint32_t id;
	unsigned n;
	const uint64_t *frames;
};

static int match_id(void *arg, uint32_t id, const uint64_t *frames, unsigned n)
{
	struct find_id *f = arg;
	if (id != f->id)
		return 0;
	f->frames = frames;
	f->n = n;
	return 1;
}

const uint64_t *intern_frames(struct intern *in, uint32_t id, unsigned *n)
{
	struct find_id f = {id, 0, NULL};
	intern_each(in, match_id, &f);
	*n = f.n;
	return f.frames;
}
