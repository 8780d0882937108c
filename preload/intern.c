/* The lock-free stack intern table (see intern.h). */
#include "intern.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* The frames' products are independent of each other (each frame xor its
 * position, times an odd constant, summed), so that they overlap in the
 * pipeline: a chain of a multiply per frame cost ~6 cycles a frame, 1% of
 * cc1's time under the agent. The sum is then mixed. */
static uint64_t hash_frames(const uint64_t *f, unsigned n)
{
	uint64_t a = 0x243f6a8885a308d3ull ^ n, b = 0;
	unsigned i = 0;
	for (; i + 1 < n; i += 2) {
		a += (f[i] ^ (i * 0x632be59bd9b4e019ull)) * 0x9e3779b97f4a7c15ull;
		b += (f[i + 1] ^ ((i + 1) * 0x632be59bd9b4e019ull)) * 0xc2b2ae3d27d4eb4full;
	}
	if (i < n)
		a += (f[i] ^ (i * 0x632be59bd9b4e019ull)) * 0x9e3779b97f4a7c15ull;
	uint64_t h = a ^ (b >> 29) ^ (b << 35);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
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

/* A slot holds the tag (the hash's high half, never 0) and a reference to
 * the stack's entry: the level whose arena holds it, and its offset there
 * plus 1 (a slot is never 0). A reference to another level's arena is a
 * forward. */
#define REF_OFF_BITS 28
#define REF_OFF_MASK ((1u << REF_OFF_BITS) - 1)

static inline uint32_t make_ref(unsigned k, size_t off)
{
	return (uint32_t)k << REF_OFF_BITS | (uint32_t)(off + 1);
}

static inline const uint64_t *ref_entry(struct intern *in, uint32_t ref)
{
	struct intern_level *l = atomic_load_explicit(&in->level[ref >> REF_OFF_BITS], memory_order_acquire);
	return &l->arena[(ref & REF_OFF_MASK) - 1];
}

enum { LOOK, MAKE, FORWARD };

/* Looks the stack up in level k. With MAKE it claims a slot for a new entry
 * when the stack is not there, with FORWARD one for the reference fwd (the
 * stack's entry in an older level). Returns its id (and its reference in
 * *ref), or 0 when absent (with MAKE or FORWARD: when the level is full, and
 * the caller tries the next one). */
static uint32_t level_find(struct intern *in, unsigned k, uint64_t h, const uint64_t *frames, unsigned n,
			   int mode, uint32_t fwd, uint32_t *ref, int *is_new)
{
	struct intern_level *l = atomic_load_explicit(&in->level[k], memory_order_acquire);
	uint64_t tag = (h >> 32) | 1; /* never 0, so a used slot is never 0 */
	size_t mask = l->nslots - 1;
	size_t i = (size_t)h & mask;
	uint32_t mine = mode == FORWARD ? fwd : 0; /* the reference to publish, 0 = none yet */
	for (size_t probes = 0; probes < l->nslots; probes++, i = (i + 1) & mask) {
		uint64_t s = atomic_load_explicit(&l->slots[i], memory_order_acquire);
		while (s == 0) {
			if (mode == LOOK)
				return 0;
			/* Half full at most, so that probes stay short: a
			 * stack made in an older level misses here first.
			 * Forwards stop at three eighths, leaving room for new
			 * stacks. */
			if (atomic_load_explicit(&l->used, memory_order_relaxed) >=
			    (mode == FORWARD ? l->nslots / 8 * 3 : l->nslots / 2)) {
				if (mode == MAKE)
					atomic_store_explicit(&l->full, 1, memory_order_relaxed);
				return 0;
			}
			if (!mine) {
				size_t off = atomic_fetch_add(&l->arena_used, n + 1);
				if (off + n + 1 > l->arena_words || off + 1 > REF_OFF_MASK) {
					atomic_store_explicit(&l->full, 1, memory_order_relaxed);
					return 0;
				}
				uint32_t id = atomic_fetch_add(&in->next_id, 1);
				l->arena[off] = id | (uint64_t)n << 32;
				memcpy(&l->arena[off + 1], frames, n * sizeof(uint64_t));
				mine = make_ref(k, off);
			}
			uint64_t want = tag << 32 | mine;
			/* Counted before it is published, so that the count is
			 * never below the entries anyone can find (intern_count). */
			atomic_fetch_add_explicit(&l->used, 1, memory_order_relaxed);
			if (mode == MAKE)
				atomic_fetch_add_explicit(&l->count, 1, memory_order_relaxed);
			if (atomic_compare_exchange_strong_explicit(
				&l->slots[i], &s, want, memory_order_acq_rel, memory_order_acquire)) {
				*is_new = mode == MAKE;
				*ref = mine;
				return (uint32_t)ref_entry(in, mine)[0];
			}
			atomic_fetch_sub_explicit(&l->used, 1, memory_order_relaxed);
			if (mode == MAKE)
				atomic_fetch_sub_explicit(&l->count, 1, memory_order_relaxed);
			/* Lost the race: s now holds the winner's entry; examine it. */
		}
		if ((s >> 32) == tag) {
			const uint64_t *e = ref_entry(in, (uint32_t)s);
			if (same(e, frames, n)) {
				*ref = (uint32_t)s;
				return (uint32_t)e[0];
			}
		}
	}
	if (mode != LOOK)
		atomic_store_explicit(&l->full, 1, memory_order_relaxed);
	return 0;
}

/* The newest level's index. */
static inline unsigned newest(struct intern *in)
{
	unsigned top = 0;
	while (top + 1 < in->max_levels && atomic_load_explicit(&in->level[top + 1], memory_order_acquire))
		top++;
	return top;
}

uint64_t intern_hash(const uint64_t *frames, unsigned n)
{
	return hash_frames(frames, n);
}

void intern_prefetch(struct intern *in, uint64_t h)
{
	struct intern_level *l = atomic_load_explicit(&in->level[newest(in)], memory_order_acquire);
	__builtin_prefetch((const void *)&l->slots[(size_t)h & (l->nslots - 1)]);
}

uint32_t intern_stack(struct intern *in, const uint64_t *frames, unsigned n, int *is_new)
{
	return intern_stack_hashed(in, frames, n, hash_frames(frames, n), is_new);
}

uint32_t intern_stack_hashed(struct intern *in, const uint64_t *frames, unsigned n, uint64_t h, int *is_new)
{
	uint32_t ref;
	*is_new = 0;
	unsigned top = newest(in);
	/* Newest level first: where the stacks in use have their slots. */
	for (unsigned k = top + 1; k-- > 0;) {
		uint32_t id = level_find(in, k, h, frames, n, LOOK, 0, &ref, is_new);
		if (!id)
			continue;
		/* Not into the last level there can be: its slots are the
		 * new stacks' when every other level is full. */
		struct intern_level *nl = atomic_load_explicit(&in->level[top], memory_order_acquire);
		if (k < top && top + 1 < in->max_levels &&
		    !atomic_load_explicit(&nl->full, memory_order_relaxed))
			level_find(in, top, h, frames, n, FORWARD, ref, &ref, is_new);
		return id;
	}
	/* Not found anywhere: made in the newest level, or a new one when it
	 * is full. */
	for (;; top++) {
		struct intern_level *l = atomic_load_explicit(&in->level[top], memory_order_acquire);
		if (!atomic_load_explicit(&l->full, memory_order_relaxed)) {
			uint32_t id = level_find(in, top, h, frames, n, MAKE, 0, &ref, is_new);
			if (id)
				return id;
		}
		if (top + 1 >= in->max_levels)
			return 0;
		if (!atomic_load_explicit(&in->level[top + 1], memory_order_acquire)) {
			struct intern_level *nl = level_map(in, top + 1), *expect = NULL;
			if (!nl)
				return 0;
			if (!atomic_compare_exchange_strong(&in->level[top + 1], &expect, nl))
				munmap(nl, nl->map_bytes); /* another thread added it */
		}
	}
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
			/* Each stack once: forwards are skipped. */
			if (!s || (uint32_t)s >> REF_OFF_BITS != k)
				continue;
			const uint64_t *e = ref_entry(in, (uint32_t)s);
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
