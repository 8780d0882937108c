/* The references of FREE_REF and ALLOC_AT (format 1.6, fathom-dump.h):
 * per chunk, which allocation made a block, the last address each stack
 * was given, and the last frees, so that a free names its block by how
 * many allocations back it was made and an allocation its address by a
 * recent free or a stack's last address: small numbers that repeat,
 * where addresses do not (the sqlite3 workload's dump: 53 KB to about 30).
 *
 * The tables are direct-mapped and lossy: a slot another block or stack
 * took is a miss, and the event is written as a plain FREE or ALLOC. A hit
 * is always right, because every allocation writes its slots.
 *
 * Context: the encoder's (one thread at a time, under the dump lock).
 */
#include "encode-int.h"

#include <sys/mman.h>

#define REF_BITS 16 /* 65536 blocks: 1 MB */
#define STK_BITS 12 /* 4096 stacks: 64 KB */

struct enc_ref {
	uint64_t ptr;
	uint32_t ord, gen;
};

struct enc_stk {
	uint64_t ptr;
	uint32_t id, gen;
};

static inline size_t ref_slot(uint64_t ptr)
{
	return (size_t)(((ptr >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - REF_BITS));
}

static inline size_t stk_slot(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - STK_BITS));
}

void enc_refs_reset(struct enc *e)
{
	e->nalloc = e->nfreed = 0;
	if (++e->ref_gen == 0) {
		/* After 2^32 chunks the generations come round: forget all. */
		if (e->refs)
			memset(e->refs, 0, sizeof(struct enc_ref) << REF_BITS);
		if (e->stks)
			memset(e->stks, 0, sizeof(struct enc_stk) << STK_BITS);
		e->ref_gen = 1;
	}
}

/* Maps the tables at the first allocation event; without them every event
 * is written plain. */
static int refs_ready(struct enc *e)
{
	if (e->refs)
		return 1;
	if (e->refs_failed)
		return 0;
	size_t rb = sizeof(struct enc_ref) << REF_BITS, sb = sizeof(struct enc_stk) << STK_BITS;
	void *r = mmap(NULL, rb + sb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		e->refs_failed = 1;
		return 0;
	}
	e->refs = r;
	e->stks = (struct enc_stk *)((uint8_t *)r + rb);
	if (!e->ref_gen)
		e->ref_gen = 1;
	return 1;
}

void enc_refs_free(struct enc *e)
{
	if (e->refs)
		munmap(e->refs, (sizeof(struct enc_ref) << REF_BITS) + (sizeof(struct enc_stk) << STK_BITS));
	e->refs = NULL;
	e->stks = NULL;
}

uint32_t enc_ref_free(struct enc *e, uint64_t ptr)
{
	uint32_t back = 0;
	if (refs_ready(e)) {
		struct enc_ref *s = &e->refs[ref_slot(ptr)];
		if (s->gen == e->ref_gen && s->ptr == ptr) {
			back = e->nalloc - s->ord + 1;
			s->gen = 0;
		}
	}
	e->freed[e->nfreed++ % FD_REF_FREES] = ptr;
	return back;
}

void enc_ref_drop(struct enc *e, uint64_t ptr)
{
	if (!e->refs)
		return;
	struct enc_ref *s = &e->refs[ref_slot(ptr)];
	if (s->gen == e->ref_gen && s->ptr == ptr)
		s->gen = 0;
}

int enc_ref_alloc_at(struct enc *e, uint64_t ptr, uint64_t id, uint64_t *base)
{
	unsigned n = e->nfreed < FD_REF_FREES ? e->nfreed : FD_REF_FREES;
	for (unsigned at = 1; at <= n; at++)
		if (e->freed[(e->nfreed - at) % FD_REF_FREES] == ptr)
			return (int)at;
	if (id && id < FD_REF_MAX_STACK && e->stks) {
		struct enc_stk *s = &e->stks[stk_slot(id)];
		if (s->gen == e->ref_gen && s->id == id) {
			*base = s->ptr;
			return 0;
		}
	}
	return -1;
}

void enc_ref_alloc(struct enc *e, uint64_t ptr, uint64_t id, int is_alloc)
{
	e->nalloc++;
	if (!refs_ready(e))
		return;
	struct enc_ref *s = &e->refs[ref_slot(ptr)];
	*s = (struct enc_ref){ptr, e->nalloc, e->ref_gen};
	if (is_alloc && id && id < FD_REF_MAX_STACK) {
		struct enc_stk *k = &e->stks[stk_slot(id)];
		*k = (struct enc_stk){ptr, (uint32_t)id, e->ref_gen};
	}
}
