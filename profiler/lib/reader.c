/* The dump reader: a streaming decoder that holds one chunk in memory at a
 * time, checks everything it reads, and skips damage instead of failing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zstd.h>

#include "reader.h"

/* How many damage messages are spelled out before the rest are only counted. */
#define MAX_MESSAGES 6
#define SCAN_WINDOW (64u << 10)
/* The longest run of zero bytes that resynchronisation skips: no chunk header
 * is zeros, and no agent leaves gaps, so a longer run (a preallocated or
 * sparse file, or a crash that left the tail's blocks zeroed) is where the
 * data ended. Holes are skipped without reading (SEEK_DATA). */
#define ZERO_WINDOW (4u << 20)

struct ref_stack {
	uint64_t ptr;
	uint32_t gen;
};

struct reader {
	FILE *f;
	bool own;
	char *name;
	uint64_t off; /* file offset of the next chunk header */
	uint64_t size;
	uint8_t *stored; /* the current chunk's payload as stored */
	size_t stored_cap;
	uint8_t *raw; /* ... and decoded */
	size_t raw_cap;
	const uint8_t *p, *end, *chunk_base;
	bool in_chunk, at_eof;
	bool sym_chunk; /* the current chunk is a symbols chunk, returned whole */
	uint32_t chunk_seq, expect_seq, last_good;
	uint32_t nchunks, nbad;
	bool any_good, complete;
	bool truncated; /* a truncation was reported already */
	int cur_tid;
	uint64_t prev_seq, prev_ptr, prev_time;
	/* What FREE_REF and ALLOC_AT (since 1.6) refer to, per chunk (refs:
	 * the file is 1.6 or newer): the addresses of the chunk's allocations
	 * in order, the last frees, and each stack id's last address (valid
	 * when its gen is ref_gen). refs_broken: an allocation record of the
	 * chunk was damaged or not kept, so references no longer line up. */
	bool refs, refs_broken;
	uint64_t *allocs;
	size_t nalloc, allocs_cap;
	uint64_t freed[FD_REF_FREES];
	uint32_t nfreed, ref_gen;
	struct ref_stack *stk;
	size_t stk_cap;
	uint64_t *frames;
	size_t frames_cap;
	/* The record struct whose last contents were an event (SAMPLE, ALLOC,
	 * FREE, REALLOC): only the fields events set need clearing in it. */
	struct rd_rec *event_rec;
	ZSTD_DCtx *zd;
	char *damage; /* messages joined by "; " */
	unsigned nmessages, nsuppressed;
	/* The file's version, and what of it this reader did not know: a
	 * newer minor version's record kinds and chunk types, skipped. */
	unsigned major, minor;
	uint64_t unknown_recs, unknown_chunks;
};

