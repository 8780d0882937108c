/* A test-side dump encoder, written from the format description in
 * fathom-dump.h alone (not from the agent's code), so the reader and model
 * tests can build exact dumps, valid or damaged, in memory. */
#ifndef FATHOM_TEST_FDUMP_WRITER_H
#define FATHOM_TEST_FDUMP_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fathom-dump.h"

struct fdw {
	uint8_t *buf;            /* the file so far */
	size_t len, cap;
	uint8_t *chunk;          /* the open chunk's records */
	size_t clen, ccap;
	uint8_t body[1 << 16];
	size_t blen;
	uint32_t seq;
	uint64_t prev_seq, prev_ptr, prev_time;
	size_t chunk_start[256]; /* file offset of each chunk written */
};

static inline void fdw_append(uint8_t **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 1024;
		*b = realloc(*b, *cap);
	}
	memcpy(*b + *len, p, n);
	*len += n;
}

static inline void fdw_init(struct fdw *w, uint16_t major)
{
	memset(w, 0, sizeof(*w));
	uint8_t h[FD_FILE_HEADER_SIZE] = { 0 };
	memcpy(h, FD_MAGIC, FD_MAGIC_LEN);
	fd_put_u16(h + 8, major);
	fd_put_u16(h + 10, FD_VERSION_MINOR);
	fdw_append(&w->buf, &w->len, &w->cap, h, sizeof(h));
}

static inline void fdw_free(struct fdw *w)
{
	free(w->buf);
	free(w->chunk);
}

static inline void fdw_u(struct fdw *w, uint64_t v)
{
	w->blen += fd_put_varint(w->body + w->blen, v);
}

static inline void fdw_zz(struct fdw *w, int64_t v)
{
	fdw_u(w, fd_zigzag(v));
}

static inline void fdw_str(struct fdw *w, const void *s, size_t n)
{
	fdw_u(w, n);
	memcpy(w->body + w->blen, s, n);
	w->blen += n;
}

/* Ends the record being built (its body is w->body). */
static inline void fdw_rec(struct fdw *w, int kind)
{
	uint8_t h[11];
	h[0] = (uint8_t)kind;
	size_t n = 1 + fd_put_varint(h + 1, w->blen);
	fdw_append(&w->chunk, &w->clen, &w->ccap, h, n);
	fdw_append(&w->chunk, &w->clen, &w->ccap, w->body, w->blen);
	w->blen = 0;
}

static inline void fdw_header(struct fdw *w, int pid, int ppid, unsigned hz, int alloc_mode, const char *exe,
			      const char *cmdline, size_t cmdline_len)
{
	fdw_u(w, (uint64_t)pid);
	fdw_u(w, (uint64_t)ppid);
	fdw_u(w, 1700000000000000000ull);
	fdw_u(w, 5000000000ull);
	fdw_u(w, hz);
	fdw_u(w, FD_CLOCK_CPU);
	fdw_u(w, (uint64_t)alloc_mode);
	fdw_u(w, 0);
	fdw_str(w, exe, strlen(exe));
	fdw_str(w, cmdline, cmdline_len);
	fdw_u(w, 0);
	fdw_rec(w, FD_REC_HEADER);
}

static inline void fdw_module(struct fdw *w, uint64_t id, uint64_t bias, uint64_t start, uint64_t end,
			      const char *path, uint64_t time)
{
	fdw_u(w, id);
	fdw_u(w, bias);
	fdw_u(w, start);
	fdw_u(w, end);
	fdw_str(w, path, strlen(path));
	fdw_str(w, "", 0);
	fdw_u(w, time);
	fdw_rec(w, FD_REC_MODULE);
}

static inline void fdw_unload(struct fdw *w, uint64_t id, uint64_t time)
{
	fdw_u(w, id);
	fdw_u(w, time);
	fdw_rec(w, FD_REC_UNLOAD);
}

