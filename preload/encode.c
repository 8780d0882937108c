/* The record encoder and chunk writer (see encode.h). */
#define _GNU_SOURCE /* mremap */
#include "encode.h"
#include "encode-int.h"

#include "event.h"
#include "fathom-dump.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createCCtx_advanced: zstd's memory from mmap */
#include <zstd.h>

#define RECOMPRESS_RATIO 16
#define RECOMPRESS_LEVEL 6
/* The lazy level's tables for a chunk of up to 4 MB: 256 KB of hash and
 * 64 KB of chain instead of its default 2 MB and 1 MB, which zstd clears
 * for every chunk (a tenth of the writer's time on a malloc loop); on
 * repetitive chunks the result is the same to a few bytes. */
#define RECOMPRESS_HASH_LOG 16
#define RECOMPRESS_CHAIN_LOG 14

/* Compresses the chunk's records at level into dst; returns zstd's result. */
static size_t compress_at(struct enc *e, void *dst, size_t cap, size_t raw_len, int level)
{
	ZSTD_CCtx *c = e->zctx;
	ZSTD_CCtx_reset(c, ZSTD_reset_parameters);
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	if (level == RECOMPRESS_LEVEL) {
		ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, RECOMPRESS_HASH_LOG);
		ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, RECOMPRESS_CHAIN_LOG);
	}
	return ZSTD_compress2(c, dst, cap, e->raw, raw_len);
}

/* The chunk's checksum, CRC-32C: with SSE4.2's crc32 instruction, 8 bytes
 * a step, when the CPU has it (fd_crc32c's nibble loop took a sixth of the
 * agent's CPU time under --alloc on a malloc-heavy program). */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t len)
{
	uint64_t c = 0xffffffffu;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}
#endif

uint32_t enc_crc32c(const void *buf, size_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(buf, len);
#endif
	return fd_crc32c(0, buf, len);
}