static void damage(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void damage(struct reader *r, const char *fmt, ...)
{
	if (r->nmessages >= MAX_MESSAGES) {
		r->nsuppressed++;
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t old = r->damage ? strlen(r->damage) : 0;
	char *n = realloc(r->damage, old + strlen(msg) + 3);
	if (!n)
		return;
	if (old)
		memcpy(n + old, "; ", 3), old += 2;
	else
		n[0] = 0;
	strcpy(n + old, msg);
	r->damage = n;
	r->nmessages++;
}

static int read_at(struct reader *r, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = 0;
	if (fseeko(r->f, (off_t)off, SEEK_SET) != 0)
		return -errno;
	errno = 0;
	size_t n = fread(buf, 1, len, r->f);
	if (n < len && ferror(r->f))
		return errno ? -errno : -EIO; /* EISDIR for a directory, EIO for a bad disk */
	*got = n;
	return 0;
}

int reader_open_stream(struct reader **out, FILE *f, const char *name, char **err)
{
	*out = NULL;
	*err = NULL;
	struct reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->name = strdup(name))) {
		free(r);
		return -ENOMEM;
	}
	r->f = f;
	int rc = 0;
	if (fseeko(f, 0, SEEK_END) == 0) {
		off_t end = ftello(f);
		r->size = end > 0 ? (uint64_t)end : 0;
	}
	uint8_t h[FD_FILE_HEADER_SIZE];
	size_t got;
	if ((rc = read_at(r, 0, h, sizeof(h), &got)) < 0) {
		if (asprintf(err, "%s: cannot read: %s", name, strerror(-rc)) < 0)
			*err = NULL;
		goto fail;
	}
	if (got == 0) {
		rc = -EINVAL;
		if (asprintf(err, "%s: empty file, not a fathom dump", name) < 0)
			*err = NULL;
		goto fail;
	}
	if (got < sizeof(h) || memcmp(h, FD_MAGIC, FD_MAGIC_LEN) != 0) {
		rc = -EINVAL;
		if (asprintf(err, "%s: not a fathom dump", name) < 0)
			*err = NULL;
		goto fail;
	}
	unsigned major = fd_get_u16(h + 8), minor = fd_get_u16(h + 10);
	r->major = major;
	r->minor = minor;
	r->refs = major > 1 || minor >= 6;
	if (major > FD_VERSION_MAJOR || major == 0) {
		rc = -ENOTSUP;
		if (asprintf(err, "%s: dump format %u.%u is %s; this fathom reads format %u.x", name, major,
			     minor, major ? "newer than this fathom" : "not a released version",
			     FD_VERSION_MAJOR) < 0)
			*err = NULL;
		goto fail;
	}
	r->off = FD_FILE_HEADER_SIZE;
	if (!(r->zd = ZSTD_createDCtx())) {
		rc = -ENOMEM;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	if (!*err && rc != -ENOMEM && asprintf(err, "%s: %s", name, strerror(-rc)) < 0)
		*err = NULL;
	free(r->name);
	free(r);
	return rc;
}

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int reader_open(struct reader **out, const char *path, char **err)
{
	*out = NULL;
	*err = NULL;
	/* The reader seeks (to find the size, and to resynchronise after
	 * damage): it reads regular files only. O_NONBLOCK so that opening a
	 * FIFO without a writer, or a device, cannot hang before the check. */
	if (!strcmp(path, "-")) {
		if (asprintf(err,
			     "-: reading a dump from standard input is not supported; name the dump file "
			     "(./- for a file called '-')") < 0)
			*err = NULL;
		return -EINVAL;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int e = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (asprintf(err, "%s: %s", path, strerror(e)) < 0)
			*err = NULL;
	} else if (!S_ISREG(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		if (asprintf(err, "%s: %s, not a regular file: fathom reads dumps from regular files only",
			     path, file_type(st.st_mode)) < 0)
			*err = NULL;
	} else {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
			e = errno;
			if (asprintf(err, "%s: %s", path, strerror(e)) < 0)
				*err = NULL;
		}
	}
	FILE *f = e ? NULL : fdopen(fd, "rb");
	if (!f) {
		if (!e) {
			e = errno;
			if (asprintf(err, "%s: %s", path, strerror(e)) < 0)
				*err = NULL;
		}
		if (fd >= 0)
			close(fd);
		return -e;
	}
	int rc = reader_open_stream(out, f, path, err);
	if (rc < 0) {
		fclose(f);
		return rc;
	}
	(*out)->own = true;
	return 0;
}

void reader_close(struct reader *r)
{
	if (!r)
		return;
	if (r->own)
		fclose(r->f);
	ZSTD_freeDCtx(r->zd);
	free(r->stored);
	free(r->raw);
	free(r->frames);
	free(r->allocs);
	free(r->stk);
	free(r->damage);
	free(r->name);
	free(r);
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	uint8_t *b = realloc(*buf, n);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/* Checks the sizes a header claims before anything is allocated for them. */
static bool header_sane(const uint8_t *h)
{
	uint32_t payload = fd_get_u32(h + 12), raw = fd_get_u32(h + 16);
	if (raw > FD_CHUNK_MAX_RAW)
		return false;
	if (h[5] & FD_CHUNK_ZSTD)
		return payload <= ZSTD_compressBound(raw);
	return payload == raw;
}

/* The next offset at or after `at` that may hold data (not in a hole), or
 * r->size when only a hole follows; `at` itself when the file system cannot
 * tell. */
static uint64_t next_data(struct reader *r, uint64_t at)
{
	int fd = fileno(r->f);
	if (fd < 0)
		return at; /* fmemopen: no holes */
	/* The descriptor's offset is stdio's: put it back. */
	off_t saved = lseek(fd, 0, SEEK_CUR);
	off_t d = lseek(fd, (off_t)at, SEEK_DATA);
	int e = errno;
	if (saved >= 0)
		lseek(fd, saved, SEEK_SET);
	if (d < 0)
		return e == ENXIO ? r->size : at;
	return (uint64_t)d > r->size ? r->size : (uint64_t)d;
}

/* Follows zero bytes from `at` (the first byte not known to be zero) up to
 * `limit`: returns the offset of the first non-zero byte, r->size when
 * zeros reach the end of the file, or the offset where it stopped looking
 * (limit or beyond, then *gave_up is set). */
static uint64_t zeros_end(struct reader *r, uint64_t at, uint64_t limit, uint8_t *win, bool *gave_up)
{
	*gave_up = false;
	while (at < r->size) {
		uint64_t d = next_data(r, at);
		if (d > at) {
			at = d; /* a hole: zeros, without reading them */
			continue;
		}
		if (at >= limit) {
			*gave_up = true;
			return at;
		}
		size_t got;
		if (read_at(r, at, win, SCAN_WINDOW, &got) < 0 || got == 0)
			return r->size;
		for (size_t i = 0; i < got; i++)
			if (win[i])
				return at + i;
		at += got;
	}
	return r->size;
}

/* Where a scan for the next chunk header ended. */
struct scan {
	uint64_t found;	    /* the header's offset, or r->size */
	uint64_t zeros;	    /* when zeros ended the data: where they start, else r->size */
	uint64_t zeros_end; /* ... and where they were followed to */
	bool zeros_to_eof;  /* ... the rest of the file is zeros */
};

/* Looks for the next valid chunk header at or after `from`. It stops at a
 * run of zeros longer than ZERO_WINDOW: a dump has no such runs. */
static struct scan scan_for_header(struct reader *r, uint64_t from)
{
	struct scan sc = {r->size, r->size, r->size, false};
	uint8_t *win = malloc(SCAN_WINDOW);
	if (!win)
		return sc;
	uint64_t pos = from;
	while (pos + FD_CHUNK_HEADER_SIZE <= r->size) {
		uint64_t d = next_data(r, pos);
		size_t got = 0, zero_tail = 0;
		if (d == pos) {
			if (read_at(r, pos, win, SCAN_WINDOW, &got) < 0 || got < FD_CHUNK_HEADER_SIZE)
				break;
			size_t last = got - FD_CHUNK_HEADER_SIZE;
			for (size_t i = 0; i <= last; i++) {
				if (win[i] != 'F' || win[i + 1] != 'C' || win[i + 2] != 'N' ||
				    win[i + 3] != 'K')
					continue;
				if (fd_chunk_header_valid(win + i) && header_sane(win + i)) {
					sc.found = pos + i;
					goto out;
				}
			}
			while (zero_tail < got && !win[got - 1 - zero_tail])
				zero_tail++;
		}
		/* A hole at pos, or the window ends in zeros: follow them. */
		if (d > pos || zero_tail >= FD_CHUNK_HEADER_SIZE) {
			uint64_t start = pos + got - zero_tail;
			bool gave_up;
			uint64_t end = zeros_end(r, pos + got, start + ZERO_WINDOW, win, &gave_up);
			if (end >= r->size || gave_up || end - start > ZERO_WINDOW) {
				sc.zeros = start;
				sc.zeros_end = end;
				sc.zeros_to_eof = end >= r->size && !gave_up;
				break;
			}
			pos = end; /* a header starts with its magic, never with zeros */
			continue;
		}
		pos += got - FD_CHUNK_HEADER_SIZE + 1;
	}
out:
	free(win);
	return sc;
}

static const char *after_what(struct reader *r, char *buf, size_t len)
{
	if (r->any_good)
		snprintf(buf, len, "after chunk %" PRIu32, r->last_good);
	else
		snprintf(buf, len, "before the first chunk");
	return buf;
}

/* CRC-32C by slicing-by-8: the same function as fd_crc32c, several times
 * faster, which matters because the reader checksums every byte of a dump. */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] =
			    (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint32_t crc32c_fast(const uint8_t *p, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_init);
	uint32_t c = ~0u;
	while (len && ((uintptr_t)p & 7)) {
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo =
		    c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi =
		    (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^
		    crc_table[2][(hi >> 8) & 0xff] ^ crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return ~c;
}

/* Loads the next good chunk into r->raw. Returns 1, 0 at the end, or -errno. */
static int load_chunk(struct reader *r)
{
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	char what[64];
	for (;;) {
		size_t got;
		int rc = read_at(r, r->off, h, sizeof(h), &got);
		if (rc < 0)
			return rc;
		if (got == 0)
			return 0;
		if (got < sizeof(h)) {
			damage(r, "truncated %s (crash?)", after_what(r, what, sizeof(what)));
			r->truncated = true;
			r->off = r->size;
			return 0;
		}
		if (!fd_chunk_header_valid(h) || !header_sane(h)) {
			/* The header here is invalid: scanning from here finds the next one. */
			struct scan sc = scan_for_header(r, r->off);
			if (sc.zeros < r->size) {
				/* Zeros where data should go on: the data ended there. */
				if (sc.zeros > r->off)
					damage(r,
					       "%" PRIu64 " damaged bytes at offset %" PRIu64 " %s skipped",
					       sc.zeros - r->off, r->off, after_what(r, what, sizeof(what)));
				if (sc.zeros_to_eof)
					damage(r,
					       "data ends at byte %" PRIu64 "; the rest (%" PRIu64
					       " bytes) is zeros (a preallocated or sparse file?)",
					       sc.zeros, r->size - sc.zeros);
				else
					damage(r,
					       "data ends at byte %" PRIu64 "; the rest (%" PRIu64
					       " bytes) starts with %" PRIu64
					       " bytes of zeros and was not read"
					       " (a preallocated or sparse file?)",
					       sc.zeros, r->size - sc.zeros, sc.zeros_end - sc.zeros);
				r->truncated = true;
				r->off = r->size;
				return 0;
			}
			uint64_t skipped = sc.found - r->off;
			if (sc.found >= r->size) {
				damage(r, "%" PRIu64 " unreadable bytes at the end %s (truncated or damaged)",
				       skipped, after_what(r, what, sizeof(what)));
				r->truncated = true;
			} else
				damage(r, "%" PRIu64 " damaged bytes at offset %" PRIu64 " %s skipped",
				       skipped, r->off, after_what(r, what, sizeof(what)));
			r->off = sc.found;
			continue;
		}
		uint32_t seq = fd_get_u32(h + 8), payload_len = fd_get_u32(h + 12),
			 raw_len = fd_get_u32(h + 16);
		uint64_t chunk_end = r->off + FD_CHUNK_HEADER_SIZE + payload_len;
		if (chunk_end > r->size) {
			damage(r, "truncated %s, inside chunk %" PRIu32 " (crash?)",
			       after_what(r, what, sizeof(what)), seq);
			r->truncated = true;
			r->off = r->size;
			return 0;
		}
		if (seq > r->expect_seq)
			damage(r, "chunks %" PRIu32 "-%" PRIu32 " missing", r->expect_seq, seq - 1);
		r->expect_seq = seq + 1;
		if ((rc = grow(&r->stored, &r->stored_cap, payload_len ? payload_len : 1)) < 0)
			return rc;
		if ((rc = read_at(r, r->off + FD_CHUNK_HEADER_SIZE, r->stored, payload_len, &got)) < 0)
			return rc;
		r->off = chunk_end;
		if (got < payload_len) {
			damage(r, "truncated inside chunk %" PRIu32 " (crash?)", seq);
			r->truncated = true;
			r->off = r->size;
			return 0;
		}
		if (h[4] != FD_CHUNK_RECORDS && h[4] != FD_CHUNK_SYMBOLS) {
			r->unknown_chunks++; /* a chunk type from a newer minor version */
			continue;
		}
		if (crc32c_fast(r->stored, payload_len) != fd_get_u32(h + 20)) {
			r->nbad++;
			damage(r, "chunk %" PRIu32 " corrupt (checksum), skipped", seq);
			continue;
		}
		const uint8_t *data = r->stored;
		if (h[5] & FD_CHUNK_ZSTD) {
			if ((rc = grow(&r->raw, &r->raw_cap, raw_len ? raw_len : 1)) < 0)
				return rc;
			size_t n = ZSTD_decompressDCtx(r->zd, r->raw, raw_len, r->stored, payload_len);
			if (ZSTD_isError(n) || n != raw_len) {
				r->nbad++;
				damage(r, "chunk %" PRIu32 " corrupt (%s), skipped", seq,
				       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong decoded size");
				continue;
			}
			data = r->raw;
		}
		r->p = r->chunk_base = data;
		r->end = data + raw_len;
		r->chunk_seq = seq;
		r->in_chunk = true;
		r->sym_chunk = h[4] == FD_CHUNK_SYMBOLS;
		r->nchunks++;
		r->any_good = true;
		r->last_good = seq;
		r->cur_tid = 0;
		r->prev_seq = r->prev_ptr = r->prev_time = 0;
		r->nalloc = r->nfreed = 0;
		r->refs_broken = false;
		if (++r->ref_gen == 0) {
			if (r->stk)
				memset(r->stk, 0, r->stk_cap * sizeof(*r->stk));
			r->ref_gen = 1;
		}
		return 1;
	}
}

/* A cursor over one record's body: every read is bounded by its end. */
struct body {
	const uint8_t *p, *end;
	bool bad;
};

static inline uint64_t u_slow(struct body *b)
{
	uint64_t v = 0;
	if (!b->bad && fd_get_varint(&b->p, b->end, &v) < 0) {
		b->bad = true;
		b->p = b->end; /* so that the fast path below reads nothing more */
	}
	return b->bad ? 0 : v;
}

/* Most varints of a dump are one byte (deltas, ids, small sizes): those take
 * no call and no loop. After damage the values read are meaningless, and the
 * caller drops the record because b->bad is set. */
static inline uint64_t u(struct body *b)
{
	if (b->p < b->end && *b->p < 0x80)
		return *b->p++;
	return u_slow(b);
}

static int64_t zz(struct body *b)
{
	return fd_unzigzag(u(b));
}

static struct rd_bytes str(struct body *b)
{
	struct rd_bytes s = {NULL, 0};
	uint64_t len = u(b);
	if (b->bad || len > (uint64_t)(b->end - b->p)) {
		b->bad = true;
		return s;
	}
	s.p = b->p;
	s.len = (size_t)len;
	b->p += len;
	return s;
}

static int to_int(struct body *b, uint64_t v)
{
	if (v > INT_MAX)
		b->bad = true;
	return (int)(v & INT_MAX);
}

/* The address an ALLOC_AT names (since 1.6); sets b->bad when it names
 * nothing known. */
static uint64_t alloc_at(struct reader *r, struct body *b, uint64_t id)
{
	uint64_t at = u(b);
	if (at == 0) {
		int64_t d = zz(b);
		if (id < r->stk_cap && r->stk[id].gen == r->ref_gen)
			return r->stk[id].ptr + (uint64_t)d;
	} else if (at <= FD_REF_FREES && at <= r->nfreed) {
		return r->freed[(r->nfreed - at) % FD_REF_FREES];
	}
	b->bad = true;
	return 0;
}

/* The block a FREE_REF names (since 1.6). */
static uint64_t free_ref(struct reader *r, struct body *b)
{
	uint64_t back = u(b);
	if (back == 0 || back > r->nalloc || r->refs_broken) {
		b->bad = true;
		return 0;
	}
	return r->allocs[r->nalloc - back];
}

/* Keeps what later references of the chunk may name. Returns false when
 * it cannot (memory): the references after it are then refused. */
static bool note_refs(struct reader *r, int kind, uint64_t id, uint64_t ptr)
{
	if (kind == FD_REC_FREE || kind == FD_REC_FREE_REF) {
		r->freed[r->nfreed++ % FD_REF_FREES] = ptr;
		return true;
	}
	if (r->nalloc == r->allocs_cap) {
		size_t cap = r->allocs_cap ? r->allocs_cap * 2 : 4096;
		uint64_t *a = realloc(r->allocs, cap * sizeof(*a));
		if (!a)
			return false;
		r->allocs = a;
		r->allocs_cap = cap;
	}
	r->allocs[r->nalloc++] = ptr;
	if (kind == FD_REC_REALLOC || id >= FD_REF_MAX_STACK)
		return true;
	if (id >= r->stk_cap) {
		size_t cap = r->stk_cap ? r->stk_cap : 1024;
		while (cap <= id)
			cap *= 2;
		struct ref_stack *k = realloc(r->stk, cap * sizeof(*k));
		if (!k)
			return false;
		memset(k + r->stk_cap, 0, (cap - r->stk_cap) * sizeof(*k));
		r->stk = k;
		r->stk_cap = cap;
	}
	r->stk[id] = (struct ref_stack){ptr, r->ref_gen};
	return true;
}

/* Decodes an event's body: the one decoder of events, for reader_events()
 * and reader_next(). FREE_REF and ALLOC_AT come out as FREE and ALLOC.
 * Returns false when the body is malformed; the chunk's delta bases
 * advance only when it is not. */
static inline bool decode_event(struct reader *r, struct body *b, int kind, struct rd_event *ev)
{
	uint64_t seq = 0, ptr = 0, old = 0, id = 0, size = 0, time = 0, weight = 0, ns = 0, at_end = 0,
		 agent = 0;
	if (kind == FD_REC_SAMPLE) {
		time = r->prev_time + (uint64_t)zz(b);
		id = u(b);
		weight = u(b);
		if (b->p < b->end)
			ns = u(b); /* since 1.2: the exact CPU time it stands for */
		if (b->p < b->end)
			at_end = u(b); /* since 1.2: charged at the thread's end */
		if (b->p < b->end)
			agent = u(b); /* since 1.3: the agent's own work */
	} else {
		seq = r->prev_seq + (uint64_t)zz(b);
		if (kind == FD_REC_FREE_REF) {
			ptr = free_ref(r, b);
		} else {
			if (kind != FD_REC_FREE) {
				id = u(b);
				size = u(b);
			}
			if (kind == FD_REC_ALLOC_AT)
				ptr = alloc_at(r, b, id);
			else
				ptr = r->prev_ptr + (uint64_t)zz(b);
			if (kind == FD_REC_REALLOC) {
				old = ptr;
				ptr += (uint64_t)zz(b);
			}
		}
	}
	if (b->bad) {
		if (kind != FD_REC_SAMPLE)
			r->refs_broken = true;
		return false;
	}
	if (kind != FD_REC_SAMPLE && r->refs && !note_refs(r, kind, id, ptr))
		r->refs_broken = true;
	int out = kind == FD_REC_FREE_REF ? FD_REC_FREE : kind == FD_REC_ALLOC_AT ? FD_REC_ALLOC : kind;
	*ev = (struct rd_event){out, r->cur_tid, id, seq, ptr, old, size, time, weight, ns, at_end, agent};
	if (kind == FD_REC_SAMPLE) {
		r->prev_time = time;
	} else {
		r->prev_seq = seq;
		r->prev_ptr = ptr;
	}
	return true;
}

/* Whether records of this kind are events (decode_event). */
static inline bool is_event(int kind)
{
	return kind == FD_REC_SAMPLE || kind == FD_REC_ALLOC || kind == FD_REC_FREE ||
	       kind == FD_REC_REALLOC || kind == FD_REC_FREE_REF || kind == FD_REC_ALLOC_AT;
}

/* MAP, UNMAP and REMAP (fathom-dump.h); the delta bases advance only when
 * the body is whole. */
static bool decode_map(struct reader *r, struct body *b, struct rd_rec *rec)
{
	uint64_t seq = r->prev_seq + (uint64_t)zz(b), ptr;
	rec->tid = r->cur_tid;
	rec->seq = seq;
	rec->old_ptr = rec->old_size = rec->prot = rec->flags = rec->offset = 0;
	rec->map_kind = 0;
	rec->path = (struct rd_bytes){NULL, 0};
	if (rec->kind == FD_REC_MAP) {
		rec->id = u(b);
		ptr = r->prev_ptr + (uint64_t)zz(b);
		rec->size = u(b);
		rec->map_kind = u(b);
		rec->prot = u(b);
		rec->flags = u(b);
		rec->offset = u(b);
		rec->time = u(b);
		rec->path = str(b);
	} else if (rec->kind == FD_REC_UNMAP) {
		rec->id = 0;
		ptr = r->prev_ptr + (uint64_t)zz(b);
		rec->size = u(b);
		rec->time = u(b);
		rec->map_kind = u(b);
	} else {
		rec->id = u(b);
		rec->old_ptr = r->prev_ptr + (uint64_t)zz(b);
		rec->old_size = u(b);
		ptr = rec->old_ptr + (uint64_t)zz(b);
		rec->size = u(b);
		rec->flags = u(b);
		rec->time = u(b);
	}
	rec->ptr = ptr;
	if (b->bad)
		return false;
	r->prev_seq = seq;
	r->prev_ptr = ptr;
	return true;
}

/* Decodes one body; returns false when it is malformed. */
static bool decode(struct reader *r, struct body *b, struct rd_rec *rec)
{
	switch (rec->kind) {
	case FD_REC_HEADER:
		rec->pid = to_int(b, u(b));
		rec->ppid = to_int(b, u(b));
		rec->start_real_ns = u(b);
		rec->start_mono_ns = u(b);
		rec->hz = u(b);
		rec->clock = to_int(b, u(b));
		rec->alloc_mode = to_int(b, u(b));
		rec->alloc_sample_bytes = u(b);
		rec->exe = str(b);
		rec->cmdline = str(b);
		rec->generation = u(b);
		rec->wait_threshold_ns = 0;
		if (b->p < b->end) /* since 1.4 */
			rec->wait_threshold_ns = u(b);
		break;
	case FD_REC_MODULE:
		rec->id = u(b);
		rec->bias = u(b);
		rec->start = u(b);
		rec->end = u(b);
		rec->path = str(b);
		rec->build_id = str(b);
		rec->time = u(b);
		break;
	case FD_REC_UNLOAD:
		rec->id = u(b);
		rec->time = u(b);
		break;
	case FD_REC_THREAD:
		rec->tid = to_int(b, u(b));
		rec->time = u(b);
		rec->name = str(b);
		break;
	case FD_REC_THREAD_END:
		rec->tid = to_int(b, u(b));
		rec->time = u(b);
		if (b->p < b->end) { /* since 1.2 */
			rec->cpu_ns = u(b);
			rec->has_cpu = true;
		}
		if (b->p < b->end) { /* since 1.7 */
			rec->run_ns = u(b);
			rec->runq_ns = u(b);
			rec->has_sched = true;
		}
		break;
	case FD_REC_STACK: {
		rec->id = u(b);
		uint64_t n = u(b);
		/* Every address takes at least one byte: this bounds the buffer. */
		if (b->bad || n > (uint64_t)(b->end - b->p))
			return false;
		if (n * sizeof(uint64_t) > r->frames_cap * sizeof(uint64_t)) {
			size_t cap = r->frames_cap ? r->frames_cap : 64;
			while (cap < n)
				cap *= 2;
			uint64_t *f = realloc(r->frames, cap * sizeof(uint64_t));
			if (!f)
				return false;
			r->frames = f;
			r->frames_cap = cap;
		}
		uint64_t a = 0;
		for (uint64_t i = 0; i < n; i++) {
			a = i ? a + (uint64_t)zz(b) : u(b);
			r->frames[i] = a;
		}
		rec->nframes = (uint32_t)n;
		rec->frames = r->frames;
		break;
	}
	case FD_REC_TID:
		rec->tid = to_int(b, u(b));
		if (!b->bad)
			r->cur_tid = rec->tid;
		break;
	case FD_REC_SAMPLE:
	case FD_REC_ALLOC:
	case FD_REC_FREE:
	case FD_REC_REALLOC:
	case FD_REC_FREE_REF:
	case FD_REC_ALLOC_AT: {
		struct rd_event ev;
		if (!decode_event(r, b, rec->kind, &ev))
			return false;
		rec->kind = ev.kind;
		rec->tid = ev.tid;
		rec->id = ev.id;
		rec->seq = ev.seq;
		rec->ptr = ev.ptr;
		rec->old_ptr = ev.old_ptr;
		rec->size = ev.size;
		rec->time = ev.time;
		rec->weight = ev.weight;
		rec->ns = ev.ns;
		rec->at_end = ev.at_end;
		rec->agent = ev.agent;
		return true;
	}
	case FD_REC_TICK:
		rec->time = u(b);
		rec->seq = u(b);
		rec->rss = u(b);
		rec->heap = u(b);
		rec->rss_file = UINT64_MAX;
		if (b->p < b->end) /* since 1.4 */
			rec->rss_file = u(b);
		break;
	case FD_REC_MAP: /* since 1.4: mappings share the allocation events' bases */
	case FD_REC_UNMAP:
	case FD_REC_REMAP:
		return decode_map(r, b, rec);
	case FD_REC_LOST:
		rec->what = u(b);
		rec->count = u(b);
		if (b->p < b->end)
			rec->why = str(b);
		break;
	case FD_REC_NOTE:
		rec->what = u(b);
		rec->why = str(b);
		break;
	case FD_REC_PYCODE:
	case FD_REC_PYTHON: /* since 1.3: the body whole, for python.c */
		rec->path = (struct rd_bytes){b->p, (size_t)(b->end - b->p)};
		b->p = b->end;
		break;
	case FD_REC_WAIT: /* since 1.4 */
		rec->time = r->prev_time + (uint64_t)zz(b);
		rec->id = u(b);
		rec->ns = u(b);
		rec->reason = u(b);
		rec->object = u(b);
		rec->fd_kind = u(b);
		rec->weight = u(b);
		rec->tid = r->cur_tid;
		if (!b->bad)
			r->prev_time = rec->time;
		break;
	case FD_REC_HOLD: /* since 1.4 */
		rec->object = u(b);
		rec->id = u(b);
		rec->ns = u(b);
		rec->weight = u(b);
		rec->tid = r->cur_tid;
		break;
	case FD_REC_WINDOW: /* since 1.4 */
		rec->time = u(b);
		rec->what = u(b);
		rec->seq = u(b);
		rec->id = u(b);
		rec->name = str(b);
		break;
	case FD_REC_PERFMAP: /* since 1.5 */
		rec->what = u(b);
		if (rec->what == FD_PERFMAP_TEXT) {
			rec->offset = u(b);
			rec->name = str(b);
		} else {
			rec->perfmap.state = u(b);
			rec->size = u(b);
			rec->perfmap.mtime_ns = u(b);
			rec->perfmap.btime_ns = u(b);
			rec->perfmap.start_ns = u(b);
			rec->offset = u(b);
			rec->perfmap.recorded = u(b);
			rec->perfmap.cut = u(b);
			rec->path = str(b);
		}
		break;
	case FD_REC_TRAILER:
		rec->time = u(b);
		rec->samples = u(b);
		rec->sample_weight = u(b);
		rec->lost_samples = u(b);
		rec->alloc_events = u(b);
		rec->reason = u(b);
		if (b->p < b->end) { /* since 1.2 */
			rec->cpu_ns = u(b);
			rec->agent_cpu_ns = u(b);
			rec->has_cpu = true;
		}
		rec->end_signal = 0;
		if (b->p < b->end) /* since 1.4 */
			rec->end_signal = u(b);
		break;
	default:
		return true;
	}
	return !b->bad;
}

int reader_next(struct reader *r, struct rd_rec *rec)
{
	for (;;) {
		if (!r->in_chunk) {
			if (r->at_eof)
				return 0;
			int rc = load_chunk(r);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				r->at_eof = true;
				if (!r->any_good && !r->damage)
					damage(r, "no data (the program ended before the first flush?)");
				else if (!r->complete && r->truncated)
					damage(r, "no trailer — the last ~50 ms may be missing");
				else if (!r->complete)
					damage(r,
					       "truncated after chunk %" PRIu32
					       " (killed?); no trailer — the last ~50 ms may be missing",
					       r->last_good);
				if (r->unknown_recs || r->unknown_chunks)
					damage(r,
					       "%" PRIu64 " records and %" PRIu64
					       " chunks of kinds this fathom does not know were skipped "
					       "(dump format "
					       "%u.%u, this fathom's %u.%u): figures may be incomplete; read "
					       "it with "
					       "the fathom that wrote it",
					       r->unknown_recs, r->unknown_chunks, r->major, r->minor,
					       FD_VERSION_MAJOR, FD_VERSION_MINOR);
				if (r->nsuppressed) {
					unsigned n = r->nsuppressed;
					r->nsuppressed = 0;
					r->nmessages = 0;
					damage(r, "and %u more problems", n);
				}
				return 0;
			}
		}
		if (r->p >= r->end) {
			r->in_chunk = false;
			continue;
		}
		if (r->sym_chunk) {
			memset(rec, 0, sizeof(*rec));
			r->event_rec = NULL;
			rec->kind = RD_SYMBOLS;
			rec->chunk = r->chunk_seq;
			rec->path = (struct rd_bytes){r->p, (size_t)(r->end - r->p)};
			r->p = r->end;
			return 1;
		}
		size_t at = (size_t)(r->p - r->chunk_base);
		int kind = *r->p++;
		uint64_t len;
		if (r->p < r->end && *r->p < 0x80) {
			len = *r->p++;
		} else if (fd_get_varint(&r->p, r->end, &len) < 0) {
			len = UINT64_MAX;
		}
		if (len > (uint64_t)(r->end - r->p)) {
			damage(r, "chunk %" PRIu32 ": damaged record at byte %zu, rest of chunk skipped",
			       r->chunk_seq, at);
			r->in_chunk = false;
			continue;
		}
		struct body b = {r->p, r->p + len, false};
		r->p += len;
		if (kind < FD_REC_HEADER || kind > FD_REC_MAX) {
			r->unknown_recs++; /* a newer minor version's kind: skipped by length */
			continue;
		}
		/* Clearing the whole struct for every record was a third of the
		 * time of reading an allocation-heavy dump: after an event, only
		 * the fields events set are cleared. */
		bool event = is_event(kind);
		if (event && rec == r->event_rec) {
			rec->tid = 0;
			rec->time = rec->id = rec->seq = rec->ptr = rec->old_ptr = rec->size = rec->weight =
			    0;
		} else {
			memset(rec, 0, sizeof(*rec));
		}
		r->event_rec = event ? rec : NULL;
		rec->kind = kind;
		rec->chunk = r->chunk_seq;
		if (!decode(r, &b, rec)) {
			damage(r, "chunk %" PRIu32 ": damaged record (kind %d) at byte %zu, skipped",
			       r->chunk_seq, rec->kind, at);
			continue;
		}
		if (rec->kind == FD_REC_TRAILER)
			r->complete = true;
		return 1;
	}
}

size_t reader_events(struct reader *r, struct rd_event *ev, size_t max)
{
	if (!r->in_chunk || r->sym_chunk)
		return 0;
	/* The reader's position in a local: nothing in the loop can alias it. */
	const uint8_t *p = r->p, *end = r->end;
	size_t n = 0;
	while (n < max && end - p >= 2) {
		int kind = p[0];
		size_t len = p[1];
		bool event = is_event(kind);
		/* A length of more than one byte is not worth a fast path. */
		if (!event || len >= 0x80 || len > (size_t)(end - p - 2))
			break;
		struct body b = {p + 2, p + 2 + len, false};
		if (!decode_event(r, &b, kind, &ev[n]))
			break;
		p += 2 + len;
		n++;
	}
	r->p = p;
	return n;
}

const char *reader_damage(const struct reader *r)
{
	return r->damage;
}

bool reader_complete(const struct reader *r)
{
	return r->complete;
}

uint64_t reader_offset(const struct reader *r)
{
	return r->off;
}

uint64_t reader_size(const struct reader *r)
{
	return r->size;
}

uint32_t reader_chunks(const struct reader *r)
{
	return r->nchunks;
}

uint32_t reader_bad_chunks(const struct reader *r)
{
	return r->nbad;
}
