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

/* FREE_REF and ALLOC_AT's references (encode-refs.c), per chunk. Starts
 * a chunk's references afresh (with its delta bases). */
void enc_refs_reset(struct enc *e);
void enc_refs_free(struct enc *e);
/* A free of ptr: how many allocations back in the chunk its block was made
 * (0: not known); ptr becomes the most recent free. */
uint32_t enc_ref_free(struct enc *e, uint64_t ptr);
/* REALLOC's old block: no longer live. */
void enc_ref_drop(struct enc *e, uint64_t ptr);
/* How ALLOC_AT can name an allocation's address: 1..FD_REF_FREES (that
 * many frees back), 0 (a delta from *base, the stack's last address), or
 * -1 (it cannot: a plain ALLOC). */
int enc_ref_alloc_at(struct enc *e, uint64_t ptr, uint64_t id, uint64_t *base);
/* An allocation of the chunk (ALLOC, ALLOC_AT; REALLOC's new block with
 * is_alloc 0, which does not count as its stack's last address). */
void enc_ref_alloc(struct enc *e, uint64_t ptr, uint64_t id, int is_alloc);

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