static inline void fdw_thread(struct fdw *w, int tid, uint64_t time, const char *name)
{
	fdw_u(w, (uint64_t)tid);
	fdw_u(w, time);
	fdw_str(w, name, strlen(name));
	fdw_rec(w, FD_REC_THREAD);
}

static inline void fdw_stack(struct fdw *w, uint64_t id, unsigned n, const uint64_t *addrs)
{
	fdw_u(w, id);
	fdw_u(w, n);
	for (unsigned i = 0; i < n; i++) {
		if (i == 0)
			fdw_u(w, addrs[0]);
		else
			fdw_zz(w, (int64_t)(addrs[i] - addrs[i - 1]));
	}
	fdw_rec(w, FD_REC_STACK);
}

static inline void fdw_tid(struct fdw *w, int tid)
{
	fdw_u(w, (uint64_t)tid);
	fdw_rec(w, FD_REC_TID);
}

static inline void fdw_sample(struct fdw *w, uint64_t time, uint64_t stack, uint64_t weight)
{
	fdw_zz(w, (int64_t)(time - w->prev_time));
	w->prev_time = time;
	fdw_u(w, stack);
	fdw_u(w, weight);
	fdw_rec(w, FD_REC_SAMPLE);
}

static inline void fdw_alloc(struct fdw *w, uint64_t seq, uint64_t stack, uint64_t size, uint64_t ptr)
{
	fdw_zz(w, (int64_t)(seq - w->prev_seq));
	fdw_u(w, stack);
	fdw_u(w, size);
	fdw_zz(w, (int64_t)(ptr - w->prev_ptr));
	w->prev_seq = seq;
	w->prev_ptr = ptr;
	fdw_rec(w, FD_REC_ALLOC);
}

static inline void fdw_free_ev(struct fdw *w, uint64_t seq, uint64_t ptr)
{
	fdw_zz(w, (int64_t)(seq - w->prev_seq));
	fdw_zz(w, (int64_t)(ptr - w->prev_ptr));
	w->prev_seq = seq;
	w->prev_ptr = ptr;
	fdw_rec(w, FD_REC_FREE);
}

static inline void fdw_lost(struct fdw *w, int what, uint64_t count)
{
	fdw_u(w, (uint64_t)what);
	fdw_u(w, count);
	fdw_rec(w, FD_REC_LOST);
}

static inline void fdw_trailer(struct fdw *w, uint64_t time, uint64_t samples, uint64_t weight, uint64_t lost)
{
	fdw_u(w, time);
	fdw_u(w, samples);
	fdw_u(w, weight);
	fdw_u(w, lost);
	fdw_u(w, 0);
	fdw_u(w, FD_END_EXIT);
	fdw_rec(w, FD_REC_TRAILER);
}

/* Writes the open records as one chunk (zstd-compressed when asked) and
 * resets the per-chunk delta state, as the format requires. */
static inline void fdw_flush(struct fdw *w, bool zstd)
{
	const uint8_t *payload = w->chunk;
	size_t plen = w->clen;
	uint8_t *z = NULL;
	if (zstd) {
		size_t bound = ZSTD_compressBound(w->clen);
		z = malloc(bound);
		plen = ZSTD_compress(z, bound, w->chunk, w->clen, 3);
		payload = z;
	}
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	fd_chunk_header_encode(h, zstd ? FD_CHUNK_ZSTD : 0, w->seq, (uint32_t)plen, (uint32_t)w->clen,
			       fd_crc32c(0, payload, plen));
	if (w->seq < 256)
		w->chunk_start[w->seq] = w->len;
	w->seq++;
	fdw_append(&w->buf, &w->len, &w->cap, h, sizeof(h));
	fdw_append(&w->buf, &w->len, &w->cap, payload, plen);
	free(z);
	w->clen = 0;
	w->prev_seq = w->prev_ptr = w->prev_time = 0;
}

#endif
