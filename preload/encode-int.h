/* What the chunk writer (encode.c) shares with the record encoders
 * (encode-records.c): the record buffer's limits and the few steps every
 * record takes. Context: the writer thread (and the exit path), under the
 * dump lock. */
#ifndef FATHOM_ENCODE_INT_H
#define FATHOM_ENCODE_INT_H

#include "encode.h"
#include "fathom-dump.h"

#include <string.h>

/* The largest record body: a STACK of FD_MAX_FRAMES addresses, or a MODULE
 * with a path of PATH_MAX bytes and a build-id. */
#define REC_MAX (16 + 10 * (FD_MAX_FRAMES + 3))
#define STR_MAX 4096
/* The record buffer's first size, and its least: it holds the largest
 * record (a HEADER with a 64 KB command line). */
#define RAW_START (128u << 10)

/* Grows the record buffer to hold need bytes, keeping its content. */
int enc_grow_raw(struct enc *e, size_t need);

/* Makes room for a record of at most need bytes, flushing the chunk first
 * when it would overflow. The flush resets the delta bases, so callers read
 * them only after this. */
static inline uint8_t *reserve(struct enc *e, size_t need)
{
	size_t end = e->raw_len + need;
	if (end > e->raw_max || (end > e->raw_cap && enc_grow_raw(e, end) < 0))
		enc_flush(e);
	/* After a flush the largest record fits: the buffer never has less
	 * than RAW_START bytes. */
	return e->raw + e->raw_len;
}

/* Writes kind and body length before a body that was encoded at start + 2,
 * moving the body when its length needs more than one byte. */
static inline void finish(struct enc *e, unsigned kind, uint8_t *start, uint8_t *body_end)
{
	size_t body = (size_t)(body_end - (start + 2));
	uint8_t len[10];
	size_t ll = fd_put_varint(len, body);
	if (ll != 1)
		memmove(start + 1 + ll, start + 2, body);
	start[0] = (uint8_t)kind;
	memcpy(start + 1, len, ll);
	e->raw_len += 1 + ll + body;
	e->records++;
}

/* FREE_REF and ALLOC_AT's references (encode-refs.c), per chunk: in the
 * encoder's loop, so inline. The tables are direct-mapped and lossy; a hit
 * is always right, because every allocation writes its slots. */
#define REF_BITS 16	/* 65536 blocks: 1 MB */
#define STK_BITS 12	/* 4096 stacks: 64 KB */
#define FREED_HASHES 64 /* struct enc's freed_count */

struct enc_ref {
	uint64_t ptr;
	uint32_t ord, gen;
};

struct enc_stk {
	uint64_t ptr;
	uint32_t id, gen;
};

/* Starts a chunk's references afresh (with its delta bases). */
void enc_refs_reset(struct enc *e);
void enc_refs_free(struct enc *e);
/* Maps the tables, at the first allocation event; 0 when it cannot (every
 * event is then written plain). */
int enc_refs_map(struct enc *e);

static inline int refs_ready(struct enc *e)
{
	return e->refs ? 1 : enc_refs_map(e);
}

static inline struct enc_ref *ref_slot(struct enc_ref *refs, uint64_t ptr)
{
	return &refs[((ptr >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - REF_BITS)];
}

static inline struct enc_stk *stk_slot(struct enc_stk *stks, uint64_t id)
{
	return &stks[(id * 0x9e3779b97f4a7c15ull) >> (64 - STK_BITS)];
}

/* REALLOC's old block: no longer live. */
static inline void enc_ref_drop(struct enc *e, uint64_t ptr)
{
	if (!e->refs)
		return;
	struct enc_ref *s = ref_slot(e->refs, ptr);
	if (s->gen == e->ref_gen && s->ptr == ptr)
		s->gen = 0;
}

/* REALLOC's new block, an allocation of the chunk that FREE_REF may name
 * but not its stack's last address for ALLOC_AT. (ALLOC and FREE are
 * encoded by enc_alloc_run, which keeps the same tables in its loop.) */
static inline void enc_ref_realloc(struct enc *e, uint64_t ptr)
{
	e->nalloc++;
	if (refs_ready(e))
		*ref_slot(e->refs, ptr) = (struct enc_ref){ptr, e->nalloc, e->ref_gen};
}

#define PUT(v) (p += fd_put_varint(p, (v)))
#define PUTZ(v) (p += fd_put_varint(p, fd_zigzag((int64_t)(v))))

static inline uint8_t *put_bytes(uint8_t *p, const void *s, size_t n)
{
	PUT(n);
	memcpy(p, s, n);
	return p + n;
}

static inline size_t cap_len(const char *s, size_t max)
{
	return s ? strnlen(s, max) : 0;
}

#endif
