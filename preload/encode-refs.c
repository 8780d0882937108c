/* The references of FREE_REF and ALLOC_AT (format 1.6, fathom-dump.h):
 * per chunk, which allocation made a block, the last address each stack
 * was given, and the last frees, so that a free names its block by how
 * many allocations back it was made and an allocation its address by a
 * recent free or a stack's last address: small numbers that repeat,
 * where addresses do not (the sqlite3 workload's dump: 53 KB to about 30).
 *
 * The tables are direct-mapped and lossy: a slot another block or stack
 * took is a miss, and the event is written as a plain FREE or ALLOC. A hit
 * is always right, because every allocation writes its slots. Their
 * lookups are inline, in encode-int.h; here they are mapped and reset.
 *
 * Context: the encoder's (one thread at a time, under the dump lock).
 */
#include "encode-int.h"

#include <sys/mman.h>

void enc_refs_reset(struct enc *e)
{
	e->nalloc = e->nfreed = 0;
	memset(e->freed_count, 0, sizeof(e->freed_count));
	if (++e->ref_gen == 0) {
		/* After 2^32 chunks the generations come round: forget all. */
		if (e->refs)
			memset(e->refs, 0, sizeof(struct enc_ref) << REF_BITS);
		if (e->stks)
			memset(e->stks, 0, sizeof(struct enc_stk) << STK_BITS);
		e->ref_gen = 1;
	}
}

int enc_refs_map(struct enc *e)
{
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
