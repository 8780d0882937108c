/* A test-side dump encoder, written from the format description in
 * fathom-dump.h alone (not from the agent's code), so the reader and model
 * tests can build exact dumps, valid or damaged, in memory, and the dump
 * generators in integration/progs can stream big ones to a file. */
#ifndef FATHOM_TEST_FDUMP_WRITER_H
#define FATHOM_TEST_FDUMP_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fathom-dump.h"

struct fdw {
	uint8_t *buf; /* the file so far */
	size_t len, cap;
	uint8_t *chunk; /* the open chunk's records */
	size_t clen, ccap;
	uint8_t body[1 << 16];
	size_t blen;
	uint32_t seq;
	uint64_t prev_seq, prev_ptr, prev_time;
	int cur_tid;		 /* the open chunk's thread (fdw_switch_tid), 0 if none */
	size_t chunk_start[256]; /* file offset of each chunk written */
	FILE *out;		 /* when set (fdw_init_file), the file is streamed here */
	uint64_t written;	 /* bytes streamed to out so far */
	bool write_error;
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
	uint8_t h[FD_FILE_HEADER_SIZE] = {0};
	memcpy(h, FD_MAGIC, FD_MAGIC_LEN);
	fd_put_u16(h + 8, major);
	fd_put_u16(h + 10, FD_VERSION_MINOR);
	fdw_append(&w->buf, &w->len, &w->cap, h, sizeof(h));
}

/* Writes what w->buf holds to w->out (streaming mode), so that only the open
 * chunk stays in memory. */
static inline void fdw_drain(struct fdw *w)
{
	if (!w->out)
		return;
	if (fwrite(w->buf, 1, w->len, w->out) != w->len)
		w->write_error = true;
	w->written += w->len;
	w->len = 0;
}

/* Like fdw_init, but each chunk goes to OUT as it is flushed (for dumps too
 * big to hold); w->written counts the bytes, w->write_error tells a failure. */