static int write_all(struct enc *e, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = write(e->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		e->file_pos += (uint64_t)w;
	}
	return 0;
}

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t page_up(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

/* zstd's working memory comes from mmap, not from the program's malloc: the
 * writer thread would otherwise make glibc reserve a 64 MB arena of its own,
 * and the program's heap statistics would count the agent. */
static void *zalloc(void *opaque, size_t n)
{
	(void)opaque;
	size_t bytes = page_up(n + 16);
	uint8_t *p = map(bytes);
	if (!p)
		return NULL;
	memcpy(p, &bytes, sizeof(bytes));
	return p + 16;
}

static void zfree(void *opaque, void *q)
{
	(void)opaque;
	if (!q)
		return;
	uint8_t *p = (uint8_t *)q - 16;
	size_t bytes;
	memcpy(&bytes, p, sizeof(bytes));
	munmap(p, bytes);
}

/* Makes *buf hold at least need bytes; its content is not kept. */
static int ensure(uint8_t **buf, size_t *cap, size_t need)
{
	if (*buf && *cap >= need)
		return 0;
	size_t n = page_up(need);
	uint8_t *p = map(n);
	if (!p)
		return -ENOMEM;
	if (*buf)
		munmap(*buf, *cap);
	*buf = p;
	*cap = n;
	return 0;
}

/* Grows the record buffer to hold need bytes, keeping its content: it starts
 * small and grows with what the writer batches (doubling to 1 MB, then by
 * 1 MB), so that a quiet program pays for no more than it uses. */
int enc_grow_raw(struct enc *e, size_t need)
{
	size_t cap = e->raw_cap;
	while (cap < need)
		cap = cap < (1u << 20) ? cap * 2 : cap + (1u << 20);
	void *p = mremap(e->raw, e->raw_cap, cap, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return -ENOMEM;
	e->raw = p;
	e->raw_cap = cap;
	return 0;
}

int enc_is_ours(struct enc *e)
{
	struct stat st;
	if (e->fd < 0)
		return 0;
	if (!e->check_id)
		return 1;
	return fstat(e->fd, &st) == 0 && st.st_dev == e->dev && st.st_ino == e->ino;
}

int enc_open(struct enc *e, int fd, size_t chunk_raw, int level)
{
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->level = level;
	if (chunk_raw > FD_CHUNK_MAX_RAW)
		chunk_raw = FD_CHUNK_MAX_RAW;
	e->raw_max = chunk_raw;
	e->raw_cap = RAW_START;
	e->raw = map(e->raw_cap);
	if (level > 0) {
		ZSTD_customMem mem = {zalloc, zfree, NULL};
		e->zctx = ZSTD_createCCtx_advanced(mem);
	}
	if (!e->raw || (level > 0 && !e->zctx)) {
		enc_close(e);
		return -ENOMEM;
	}
	struct stat st;
	if (fstat(fd, &st) == 0) {
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->seekable = S_ISREG(st.st_mode);
	}
	uint8_t h[FD_FILE_HEADER_SIZE];
	memcpy(h, FD_MAGIC, FD_MAGIC_LEN);
	fd_put_u16(h + 8, FD_VERSION_MAJOR);
	fd_put_u16(h + 10, FD_VERSION_MINOR);
	fd_put_u32(h + 12, 0);
	int r = write_all(e, h, sizeof(h));
	if (r < 0)
		e->error = -r;
	return r;
}

void enc_close(struct enc *e)
{
	if (e->raw)
		munmap(e->raw, e->raw_cap);
	if (e->zbuf)
		munmap(e->zbuf, e->zcap);
	if (e->zbuf2)
		munmap(e->zbuf2, e->zcap2);
	if (e->zctx)
		ZSTD_freeCCtx(e->zctx);
	if (e->stack_bits)
		munmap(e->stack_bits, e->stack_bits_bytes);
	if (e->ref_bits)
		munmap(e->ref_bits, e->ref_bits_bytes);
	enc_refs_free(e);
	e->stack_bits = e->ref_bits = NULL;
	e->stack_bits_bytes = e->ref_bits_bytes = 0;
	e->raw = e->zbuf = e->zbuf2 = NULL;
	e->raw_cap = e->zcap = e->zcap2 = 0;
	e->zctx = NULL;
}

int enc_flush(struct enc *e)
{
	if (!e->raw_len)
		return 0;
	size_t raw_len = e->raw_len;
	e->raw_len = 0;
	e->cur_tid = e->prev_seq = e->prev_ptr = e->prev_time = 0;
	enc_refs_reset(e);
	if (e->error) {
		e->lost_bytes += raw_len;
		return -e->error;
	}
	if (!enc_is_ours(e)) {
		e->error = EBADF;
		e->lost_bytes += raw_len;
		return -EBADF;
	}
	const uint8_t *payload = e->raw;
	size_t len = raw_len;
	uint8_t flags = 0;
	if (e->zctx && ensure(&e->zbuf, &e->zcap, ZSTD_compressBound(raw_len)) == 0) {
		/* After a chunk that compressed RECOMPRESS_RATIO times or more,
		 * the next is likely as repetitive (a loop allocating the same
		 * way): it goes to the lazy level at once, one pass instead of
		 * two, until a chunk compresses less well. */
		int level = e->repetitive ? RECOMPRESS_LEVEL : e->level;
		size_t z = compress_at(e, e->zbuf, e->zcap, raw_len, level);
		e->repetitive = 0;
		if (!ZSTD_isError(z) && z < raw_len) {
			payload = e->zbuf;
			len = z;
			flags = FD_CHUNK_ZSTD;
			e->repetitive = z * RECOMPRESS_RATIO <= raw_len;
			/* Repetitive chunks compress far better with lazy
			 * matching, which is fast on such data; the fast level
			 * stays for the rest, where it keeps up. */
			if (level < RECOMPRESS_LEVEL && e->repetitive &&
			    ensure(&e->zbuf2, &e->zcap2, z) == 0) {
				/* A smaller result than z is all that is of use. */
				size_t z2 = compress_at(e, e->zbuf2, z, raw_len, RECOMPRESS_LEVEL);
				if (!ZSTD_isError(z2) && z2 < z) {
					payload = e->zbuf2;
					len = z2;
				}
			}
		}
	}
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	fd_chunk_header_encode(h, flags, e->chunk_seq, (uint32_t)len, (uint32_t)raw_len,
			       enc_crc32c(payload, len));
	uint64_t start = e->file_pos;
	int r = write_all(e, h, sizeof(h));
	if (r == 0)
		r = write_all(e, payload, len);
	if (r < 0) {
		/* A chunk cut short (a full disk) is taken back, so the file ends
		 * on a whole chunk; nothing more is written after an error. */
		if (e->file_pos != start && e->seekable && enc_is_ours(e) &&
		    ftruncate(e->fd, (off_t)start) == 0 && lseek(e->fd, (off_t)start, SEEK_SET) >= 0)
			e->file_pos = start;
		e->error = -r;
		e->lost_bytes += raw_len;
		return r;
	}
	e->chunk_seq++;
	return 0;
}

/* Makes the bitmap *bits hold bit id (it grows x2, from 4 KB: 32768 ids).
 * Returns its word, or NULL when it cannot grow. */
static uint64_t *bit_word(uint64_t **bits, size_t *bytes, uint64_t id)
{
	size_t byte = (size_t)(id >> 3);
	if (byte >= *bytes) {
		size_t cap = *bytes ? *bytes : 4096;
		while (cap <= byte)
			cap *= 2;
		void *p = *bits ? mremap(*bits, *bytes, cap, MREMAP_MAYMOVE) : map(cap);
		if (!p || p == MAP_FAILED)
			return NULL;
		*bits = p;
		*bytes = cap;
	}
	return &(*bits)[id >> 6];
}

/* Marks stack id as defined in this dump; returns 1 when it already was.
 * When the map cannot grow, the stack is written unmarked (written again
 * if sent again: the reader keeps the first). */
static int stack_seen(struct enc *e, uint64_t id)
{
	uint64_t bit = 1ull << (id & 63), *w = bit_word(&e->stack_bits, &e->stack_bits_bytes, id);
	if (!w)
		return 0;
	if (*w & bit)
		return 1;
	*w |= bit;
	e->stacks_defined++;
	if (e->marking) {
		if (e->nmarked < sizeof(e->marked) / sizeof(e->marked[0]) && id <= UINT32_MAX)
			e->marked[e->nmarked++] = (uint32_t)id;
		else
			e->marked_over = 1;
	}
	return 0;
}

int enc_stack_missing(const struct enc *e, uint64_t id)
{
	size_t word = (size_t)(id >> 6);
	uint64_t bit = 1ull << (id & 63);
	if (word >= e->ref_bits_bytes / 8 || !(e->ref_bits[word] & bit))
		return 0;
	return word >= e->stack_bits_bytes / 8 || !(e->stack_bits[word] & bit);
}

void enc_event_ref(struct enc *e, const uint64_t *w)
{
	uint64_t id;
	switch (EV_KIND(w[0])) {
	case EV_ALLOC:
	case EV_REALLOC:
	case EV_MAP:
	case EV_REMAP:
		id = w[1];
		break;
	case EV_SAMPLE:
	case EV_WAIT:
	case EV_HOLD:
		id = w[2];
		break;
	default:
		return;
	}
	/* 0: the event's stack could not be interned. */
	uint64_t *word = id && id <= UINT32_MAX ? bit_word(&e->ref_bits, &e->ref_bits_bytes, id) : NULL;
	if (word)
		*word |= 1ull << (id & 63);
}

void enc_stack(struct enc *e, uint64_t id, const uint64_t *f, unsigned n)
{
	if (stack_seen(e, id))
		return;
	if (n > FD_MAX_FRAMES)
		n = FD_MAX_FRAMES;
	uint8_t *s = reserve(e, REC_MAX), *p = s + 2;
	PUT(id);
	PUT(n);
	for (unsigned i = 0; i < n; i++) {
		if (i == 0)
			PUT(f[0]);
		else
			PUTZ(f[i] - f[i - 1]);
	}
	finish(e, FD_REC_STACK, s, p);
}

struct enc_mark enc_mark(struct enc *e)
{
	struct enc_mark m = {e->file_pos,     e->chunk_seq,    e->samples, e->sample_weight,
			     e->lost_samples, e->alloc_events, e->records, e->stacks_defined};
	e->marking = 1;
	e->nmarked = 0;
	e->marked_over = 0;
	return m;
}

/* After a rewind: the totals as they were at the mark, and the stacks
 * defined since no longer defined (all of them forgotten when more were
 * defined than the list holds: those are then written again, and the
 * reader keeps a stack's first definition). */
static void forget_since(struct enc *e, const struct enc_mark *m)
{
	e->samples = m->samples;
	e->sample_weight = m->sample_weight;
	e->lost_samples = m->lost_samples;
	e->alloc_events = m->alloc_events;
	e->records = m->records;
	if (e->marked_over) {
		if (e->stack_bits)
			memset(e->stack_bits, 0, e->stack_bits_bytes);
		e->stacks_defined = 0;
	} else {
		for (unsigned i = 0; i < e->nmarked; i++)
			e->stack_bits[e->marked[i] >> 6] &= ~(1ull << (e->marked[i] & 63));
		e->stacks_defined = m->stacks_defined;
	}
	e->marking = 0;
}

int enc_rewind(struct enc *e, struct enc_mark m)
{
	e->raw_len = 0;
	e->cur_tid = e->prev_seq = e->prev_ptr = e->prev_time = 0;
	enc_refs_reset(e);
	if (e->error)
		return -e->error;
	/* Never cut a file that is no longer the dump (the program closed our
	 * descriptor and the number now names one of its own files). */
	if (!enc_is_ours(e)) {
		e->error = EBADF;
		return -EBADF;
	}
	if (!e->seekable)
		return -ESPIPE;
	if (ftruncate(e->fd, (off_t)m.file_pos) < 0 || lseek(e->fd, (off_t)m.file_pos, SEEK_SET) < 0)
		return -errno;
	e->file_pos = m.file_pos;
	e->chunk_seq = m.chunk_seq;
	forget_since(e, &m);
	return 0;
}