static inline void fdw_init_file(struct fdw *w, FILE *out)
{
	fdw_init(w, FD_VERSION_MAJOR);
	w->out = out;
	fdw_drain(w);
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

/* The fields of a HEADER up to generation, without ending the record (a
 * writer of format 1.4's optional fields appends them, then fdw_rec). */
static inline void fdw_header_fields(struct fdw *w, int pid, int ppid, uint64_t start_mono, unsigned hz,
				     int alloc_mode, const char *exe, const char *cmdline, size_t cmdline_len)
{
	fdw_u(w, (uint64_t)pid);
	fdw_u(w, (uint64_t)ppid);
	fdw_u(w, 1700000000000000000ull);
	fdw_u(w, start_mono);
	fdw_u(w, hz);
	fdw_u(w, FD_CLOCK_CPU);
	fdw_u(w, (uint64_t)alloc_mode);
	fdw_u(w, 0);
	fdw_str(w, exe, strlen(exe));
	fdw_str(w, cmdline, cmdline_len);
	fdw_u(w, 0);
}

static inline void fdw_header_at(struct fdw *w, int pid, int ppid, uint64_t start_mono, unsigned hz,
				 int alloc_mode, const char *exe, const char *cmdline, size_t cmdline_len)
{
	fdw_header_fields(w, pid, ppid, start_mono, hz, alloc_mode, exe, cmdline, cmdline_len);
	fdw_rec(w, FD_REC_HEADER);
}

static inline void fdw_header(struct fdw *w, int pid, int ppid, unsigned hz, int alloc_mode, const char *exe,
			      const char *cmdline, size_t cmdline_len)
{
	fdw_header_at(w, pid, ppid, 5000000000ull, hz, alloc_mode, exe, cmdline, cmdline_len);
}

static inline void fdw_module_bid(struct fdw *w, uint64_t id, uint64_t bias, uint64_t start, uint64_t end,
				  const char *path, const void *build_id, size_t build_id_len, uint64_t time)
{
	fdw_u(w, id);
	fdw_u(w, bias);
	fdw_u(w, start);
	fdw_u(w, end);
	fdw_str(w, path, strlen(path));
	fdw_str(w, build_id, build_id_len);
	fdw_u(w, time);
	fdw_rec(w, FD_REC_MODULE);
}

static inline void fdw_module(struct fdw *w, uint64_t id, uint64_t bias, uint64_t start, uint64_t end,
			      const char *path, uint64_t time)
{
	fdw_module_bid(w, id, bias, start, end, path, "", 0, time);
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

static inline void fdw_thread_end(struct fdw *w, int tid, uint64_t time)
{
	fdw_u(w, (uint64_t)tid);
	fdw_u(w, time);
	fdw_rec(w, FD_REC_THREAD_END);
}

/* THREAD_END with the measured CPU time (1.2) and, unless run_ns is
 * UINT64_MAX, the scheduler's account (1.7): on a CPU, waiting for one. */
static inline void fdw_thread_end_cpu(struct fdw *w, int tid, uint64_t time, uint64_t cpu_ns, uint64_t run_ns,
				      uint64_t runq_ns)
{
	fdw_u(w, (uint64_t)tid);
	fdw_u(w, time);
	fdw_u(w, cpu_ns);
	if (run_ns != UINT64_MAX) {
		fdw_u(w, run_ns);
		fdw_u(w, runq_ns);
	}
	fdw_rec(w, FD_REC_THREAD_END);
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

/* A TID record only when the thread changes within the chunk. */
static inline void fdw_switch_tid(struct fdw *w, int tid)
{
	if (tid == w->cur_tid)
		return;
	fdw_tid(w, tid);
	w->cur_tid = tid;
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

/* FREE_REF (1.6): the block of the back-th allocation before it in the
 * chunk, whose address the caller gives (it becomes prev_ptr). */
static inline void fdw_free_ref(struct fdw *w, uint64_t seq, uint64_t back, uint64_t ptr)
{
	fdw_zz(w, (int64_t)(seq - w->prev_seq));
	fdw_u(w, back);
	w->prev_seq = seq;
	w->prev_ptr = ptr;
	fdw_rec(w, FD_REC_FREE_REF);
}

/* ALLOC_AT (1.6): at 1.. a recent free; at 0, delta from the stack's last
 * address. ptr is what it names (it becomes prev_ptr). */
static inline void fdw_alloc_at(struct fdw *w, uint64_t seq, uint64_t stack, uint64_t size, uint64_t at,
				int64_t delta, uint64_t ptr)
{
	fdw_zz(w, (int64_t)(seq - w->prev_seq));
	fdw_u(w, stack);
	fdw_u(w, size);
	fdw_u(w, at);
	if (!at)
		fdw_zz(w, delta);
	w->prev_seq = seq;
	w->prev_ptr = ptr;
	fdw_rec(w, FD_REC_ALLOC_AT);
}

static inline void fdw_realloc(struct fdw *w, uint64_t seq, uint64_t stack, uint64_t size, uint64_t old_ptr,
			       uint64_t new_ptr)
{
	fdw_zz(w, (int64_t)(seq - w->prev_seq));
	fdw_u(w, stack);
	fdw_u(w, size);
	fdw_zz(w, (int64_t)(old_ptr - w->prev_ptr));
	fdw_zz(w, (int64_t)(new_ptr - old_ptr));
	w->prev_seq = seq;
	w->prev_ptr = new_ptr;
	fdw_rec(w, FD_REC_REALLOC);
}

static inline void fdw_tick(struct fdw *w, uint64_t time, uint64_t seq, uint64_t rss, uint64_t heap)
{
	fdw_u(w, time);
	fdw_u(w, seq);
	fdw_u(w, rss);
	fdw_u(w, heap);
	fdw_rec(w, FD_REC_TICK);
}

static inline void fdw_lost(struct fdw *w, int what, uint64_t count)
{
	fdw_u(w, (uint64_t)what);
	fdw_u(w, count);
	fdw_rec(w, FD_REC_LOST);
}

static inline void fdw_trailer_ev(struct fdw *w, uint64_t time, uint64_t samples, uint64_t weight,
				  uint64_t lost, uint64_t events)
{
	fdw_u(w, time);
	fdw_u(w, samples);
	fdw_u(w, weight);
	fdw_u(w, lost);
	fdw_u(w, events);
	fdw_u(w, FD_END_EXIT);
	fdw_rec(w, FD_REC_TRAILER);
}

static inline void fdw_trailer(struct fdw *w, uint64_t time, uint64_t samples, uint64_t weight, uint64_t lost)
{
	fdw_trailer_ev(w, time, samples, weight, lost, 0);
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
		w->chunk_start[w->seq] = w->written + w->len;
	w->seq++;
	fdw_append(&w->buf, &w->len, &w->cap, h, sizeof(h));
	fdw_append(&w->buf, &w->len, &w->cap, payload, plen);
	free(z);
	w->clen = 0;
	w->prev_seq = w->prev_ptr = w->prev_time = 0;
	w->cur_tid = 0;
	fdw_drain(w);
}

/* A scratch directory for the dumps a test writes: $TMPDIR/fathom-TAG-XXXXXX
 * made into DIR (N bytes). Returns DIR, or NULL when it cannot be made. */
static inline char *fdw_tmpdir(char *dir, size_t n, const char *tag)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, n, "%s/fathom-%s-XXXXXX", t ? t : P_tmpdir, tag);
	return mkdtemp(dir);
}

/* Removes a scratch directory and its files; 0 when done. */
static inline int fdw_rmdir(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes the file built in memory to DIR/NAME. Returns the path (to free),
 * or NULL when it cannot be written. */
static inline char *fdw_save(const struct fdw *w, const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	if (!path)
		return NULL;
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(w->buf, 1, w->len, f) == w->len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		free(path);
		return NULL;
	}
	return path;
}

#endif
